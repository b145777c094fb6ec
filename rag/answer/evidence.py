"""Evidence: the exact source sentences that best answer the question.

Every answer leads with its key passages, the real words of the documents, so
the user sees the evidence even when the model's paraphrase is wrong. The same
ranking cuts the sources down to the excerpts a small model reads (``excerpts``),
and the sentence vectors serve the claim check (``rag.answer.verify``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.text.sentences import sentence_spans
from rag.answer.cite import as_citation
from rag.embed.protocol import Embedder
from rag.types import Citation, Hit
from rag.text.words import coverage

# A sentence shorter than this many words is joined to the next one: a heading or
# a fragment such as "Results." is no evidence on its own.
_MIN_WORDS = 6
# A second key passage is shown only when it scores almost as well as the first.
SECOND_PASSAGE_MARGIN = 0.05
# Weight of a sentence's share of the question's words, against its cosine similarity.
WORDS_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class SourceSentences:
    """The sentences of the numbered sources, with their vectors.

    ``spans[i]`` is (source number, start, end) within that source's passage text.
    """

    spans: tuple[tuple[int, int, int], ...]
    texts: tuple[str, ...]
    vectors: np.ndarray


def split_sources(sources: Sequence[Hit], embedder: Embedder) -> SourceSentences:
    """Cut each source passage into sentences and embed them all in one batch."""
    spans: list[tuple[int, int, int]] = []
    texts: list[str] = []
    for n, hit in enumerate(sources, 1):
        text = hit.passage.text
        for start, end in _joined_sentences(text):
            spans.append((n, start, end))
            texts.append(text[start:end])
    vectors = embedder.embed(texts) if texts else np.zeros((0, embedder.dimension), np.float32)
    return SourceSentences(tuple(spans), tuple(texts), vectors)


def key_passages(
    query: np.ndarray,
    sources: Sequence[Hit],
    sentences: SourceSentences,
    weights: Mapping[str, float],
    *,
    limit: int = 2,
) -> list[Citation]:
    """The best sentences for the question, as citations of their source's exact span.

    On covidqa-dev (801 questions) the first key passage's source holds the gold
    evidence for 0.64 of questions: 0.60 without the words (see ``_scores``), 0.57
    for the top retrieved passage.
    """
    if not sentences.texts:
        return []
    scores = _scores(query, sources, sentences, weights)
    order = np.argsort(-scores)
    chosen = [int(order[0])]
    for i in order[1:limit]:
        if scores[i] >= scores[order[0]] - SECOND_PASSAGE_MARGIN:
            chosen.append(int(i))
    spans = [sentences.spans[i] for i in chosen]
    return [as_citation(n, _excerpt(sources[n - 1], start, end)) for n, start, end in spans]


def excerpts(
    query: np.ndarray,
    sources: Sequence[Hit],
    sentences: SourceSentences,
    weights: Mapping[str, float],
    *,
    limit: int,
) -> list[Hit]:
    """The sources cut down to what a small model can read: the ``limit`` best sentences,
    each with the sentence before and after it, best first.

    Each excerpt is a hit whose passage is that exact span of its source, so that
    what the model cites still names a real file, page and span. Windows that meet
    in one passage are merged into one excerpt.
    """
    windows: list[list[int]] = []  # [source number, first sentence, last sentence]
    for i in np.argsort(-_scores(query, sources, sentences, weights)).tolist():
        if len(windows) == limit:
            break
        n = sentences.spans[i][0]
        first = i - 1 if i > 0 and sentences.spans[i - 1][0] == n else i
        last = i + 1 if i + 1 < len(sentences.spans) and sentences.spans[i + 1][0] == n else i
        meeting = next(
            (w for w in windows if w[0] == n and first <= w[2] + 1 and w[1] <= last + 1), None
        )
        if meeting is not None:
            meeting[1], meeting[2] = min(meeting[1], first), max(meeting[2], last)
        else:
            windows.append([n, first, last])
    return [
        _excerpt(sources[n - 1], sentences.spans[first][1], sentences.spans[last][2])
        for n, first, last in windows
    ]


def _scores(
    query: np.ndarray,
    sources: Sequence[Hit],
    sentences: SourceSentences,
    weights: Mapping[str, float],
) -> np.ndarray:
    """How well each sentence answers the question.

    A sentence scores its own cosine similarity to the question, plus its
    passage's fused retrieval score, plus half the share of the question's words
    it holds, weighted by rarity (``weights``): the sentence must answer, in the
    question's terms, and the passage around it must be on topic.
    """
    return (
        sentences.vectors @ query
        + np.array([sources[n - 1].score for n, _, _ in sentences.spans])
        + WORDS_WEIGHT * np.array([coverage(weights, text) for text in sentences.texts])
    )


def quote_passages(passages: Sequence[Citation]) -> str:
    """The extractive answer: the key passages, quoted, each with its source number."""
    return "\n".join(f'"{" ".join(p.text.split())}" [{p.n}]' for p in passages)


def _excerpt(hit: Hit, start: int, end: int) -> Hit:
    """``hit`` with its passage cut to ``[start, end)`` of the passage text."""
    p = hit.passage
    cut = replace(p, start=p.start + start, end=p.start + end, text=p.text[start:end])
    return replace(hit, passage=cut)


def _joined_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, each short one merged with the sentence after it."""
    joined: list[tuple[int, int]] = []
    pending: int | None = None
    for span in sentence_spans(text):
        start, end = span.start, span.end
        begin = start if pending is None else pending
        if len(text[begin:end].split()) < _MIN_WORDS:
            pending = begin
            continue
        joined.append((begin, end))
        pending = None
    if pending is not None:
        joined.append((pending, end))
    return joined
