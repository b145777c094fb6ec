"""Copied answers: the model answers with a run of words copied from one key passage.

A small model writing freely makes things up. Here a llama.cpp grammar, built for
each question from its key passages, lets it write only a contiguous run of words of
one passage, then that passage's marker (``[n]``): it chooses where the answer
starts and stops, and cannot write a word the passage does not hold.

The grammar grows linearly with the passages: one rule per word position, "this
word, then the next position's rule, or the marker". A run must hold at least
``MIN_WORDS`` words: chains of "this word, then certainly the next" count them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.types import Citation

# Measured on covidqa-dev (first 60 answerable questions, bundled 135M model): with
# one word allowed, the model often stops at a pronoun or a reference ("These", "[8]")
# and the answer holds the gold one for 0.28 of questions; with three, 0.38, the whole
# first key passage 0.42.
MIN_WORDS = 3
# A run starts at a word with a letter or digit that is not a reference or list number
# ("[12]", "(3)", "4."): those begin no answer.
_NOT_A_START = re.compile(r"\[[\d,;\s–-]*\]?|\(?\d{1,3}\)?[.,;:]?")
# A key passage offered for copying is cut after this many words: a "sentence" of a
# table or a list without stops can run for pages.
MAX_WORDS = 80


@dataclass(frozen=True, slots=True)
class Word:
    """A word of a passage, ``[start, end)`` of its text."""

    text: str
    start: int
    end: int


def passage_words(text: str) -> list[Word]:
    """The words of ``text`` as the grammar offers them: runs of non-space characters."""
    return [Word(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def offered(passage: Citation, *, limit: int = MAX_WORDS) -> Citation:
    """``passage`` cut after its ``limit``-th word, as the model is offered it."""
    words = passage_words(passage.text)
    if len(words) <= limit:
        return passage
    end = words[limit - 1].end
    return replace(passage, end=passage.start + end, text=passage.text[:end])


def copy_grammar(passages: Sequence[Citation], *, min_words: int = MIN_WORDS) -> str:
    """A llama.cpp grammar (GBNF) under which the model writes a contiguous run of at least
    ``min_words`` words of one of ``passages``, single-spaced, then `` [n]`` for it."""
    rules: list[str] = []
    choices: list[str] = []
    for k, passage in enumerate(passages):
        words = [w.text for w in passage_words(passage.text)]
        need = min(min_words, len(words))
        if not words:
            continue
        marker = f"m{k}"
        rules.append(f'{marker} ::= " [{passage.n}]"')
        for i, word in enumerate(words):
            ends = f'(" " p{k}w{i + 1} | {marker})' if i + 1 < len(words) else marker
            rules.append(f"p{k}w{i} ::= {_literal(word)} {ends}")
            # p{k}w{i}r{r}: word i, then at least r more words.
            for r in range(1, need):
                if i + r < len(words):
                    after = f"p{k}w{i + 1}r{r - 1}" if r > 1 else f"p{k}w{i + 1}"
                    rules.append(f'p{k}w{i}r{r} ::= {_literal(word)} " " {after}')
        starts = [i for i in range(len(words) - need + 1) if _can_start(words[i])] or [0]
        head = [f"p{k}w{i}r{need - 1}" if need > 1 else f"p{k}w{i}" for i in starts]
        rules.append(f"p{k} ::= " + " | ".join(head))
        choices.append(f"p{k}")
    if not choices:
        raise ValueError("copy_grammar needs at least one passage with words")
    return "\n".join([f"root ::= {' | '.join(choices)}", *rules])


def copied_span(written: str, passages: Sequence[Citation]) -> Citation | None:
    """The exact span of the passage that ``written`` (the model's output under
    ``copy_grammar``) copies, as a citation of the document; None if it copies none."""
    match = re.fullmatch(r"\s*(.*?)\s*\[(\d+)\]\s*", written, re.DOTALL)
    if match is None:
        return None
    copied, n = match.group(1).split(), int(match.group(2))
    for passage in passages:
        if passage.n != n or not copied:
            continue
        words = passage_words(passage.text)
        for i in range(len(words) - len(copied) + 1):
            if all(words[i + j].text == w for j, w in enumerate(copied)):
                first, last = words[i], words[i + len(copied) - 1]
                return Citation(
                    n=n,
                    path=passage.path,
                    page=passage.page,
                    start=passage.start + first.start,
                    end=passage.start + last.end,
                    text=passage.text[first.start : last.end],
                )
    return None


def _can_start(word: str) -> bool:
    return any(c.isalnum() for c in word) and not _NOT_A_START.fullmatch(word)


def _literal(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
