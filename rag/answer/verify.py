"""Verify: check every sentence of a generated answer against the sources.

A sentence is supported when a source holds it, by words (most of its content
words are in the source) or by meaning (it is close to one of the source's
sentences). Before that, its details are checked: a number, dose or date, or a
term that appears in no source and not in the question, makes the sentence
unsupported whatever else it shares with the sources. Those are the errors
that matter in a prescription or a contract, and small models make them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from rag.answer.cite import MARKER, marker_numbers
from rag.answer.evidence import SourceSentences
from rag.embed.protocol import Embedder
from rag.text.sentences import sentence_spans
from rag.text.words import spelled_words, stem, terms, words
from rag.types import Claim

# Share of a sentence's content words that one source must contain to hold it.
MIN_WORD_SUPPORT = 0.5
# Cosine similarity to one source sentence that counts as holding it.
MIN_MEANING_SUPPORT = 0.75
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A list item's number ("1.", "2)") split off the item it opens: it states nothing.
_LIST_NUMBER = re.compile(r"\(?\d{1,2}[.)]")
# Terms checked against the sources: names (capitalized after the first word) and
# words of this many letters or more, which is where drug names, parties and places
# are. Short everyday words are left to the word and meaning support.
_LONG_WORD = 7
# Words a faithful answer uses about its sources without taking them from one.
_FRAMING = frozenset(
    [
        "according",
        "answer",
        "based",
        "context",
        "document",
        "documents",
        "information",
        "mentioned",
        "passage",
        "passages",
        "provided",
        "question",
        "source",
        "sources",
        "stated",
        "states",
        "text",
    ]
)


def check_claims(
    answer: str, question: str, sentences: SourceSentences, embedder: Embedder
) -> list[Claim]:
    """One checked claim per sentence of ``answer``, with its span there; the sentence's
    ``[n]`` markers name sources, whose sentences are ``sentences``."""
    spans = sentence_spans(answer)
    texts = [MARKER.sub("", answer[s.start : s.end]).strip() for s in spans]
    if not texts:
        return []
    similarity = embedder.embed(texts) @ sentences.vectors.T
    source_texts = [s.text for s in sentences.sentences]
    known_numbers = {v for s in source_texts for v in _numbers(s)}
    known_stems = {stem(w) for text in [*source_texts, question] for w in words(text)}
    source_terms: dict[int, set[str]] = {}
    for s in sentences.sentences:
        source_terms.setdefault(s.source, set()).update(s.terms)
    claims = []
    for i, (text, span, cosines) in enumerate(zip(texts, spans, similarity, strict=True)):
        claim_terms = set(terms(text))
        opens_item = _LIST_NUMBER.fullmatch(text) and i + 1 < len(texts)
        # A question (small models often repeat the user's) asserts nothing.
        if (len(claim_terms) < 2 and not _numbers(text)) or opens_item or text.endswith("?"):
            claims.append(Claim(text, "uncited", start=span.start, end=span.end))
            continue
        closest = _closest_sentences(claim_terms, cosines, sentences)
        local_numbers = {v for j in closest for v in _numbers(sentences.sentences[j].text)}
        reason = _unknown_detail(text, known_numbers, local_numbers, known_stems)
        holding = _holding_sources(claim_terms, cosines, source_terms, sentences)
        if reason is None and not holding:
            reason = "no source says this"
        if reason is not None:
            claims.append(Claim(text, "unsupported", (), reason, span.start, span.end))
            continue
        # Keep the model's own citations that hold the claim; else name the source that does.
        marked = answer[span.start : span.end]
        cited = [n for m in MARKER.finditer(marked) for n in marker_numbers(m.group(1))]
        kept = tuple(n for n in cited if n in holding) or (holding[0],)
        claims.append(Claim(text, "supported", kept, start=span.start, end=span.end))
    return claims


def _closest_sentences(
    claim_terms: set[str], cosines: np.ndarray, sentences: SourceSentences
) -> set[int]:
    """The source sentences a claim restates: the closest in meaning and in words."""
    if not len(cosines):
        return set()
    overlap = [len(claim_terms & s.terms) for s in sentences.sentences]
    return {int(cosines.argmax()), max(range(len(overlap)), key=overlap.__getitem__)}


def _holding_sources(
    claim_terms: set[str],
    cosines: np.ndarray,
    source_terms: Mapping[int, set[str]],
    sentences: SourceSentences,
) -> list[int]:
    """Source numbers that hold a claim, best first."""
    scores: dict[int, float] = {}
    for n, have in sorted(source_terms.items()):
        share = len(claim_terms & have) / len(claim_terms) if claim_terms else 0.0
        if share >= MIN_WORD_SUPPORT:
            scores[n] = share
    for s, cosine in zip(sentences.sentences, cosines.tolist(), strict=True):
        if cosine >= MIN_MEANING_SUPPORT:
            scores[s.source] = max(scores.get(s.source, 0.0), cosine)
    return sorted(scores, key=scores.__getitem__, reverse=True)


def _unknown_detail(
    text: str, numbers: set[str], local_numbers: set[str], stems: set[str]
) -> str | None:
    """The first number or term of ``text`` that the sources do not back, and how."""
    for token in _NUMBER.findall(text):
        if _number(token) not in numbers:
            return f"{token} appears in no source"
        if _number(token) not in local_numbers:
            return f"{token} is not in the source sentence this restates"
    # Words as the sources' stems were made (letters and digits: "HBoV1" is one word);
    # numbers alone were checked above.
    terms_seen = [w for w in spelled_words(text) if not w.isdigit()]
    for position, word in enumerate(terms_seen):
        is_term = len(word) >= _LONG_WORD or (position > 0 and word[0].isupper())
        known = all(stem(w) in stems for w in words(word))
        if is_term and word.lower() not in _FRAMING and not known:
            return f'"{word}" appears in no source'
    return None


def _numbers(text: str) -> set[str]:
    return {_number(token) for token in _NUMBER.findall(text)}


def _number(token: str) -> str:
    """A number in one spelling, so that 2 and 2.0, or 2,000 and 2000, compare equal."""
    if re.fullmatch(r"\d{1,3}(,\d{3})+", token):
        token = token.replace(",", "")
    try:
        return repr(float(token.replace(",", ".")))
    except ValueError:
        return token
