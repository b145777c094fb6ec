"""Follow-ups: a question that leans on earlier ones is searched together with them.

"When will it be checked next?", asked right after "What is the target INR?",
names nothing to search for: "it" is the INR. A question that points back (a
pronoun such as "it" or "she", "that", "there") or opens as a follow-up ("And…",
"What about…") is read a second time with the subject words of the earlier
questions it does not repeat, when the question alone finds nothing relevant
enough to answer. The engine then keeps the reading whose passages are more
relevant (``rag.retrieve.relevance``); when that is the one with the earlier
words, the answer says how the question was read (``Answer.read_as``), so a
resolution is never silent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.text.words import content_words, is_framing, spelled_words, stem, words

# Words that point back at something named earlier.
_POINTING = frozenset(
    """it its they them their theirs this that these those he him his she her hers there
    then same one ones""".split()  # noqa: SIM905
)
# How a follow-up may open: "And the cardiology appointment?", "What about termination?"
_OPENERS = (("and",), ("what", "about"), ("how", "about"), ("also",), ("so",))
# The earlier words added: enough to name a subject, not a second question.
MAX_CONTEXT_WORDS = 6


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A question read with earlier words: ``searched`` is what retrieval gets; ``read_as``
    what the user is shown ("When will it be checked next? (about: target INR)")."""

    searched: str
    read_as: str


def leans_on_earlier(question: str) -> bool:
    """Whether ``question`` points back at an earlier one, or opens as a follow-up."""
    said = words(question)
    opens = any(tuple(said[: len(opener)]) == opener for opener in _OPENERS)
    return opens or any(w in _POINTING for w in said)


def read_with_earlier(question: str, earlier: Sequence[str]) -> FollowUp | None:
    """``question`` with the subject words of the latest earlier questions that it does
    not repeat (the latest first); None if they add nothing."""
    have = {stem(w) for w in content_words(question)}
    added: list[str] = []
    for before in reversed(earlier):
        for spelled in spelled_words(before):  # as the user wrote it, "INR" not "inr"
            folded = content_words(spelled)
            if not folded:  # a stop word
                continue
            term = stem(folded[0])
            if term in have or is_framing(term) or folded[0] in _POINTING:
                continue
            have.add(term)
            added.append(spelled)
        if added:  # the latest question that names a subject is the one referred to
            break
    if not added:
        return None
    context = " ".join(added[:MAX_CONTEXT_WORDS])
    return FollowUp(f"{question} {context}", f"{question} (about: {context})")
