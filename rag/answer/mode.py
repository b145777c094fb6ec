"""Mode: how an answer is made, chosen from the setting and the model's size.

A model under about 1B parameters, such as the bundled SmolLM2-135M, writing freely
is usually wrong, so it copies its answer from a key passage (``rag.answer.copied``).
A larger model writes freely, and each of its sentences is checked
(``rag.answer.verify``). So does a Pleias-RAG model of any size: it was trained to
quote its sources in a format of its own (``rag.answer.pleias``). The setting can force
any mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer import pleias
from rag.answer.model_info import format_parameters
from rag.types import AnswerMode, AnswerSetting

# Models with fewer parameters than this copy their answers when the setting is "auto".
COPY_BELOW_PARAMETERS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ChosenMode:
    """The mode an answer is made in, and why, in words for the settings and ``--json``."""

    mode: AnswerMode
    reason: str


def chosen_mode(
    setting: AnswerSetting, parameters: int | None, family: str | None = None
) -> ChosenMode:
    """The mode for ``setting`` with a model of ``parameters`` (None: not known) and
    ``family`` (``rag.answer.model_info``)."""
    if setting != "auto":
        return ChosenMode(setting, f"the setting asks for {setting!r} answers")
    if family == pleias.FAMILY:
        return ChosenMode(
            "generate", "Pleias-RAG quotes its sources as it writes: it writes, checked"
        )
    if parameters is None:
        return ChosenMode("generate", "the model's size is not known: it writes, checked")
    size = format_parameters(parameters)
    if parameters < COPY_BELOW_PARAMETERS:
        return ChosenMode("copy", f"the model has {size} parameters, under 1B: it copies")
    return ChosenMode("generate", f"the model has {size} parameters: it writes, checked")
