"""Relevance: decide from the retrieval evidence whether the documents hold an answer at all.

A small model answers whatever it is asked, so "this is not in your documents"
is decided before it runs, from three signals of the passages retrieved:

- meaning: the best passage's cosine similarity to the question;
- words: the share of the question's terms (stemmed content words, as the
  keyword index reads them), weighted by their rarity in the workspace (IDF),
  that the best-covering passage holds;
- unknown words: the share of the question's subject words (not its framing,
  such as "how long") that no passage of the searched documents holds at all (a
  question about "FIFA" put to virology papers, or about a "most favored nation"
  clause put to a contract that has none), each weighed by how specific it is in
  English at large (``rag.text.words.specificity``): "amiodarone" fully, "next" not.

The score is ``cosine + COVERAGE_WEIGHT * coverage - UNKNOWN_WEIGHT * unknown``
and the engine abstains below ``Config.min_relevance``. The weights and the
default threshold were chosen on the dev sets (``hushdoc eval qa``; the
trade-off curve is in the README): on covidqa-dev, 14 of 15 out-of-scope
questions are abstained on and 3.1% of the 801 answerable ones; on cuad-dev,
where each question is asked of one contract, 69% of the questions about an
absent clause and 14% of the answerable ones (with ten passages retrieved).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from rag.store.database import Store
from rag.text.words import content_words, coverage, is_framing, specificity, stem, terms
from rag.types import Hit, Relevance

COVERAGE_WEIGHT = 0.25
UNKNOWN_WEIGHT = 0.75
# A refusal names the question's unknown words at least this specific: "They never
# mention "amiodarone"", not "next".
NAMED_SPECIFICITY = 0.5


def assess(
    question: str,
    hits: Sequence[Hit],
    store: Store,
    *,
    path: str | None,
    closest: float,
    known: Iterable[str] = (),
) -> Relevance:
    """The relevance of ``hits``, retrieved for ``question`` from the document ``path`` or
    from the whole workspace. ``closest`` is the cosine similarity of the sentence of
    ``hits`` closest to the question (``rag.answer.evidence.split_sources``). The ``known`` words of the question are left out: forms the
    documents do not use, which the question also gives as forms they do
    (``rag.retrieve.abbreviations``)."""
    cosine = max((h.dense for h in hits if h.dense is not None), default=-1.0)
    left_out = set(terms(" ".join(known)))
    # Each of the question's terms, with the first word that gave it: the index is
    # searched for that word (it stems it alike) and the user is told of the word.
    spelled: dict[str, str] = {}
    for word in content_words(question):
        if stem(word) not in left_out:
            spelled.setdefault(stem(word), word)
    if not spelled:
        return Relevance(cosine, (), {})
    words = list(spelled.values())
    counts = store.term_counts(words)
    weights = {
        t: math.log((counts.passages + 1) / (n + 0.5))
        for t, n in zip(spelled, counts.holding, strict=True)
    }
    searched = store.term_counts(words, path=path) if path is not None else counts
    subject = [t for t in spelled if not is_framing(t)]
    unknown = [
        spelled[t]
        for t, n, named in zip(spelled, searched.holding, searched.naming, strict=True)
        if n == 0 and not named and t in subject
    ]
    # An unknown word counts as evidence of absence by how specific it is: documents that
    # never say "next" may well answer "When is she seen next?"; never saying
    # "amiodarone", they do not answer a question about it.
    absence = sum(specificity(w) for w in unknown) / max(1, len(subject))
    best = max((coverage(weights, terms(h.passage.text)) for h in hits), default=0.0)
    score = cosine + COVERAGE_WEIGHT * best - UNKNOWN_WEIGHT * absence
    named = tuple(w for w in unknown if specificity(w) >= NAMED_SPECIFICITY)
    return Relevance(score, named, weights)
