"""Respond: how retrieved passages become an answer, in one direction.

1. Relevance decides whether the documents hold an answer at all; if not, say so.
2. The sources are split into sentences and embedded, once (``split_sources``), before
   relevance is judged, which weighs the sentence closest to the question.
3. In generate mode the model reads excerpts of them (slices of that split), as many
   as fit its context.
4. The key passages, the sentences that best answer, are shown before any
   generated text.
5. The model writes; each of its sentences is checked against the sentences it
   read, and marked with the sources that hold it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.answer import pleias
from rag.answer.cite import as_citation, citation_grammar, cited_sources, clean_markers, mark_claims
from rag.answer.copied import copied_span, copy_grammar, offered
from rag.answer.evidence import (
    SourceSentences,
    excerpts,
    key_passages,
    listed_passages,
    quote_passages,
    split_sources,
)
from rag.answer.generate import Generator, answer_stream
from rag.answer.mode import chosen_mode
from rag.answer.prompt import copy_messages, fit_prompt
from rag.answer.runaway import runaway_cut
from rag.answer.verify import check_claims
from rag.config import Config
from rag.embed.protocol import Embedder
from rag.errors import ModelError
from rag.retrieve.abbreviations import resolve, spelled_out
from rag.retrieve.relevance import assess
from rag.retrieve.search import Retriever
from rag.store.database import Store
from rag.types import Answer, Evidence, Hit, Relevance


@dataclass(frozen=True, slots=True)
class Retrieved:
    """A question, its vector, the passages retrieved for it, best first, their sentences,
    and how relevant they are (None when no passage was found). ``read_as`` is how the
    question was read: a follow-up with the earlier words it was searched with
    (``rag.answer.followup``), or with the forms of its words that the documents use
    (``rag.retrieve.abbreviations``)."""

    question: str
    query: np.ndarray
    hits: list[Hit]
    sentences: SourceSentences
    relevance: Relevance | None
    read_as: str | None = None


def retrieve(
    question: str,
    store: Store,
    embedder: Embedder,
    *,
    document: str | None,
    k: int,
    shown: str = "",
) -> Retrieved:
    """The question's vector, its ``k`` passages (of ``document`` only, if given), and how
    relevant they are. A question with words the documents never use is searched with the
    forms they use instead (``rag.retrieve.abbreviations``), and says so in ``read_as``:
    the ``shown`` words (the question as asked, if only part of it is searched) with
    those forms."""
    expansions = resolve(question, store, path=document)
    searched = spelled_out(question, expansions)
    query = embedder.embed([searched])[0]
    hits = Retriever(store, embedder).search(searched, query=query, k=k, path=document)
    sentences = split_sources(hits, embedder)
    relevance = None
    if hits:
        closest = float(np.max(sentences.vectors @ query)) if len(sentences) else -1.0
        known = {e.written for e in expansions}
        relevance = assess(searched, hits, store, path=document, known=known, closest=closest)
    read_as = spelled_out(shown or question, expansions) if expansions else None
    return Retrieved(question, query, hits, sentences, relevance, read_as)


@dataclass(frozen=True, slots=True)
class Reading:
    """What the model reads: the prompt, its sources numbered as in the prompt, and their
    sentences."""

    prompt: str
    sources: list[Hit]
    sentences: SourceSentences


def respond(
    found: Retrieved,
    *,
    document: str | None,
    config: Config,
    embedder: Embedder,
    generator: Callable[[], Generator],
    should_stop: Callable[[], bool] = lambda: False,
    listing: bool = False,
) -> Iterator[Evidence | str | Answer]:
    """Yield the evidence, then the answer's text as it is written, then the ``Answer``.

    ``generator`` loads the language model when first called; in extractive mode,
    or when it cannot be loaded, the key passages are the answer. A request for a list
    (``listing``: "List every obligation of the Recipient") is answered with every
    sentence that answers it, in document order, and no model.
    """
    question, relevance = found.question, found.relevance
    if relevance is None or relevance.score < config.min_relevance:
        text = not_found(document, relevance.unknown if relevance else ())
        yield text
        score = relevance.score if relevance else None
        yield Answer(
            question,
            text,
            abstained=True,
            citations=(),
            sources=(),
            mode="extractive",
            relevance=score,
            read_as=found.read_as,
        )
        return
    hits, sentences = found.hits, found.sentences
    reading, notice, model, chosen = None, None, None, None
    if config.answer_mode != "extractive" and not listing:
        try:
            model = generator()
        except ModelError as exc:
            notice = f"Showing the key passages only: {exc}"
        else:
            chosen = chosen_mode(config.answer_mode, model.parameters, model.family)
            if chosen.mode == "generate":
                reading = read_sources(found, sentences, config=config, generator=model)
                hits, sentences = reading.sources, reading.sentences
    choose = listed_passages if listing else key_passages
    keys = tuple(choose(found.query, hits, sentences, relevance.weights))
    sources = tuple(as_citation(n, hit) for n, hit in enumerate(hits, 1))
    yield Evidence(keys, sources, found.read_as, chosen.mode if chosen else "extractive")
    quoting = Answer(
        question,
        quote_passages(keys),
        abstained=False,
        citations=tuple(cited_sources((), keys, hits)),
        sources=sources,
        key_passages=keys,
        mode="extractive",
        notice=notice,
        relevance=relevance.score,
        read_as=found.read_as,
    )
    if model is not None and chosen is not None and chosen.mode == "copy" and keys:
        yield from copy_answer(
            replace(quoting, mode="copy", mode_reason=chosen.reason),
            model,
            max_tokens=config.answer_tokens,
            should_stop=should_stop,
        )
        return
    if reading is None or model is None:
        yield quoting.text
        yield quoting
        return
    pieces: list[str] = []
    grammar = citation_grammar(len(hits)) if config.cite_grammar else None
    cut = None
    stream, reader = answer_stream(
        model,
        reading.prompt,
        max_tokens=config.answer_tokens,
        grammar=grammar,
        should_stop=should_stop,
    )
    for piece in stream:
        pieces.append(piece)
        yield piece
        if (cut := runaway_cut("".join(pieces))) is not None:
            notice = "The model began to repeat itself or to count; its answer was cut there."
            break  # closing the stream stops the model
    written = "".join(pieces)
    if reader is not None:
        notice = notice or pleias.notice(reader, [hit.passage.text for hit in hits])
    text, dropped = clean_markers(written if cut is None else written[:cut], len(hits))
    claims = check_claims(text, found.read_as or question, sentences, embedder)
    text = mark_claims(text, claims, strict=config.strict)
    if not text:
        text = quote_passages(keys)
        if written.strip():
            notice = "No sentence of the model's answer is supported by the sources."
        else:
            notice = notice or "The model wrote no answer; showing the key passages."
    yield Answer(
        question,
        text,
        abstained=False,
        citations=tuple(cited_sources(claims, keys, hits)),
        sources=sources,
        key_passages=keys,
        claims=tuple(claims),
        notice=notice,
        dropped_markers=dropped,
        relevance=relevance.score,
        read_as=found.read_as,
        mode_reason=chosen.reason if chosen else None,
    )


def copy_answer(
    quoting: Answer, model: Generator, *, max_tokens: int, should_stop: Callable[[], bool]
) -> Iterator[str | Answer]:
    """The model's copy of a run of words of one key passage (``rag.answer.copied``), then
    the ``Answer`` whose text it is, with its span; the quoted key passages if it copied
    nothing (stopped early)."""
    passages = [offered(k) for k in quoting.key_passages]
    question = quoting.read_as or quoting.question
    prompt = model.render(copy_messages(question, passages, family=model.family))
    pieces: list[str] = []
    for piece in model.stream(
        prompt, max_tokens=max_tokens, grammar=copy_grammar(passages), should_stop=should_stop
    ):
        pieces.append(piece)
        yield piece
    span = copied_span("".join(pieces), passages)
    if span is None:
        notice = "The model copied no answer; showing the key passages."
        yield replace(quoting, mode="extractive", mode_reason=None, notice=notice)
        return
    text = f"{' '.join(span.text.split())} [{span.n}]"
    yield replace(quoting, text=text, copied=span)


def read_sources(
    found: Retrieved, sentences: SourceSentences, *, config: Config, generator: Generator
) -> Reading:
    """The prompt for the model and what it holds: with ``prompt_excerpts``, the best
    excerpts of the sources, else the sources whole; as many as fit the context."""
    weights = found.relevance.weights if found.relevance else {}
    hits = found.hits
    # Pleias-RAG was trained on whole sources, and weighs them itself.
    if config.prompt_excerpts and generator.family != pleias.FAMILY:
        hits, sentences = excerpts(
            found.query, hits, sentences, weights, limit=config.prompt_excerpts
        )
    question = found.read_as or found.question
    prompt, read = fit_prompt(question, hits, generator, answer_tokens=config.answer_tokens)
    return Reading(prompt, read, sentences.of_first(len(read)))


def not_found(document: str | None, unknown: Sequence[str]) -> str:
    """The abstention: what was searched, and the question's words it never uses."""
    if document is None:
        text = "I could not find the answer to this in your documents."
    else:
        text = f"{Path(document).name} does not appear to contain this: no passage of it "
        text += "answers the question."
    if unknown:
        quoted = ", ".join(f'"{w}"' for w in unknown)
        text += f" {'It' if document else 'They'} never mention{'s' if document else ''} {quoted}."
    return text
