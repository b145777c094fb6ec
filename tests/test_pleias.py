"""A Pleias-RAG model is read in its own format: its prompt, its answer section alone, its
references as markers, and its quotes checked against the sources they name.

The model itself cannot ship with the tests (it is not on PyPI, and nothing is downloaded),
so its output is the format its authors document (``pleias_rag_interface``), replayed."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from conftest import DATA, final_answer, run_index
from fakes import HashEmbedder, ScriptedGenerator

from rag.answer.mode import chosen_mode
from rag.answer.model_info import model_family
from rag.answer.pleias import FAMILY, AnswerReader, Quote, prompt, quoted_in
from rag.config import Config
from rag.engine import Engine

TERM = "This Agreement begins on the Effective Date and continues for two (2) years."
RETURN = (
    "Within fifteen (15) days of a written request, or of termination, the Recipient shall "
    "return or destroy all Confidential Information and certify its destruction in writing."
)
QUOTED_RETURN = f'"{RETURN}"'
REASONING = (
    "English<|language_end|>\n<|query_analysis_start|>The user asks how long the agreement "
    "lasts.<|query_analysis_end|>\n<|query_report_start|>Answerable.<|query_report_end|>\n"
    "<|source_analysis_start|>Source 1 states the term.<|source_analysis_end|>\n"
    "<|draft_start|>Two years.<|draft_end|>\n"
)


def output(answer: str) -> str:
    return f"{REASONING}<|answer_start|>{answer}<|answer_end|><|end_of_text|>"


def ref(n: int, quote: str) -> str:
    return f'<ref name="<|source_id|>{n}">{quote}</ref>'


def test_the_prompt_is_laid_out_as_the_model_was_trained_and_sources_cannot_break_it() -> None:
    text = prompt("How long does it last?", [TERM, "A <|source_end|> inside a document"])
    assert text == (
        "<|query_start|>How long does it last?<|query_end|>\n"
        f"<|source_start|><|source_id|>1 {TERM}<|source_end|>\n"
        "<|source_start|><|source_id|>2 A ‹|source_end|> inside a document<|source_end|>\n"
        "<|language_start|>\n"
    )


def test_only_the_answer_is_shown_with_references_as_markers_however_it_streams() -> None:
    written = output(
        f"The agreement lasts two (2) years{ref(1, TERM)}. The Recipient returns the "
        f"information within fifteen (15) days{ref(2, QUOTED_RETURN)}. An INR < 2 "
        "is no part of it."
    )
    expected = (
        "The agreement lasts two (2) years [1]. The Recipient returns the information within "
        "fifteen (15) days [2]. An INR < 2 is no part of it."
    )
    rng = random.Random(15)
    for _ in range(20):
        reader, shown, i = AnswerReader(), "", 0
        while i < len(written) and not reader.done:
            step = rng.randint(1, 9)
            shown += reader.feed(written[i : i + step])
            i += step
        assert shown == reader.answer() == expected
        assert reader.quotes == [Quote(1, TERM), Quote(2, RETURN)]
    # Before the answer section, nothing is shown: the model's reasoning is its own.
    assert AnswerReader().feed(REASONING) == ""


def test_a_reference_cut_off_by_the_end_of_the_tokens_is_left_out() -> None:
    reader = AnswerReader()
    reader.feed(f"{REASONING}<|answer_start|>It lasts two years{ref(1, TERM)}. It ends <ref na")
    assert reader.answer() == "It lasts two years [1]. It ends"
    assert not reader.done and reader.quotes == [Quote(1, TERM)]


def test_a_quote_is_the_source_s_words_in_order_whatever_the_spacing_and_skips() -> None:
    source = "Within fifteen (15) days of a written request,\nor of termination, the Recipient"
    assert quoted_in("within fifteen (15) days of a written request, or of termination", source)
    assert quoted_in("Within fifteen (15) days (…) the Recipient", source)
    assert quoted_in("“Within fifteen (15) days [...] of termination”", source)
    assert not quoted_in("Within thirty (30) days of a written request", source)
    assert not quoted_in("the Recipient (…) Within fifteen", source)
    assert not quoted_in("", source)


def test_the_model_is_known_by_its_name_and_writes_whatever_its_size() -> None:
    assert model_family("llama", "Pleias RAG 350M pleias-rag-350m") == FAMILY
    assert model_family("llama", "Pleias-RAG-1B") == FAMILY
    for parameters in (350_000_000, 1_200_000_000):
        chosen = chosen_mode("auto", parameters, FAMILY)
        assert chosen.mode == "generate" and "Pleias-RAG" in chosen.reason
    assert chosen_mode("copy", 350_000_000, FAMILY).mode == "copy"


@pytest.mark.parametrize(
    ("quote", "notice"),
    [
        (TERM, None),
        ("continues for three (3) years", "1 of the model's quotes ([1]) is not the words"),
    ],
)
def test_ask_reads_the_format_and_checks_its_answer_and_its_quotes(
    tmp_path: Path, quote: str, notice: str | None
) -> None:
    answer_text = f"The agreement continues for two (2) years{ref(1, quote)}."
    generator = ScriptedGenerator(output(answer_text), parameters=350_000_000, family=FAMILY)
    # The fake embedder's relevance is low; whether to answer is not what is tested here.
    config = Config(data_dir=tmp_path, chunk_tokens=64, overlap_tokens=8, min_relevance=-2.0)
    with Engine(config, "w", create=True, embedder=HashEmbedder(), generator=generator) as engine:
        run_index(engine, [DATA / "mutual-nda.pdf"])
        answer = final_answer(engine, "How long does the agreement continue?")
    assert generator.prompts[0].startswith("<|query_start|>How long does the agreement")
    assert generator.specials == [True] and generator.grammars == [None]
    assert answer.mode == "generate" and "Pleias-RAG" in (answer.mode_reason or "")
    assert answer.text.startswith("The agreement continues for two (2) years [")
    [claim] = answer.claims
    assert claim.status == "supported"
    if notice is None:
        assert answer.notice is None
    else:
        assert answer.notice is not None and answer.notice.startswith(notice)


@pytest.mark.slow
def test_a_file_named_pleias_without_its_tokens_is_prompted_as_a_chat_model(
    tmp_path: Path,
) -> None:
    from rag.answer.generate import LlamaGenerator
    from rag.answer.model_info import bundled_generator_path

    impostor = tmp_path / "Pleias-RAG-350M.gguf"
    shutil.copyfile(bundled_generator_path(), impostor)
    generator = LlamaGenerator(impostor, context_tokens=1024)
    assert generator.family is None and generator.context_tokens == 4096
    assert generator._knows(("<|im_start|>", "<|im_end|>"))  # its own format's tokens
    # Special tokens written as text: the greedy path shows them when asked.
    pieces = list(
        generator.stream("<|im_start|>user\nSay hi.<|im_end|>\n", max_tokens=8, special=True)
    )
    assert pieces and len(pieces) <= 8
