"""Runaway output: a small model that starts repeating itself, or counting, never stops on
its own; its answer is cut where the loop began.

Two loops are recognised while the answer streams:

- a run of ``REPEATED_WORDS`` words written for the ``REPEATS``-th time ("the agreement
  shall terminate the agreement shall terminate ..."): the answer ends before its second
  occurrence;
- an enumeration: ``LISTED_NUMBERS`` bare numbers or section numbers in a row with no words
  between them ("1.1.2, 1.3.4, 2.1, 2.2.7, ..."): the answer ends before the list.
"""

from __future__ import annotations

import re

REPEATED_WORDS = 5
REPEATS = 3
LISTED_NUMBERS = 6

_WORD = re.compile(r"\S+")
_NUMBERING = re.compile(r"[(\[]?(?:\d+[.)]?)+(?:\d+)?[)\],;:.]*|[-–—•*]")


def runaway_cut(text: str) -> int | None:
    """Where ``text`` should end if the model ran away, else None."""
    words = [(m.start(), m.group().lower().strip(".,;:")) for m in _WORD.finditer(text)]
    cuts = [c for c in (_repetition(words), _enumeration(text)) if c is not None]
    return min(cuts) if cuts else None


def _repetition(words: list[tuple[int, str]]) -> int | None:
    seen: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(words) - REPEATED_WORDS + 1):
        gram = tuple(w for _, w in words[i : i + REPEATED_WORDS])
        starts = seen.setdefault(gram, [])
        if starts and i - starts[-1] < REPEATED_WORDS:
            continue  # overlapping itself ("a a a a a a"): counted once per stride
        starts.append(i)
        if len(starts) >= REPEATS:
            return words[starts[1]][0]
    return None


def _enumeration(text: str) -> int | None:
    run_start, run = None, 0
    for match in _WORD.finditer(text):
        if _NUMBERING.fullmatch(match.group()):
            if run == 0:
                run_start = match.start()
            run += 1
            if run >= LISTED_NUMBERS:
                return run_start
        else:
            run = 0
    return None
