"""Prose: a capable model's short summary over a document's key points, checked like any
answer.

Only with a model the user brings (``Config.generator_model``) in generate mode:
the bundled 135M model copies a sentence, it does not summarize. The model reads
the points, numbered as sources; each sentence it writes is checked against them
(``rag.answer.verify``) and only the supported ones are kept, with the markers of
the points that hold them. When none is supported there is no prose, and the
points stand alone.
"""

from __future__ import annotations

from rag.answer.cite import clean_markers, mark_claims
from rag.answer.evidence import split_sources
from rag.answer.generate import Generator, answer_stream
from rag.answer.prompt import SUMMARY_INSTRUCTION, fit_prompt
from rag.answer.verify import check_claims
from rag.digest.records import Summary
from rag.embed.protocol import Embedder
from rag.types import Hit, Passage

REQUEST = "What are the key points of this document?"


def write_prose(
    summary: Summary, *, generator: Generator, embedder: Embedder, answer_tokens: int
) -> str | None:
    """The model's summary of ``summary``'s points, its unsupported sentences left out;
    None if it wrote no supported sentence."""
    points = [
        Hit(Passage(n, p.path, p.page, p.start, p.end, p.text), 1.0)
        for n, p in enumerate(summary.points, 1)
    ]
    if not points:
        return None
    prompt, read = fit_prompt(
        REQUEST, points, generator, answer_tokens=answer_tokens, instruction=SUMMARY_INSTRUCTION
    )
    pieces, _ = answer_stream(generator, prompt, max_tokens=answer_tokens)
    text, _ = clean_markers("".join(pieces), len(read))
    claims = check_claims(text, REQUEST, split_sources(read, embedder), embedder)
    kept = mark_claims(text, claims, strict=True).strip()
    return kept if kept and any(c.status == "supported" for c in claims) else None
