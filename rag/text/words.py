"""Word-level text analysis shared by keyword search and citation support."""

from __future__ import annotations

import re
from collections.abc import Mapping

STOPWORDS = frozenset(
    """a an and are as at be been by can could did do does for from had has have how i if in
    into is it its may might of on or our shall should so such than that the their them then
    there these they this those to was were what when where which while who whom whose why
    will with would you your about also any each other more most not no only over under""".split()  # noqa: SIM905
)
# Words that frame a question rather than name its subject ("how long", "what kind"):
# a document that never uses them may still answer it.
QUESTION_FRAMING = frozenset(
    """long last many much often kind type types happens happen mean means called known
    main difference describe explain role purpose example examples""".split()  # noqa: SIM905
)
_WORD = re.compile(r"\w+")


def content_words(text: str) -> list[str]:
    """Lower-cased words of ``text`` without stop words, in order, repeats kept."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def coverage(weights: Mapping[str, float], text: str) -> float:
    """The weighted share of the words in ``weights`` that ``text`` holds, from 0 to 1."""
    total = sum(weights.values())
    if not total:
        return 0.0
    held = set(content_words(text))
    return sum(weight for word, weight in weights.items() if word in held) / total
