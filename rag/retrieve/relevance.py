"""Relevance: decide from the retrieval evidence whether the documents hold an answer at all.

A small model answers whatever it is asked, so "this is not in your documents"
is decided before it runs, from the signals of the passages retrieved:

- meaning: the cosine similarity to the question of the closest sentence of the
  passages, and, weighed less, of the best passage (a short question such as
  "target INR" is close to the sentence that answers it, far from its passage);
- words: the share of the question's terms (stemmed content words, as the
  keyword index reads them), weighted by their rarity in the workspace (IDF),
  that the best-covering passage holds;
- unknown words: the question's subject words (not its framing, such as "how
  long") that no passage of the searched documents holds at all (a question about
  "FIFA" put to virology papers, or about a "most favored nation" clause put to a
  contract that has none), each weighed by how specific it is in English at large
  (``rag.text.words.specificity``): "amiodarone" fully, "next" not. Both their
  share of the subject words and the most specific of them count, so one rare
  word the documents lack weighs even in a long question. Words the question
  also gives in a form the documents use (``known``: "DOAC" with "direct oral
  anticoagulants", ``rag.retrieve.abbreviations``) are left out.

The score is ``closest + PASSAGE_WEIGHT * cosine + COVERAGE_WEIGHT * coverage -
UNKNOWN_WEIGHT * unknown share - RAREST_UNKNOWN_WEIGHT * rarest unknown``, and the
engine abstains below ``Config.min_relevance``. The weights and the threshold were
chosen on four sets together (``hushdoc eval qa``; the trade-off curve is in the
README): the natural-question sets, and covidqa-dev and cuad-dev, on which
nothing was to get worse.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from rag.store.database import Store
from rag.text.words import content_words, coverage, is_framing, specificity, stem, terms
from rag.types import Hit, Relevance

PASSAGE_WEIGHT = 0.2
COVERAGE_WEIGHT = 0.4
UNKNOWN_WEIGHT = 0.4
RAREST_UNKNOWN_WEIGHT = 0.2
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
    ``hits`` closest to the question (``rag.answer.evidence.split_sources``). The
    ``known`` words of the question are left out: forms the documents do not use, which
    the question also gives as forms they do (``rag.retrieve.abbreviations``)."""
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
    absent = [specificity(w) for w in unknown]
    absence = sum(absent) / max(1, len(subject))
    best = max((coverage(weights, terms(h.passage.text)) for h in hits), default=0.0)
    score = (
        closest
        + PASSAGE_WEIGHT * cosine
        + COVERAGE_WEIGHT * best
        - UNKNOWN_WEIGHT * absence
        - RAREST_UNKNOWN_WEIGHT * max(absent, default=0.0)
    )
    named = tuple(w for w in unknown if specificity(w) >= NAMED_SPECIFICITY)
    return Relevance(score, named, weights)
