"""A question across documents in the chat: "Which agreements can be terminated for
convenience?" (``rag.answer.requests`` recognizes it).

It is answered as a one-column review: each document of the workspace is searched on
its own for what the question asks ("can be terminated for convenience"), and each one
with a passage relevant enough to answer (the engine's own threshold, as for any
question) is named, with that passage quoted and cited. No model writes the list, so
it can name no document and no section that is not there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from rag.answer.evidence import key_passages, quoted
from rag.answer.respond import retrieve
from rag.config import Config
from rag.embed.protocol import Embedder
from rag.store.database import Store
from rag.types import Answer, Citation, Evidence


class Searchable(Protocol):
    """What a question across documents needs of the engine (``rag.engine.Engine``)."""

    @property
    def config(self) -> Config: ...
    @property
    def store(self) -> Store: ...
    @property
    def embedder(self) -> Embedder: ...


def matching_passages(engine: Searchable, searched: str, paths: Sequence[str]) -> list[Citation]:
    """The best passage of each document of ``paths`` that answers ``searched``, numbered
    in the order of ``paths``; a document with no relevant passage has none."""
    found: list[Citation] = []
    for document in paths:
        read = retrieve(
            searched, engine.store, engine.embedder, document=document, k=engine.config.top_k
        )
        relevance = read.relevance
        if relevance is None or relevance.score < engine.config.min_relevance:
            continue
        keys = key_passages(read.query, read.hits, read.sentences, relevance.weights, limit=1)
        if keys:
            found.append(replace(keys[0], n=len(found) + 1))
    return found


def answer_across(
    engine: Searchable, question: str, searched: str, paths: Sequence[str]
) -> Iterator[Evidence | str | Answer]:
    """``Engine.ask``'s items for a question across ``paths``: the evidence, the text, and
    the ``Answer`` naming each matching document with its passage."""
    citations = tuple(matching_passages(engine, searched, paths))
    read_as = f"a review of {len(paths)} documents for: {searched}"
    yield Evidence(citations, citations, read_as)
    if citations:
        lines = [f"{c.n}. {Path(c.path).name}: {quoted(c)} [{c.n}]" for c in citations]
        text = f"Documents with a passage that answers ({len(citations)} of {len(paths)}):\n"
        text += "\n".join(lines)
    else:
        text = f"None of the {len(paths)} documents has a passage about: {searched}"
    yield text
    yield Answer(
        question,
        text,
        abstained=not citations,
        citations=citations,
        sources=citations,
        key_passages=citations,
        mode="extractive",
        read_as=read_as,
    )
