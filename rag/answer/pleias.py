"""Pleias-RAG: the prompt and the answer in the format Pleias-RAG models were trained on.

Pleias-RAG-350M and Pleias-RAG-1B (PleIAs, 2025: "Even Small Reasoners Should Quote Their
Sources") read a query and numbered sources between special tokens, reason about them in
sections of their own (the query's language, an analysis of the query and of the sources,
a draft), then write the answer, each claim followed by a literal quote of its source:
``<ref name="<|source_id|>2">the source's own words</ref>``, a long quote shortened with
"(…)". Hushdoc reads this format rather than fight it:

- ``prompt`` lays out the question and the sources as the model expects them; a source's
  text cannot open or close a part of the prompt (its ``<|`` is defused);
- ``AnswerReader`` shows only the answer section, as it is written, each reference
  turned into its source's marker ``[2]``, and keeps each reference's quote;
- ``quoted_in`` tells whether a quote is the words of the source it names.

The answer is then checked like any other (``rag.answer.verify``); a quote that is not
in its source is reported. The format is that of the authors' own interface
(``pleias_rag_interface``): the model is recognized by its name (``rag.answer.model_info``)
and confirmed by its vocabulary holding these tokens (``rag.answer.generate``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

FAMILY = "Pleias-RAG"
# The tokens the prompt is made of; a model whose vocabulary lacks one is not read this way.
SOURCE_START = "<|source_start|>"
PROMPT_TOKENS = (
    "<|query_start|>",
    "<|query_end|>",
    SOURCE_START,
    "<|source_id|>",
    "<|source_end|>",
    "<|language_start|>",
)
ANSWER_START = "<|answer_start|>"
ANSWER_END = "<|answer_end|>"
# The model reasons before it answers: its sections take a few hundred tokens. The
# authors' interface allows 2,048 tokens in a context of 4,096.
ANSWER_TOKENS = 1536
CONTEXT_TOKENS = 4096
_REFERENCE = re.compile(r'<ref name="(?:<\|source_id\|>)?\s*(\d+)\s*">(.*?)</ref>', re.DOTALL)
# Any other special token the model may write inside its answer.
_SPECIAL = re.compile(r"<\|[a-z_]+\|>")
# Where a quote skips words: "(…)", "[...]", "…".
_SKIP = re.compile(r"\s*(?:[(\[]\s*(?:…|\.\.\.)\s*[)\]]|…|\.\.\.)\s*")
_QUOTE_MARKS = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})


@dataclass(frozen=True, slots=True)
class Quote:
    """A reference of the answer: the number of the source it names, and its quote."""

    n: int
    text: str


def answer_tokens(family: str | None, asked: int) -> int:
    """The tokens a model of ``family`` may write when ``asked`` are set: a Pleias-RAG
    model reasons before it answers, so it gets at least ``ANSWER_TOKENS``."""
    return max(asked, ANSWER_TOKENS) if family == FAMILY else asked


def prompt(question: str, sources: Sequence[str]) -> str:
    """The prompt for ``question`` and the numbered ``sources``, in the model's format."""
    blocks = "".join(
        f"{SOURCE_START}<|source_id|>{n} {_defused(text)}<|source_end|>\n"
        for n, text in enumerate(sources, 1)
    )
    return f"<|query_start|>{_defused(question)}<|query_end|>\n{blocks}<|language_start|>\n"


class AnswerReader:
    """Reads the model's output as it streams: ``feed`` returns the answer's new text to
    show, references as markers; ``done`` once the answer section has ended; ``answer``
    is the whole answer, and ``quotes`` each of its references' quotes."""

    def __init__(self) -> None:
        self._written = ""
        self._shown = ""
        self.done = False
        self.quotes: list[Quote] = []

    @property
    def started(self) -> bool:
        """Whether the model has begun its answer section."""
        return ANSWER_START in self._written

    def feed(self, piece: str) -> str:
        self._written += piece
        if self.done or not self.started:
            return ""
        self.done = ANSWER_END in self._written.split(ANSWER_START, 1)[1]
        text = self.answer()
        new = text[len(self._shown) :] if text.startswith(self._shown) else ""
        self._shown += new
        return new

    def answer(self) -> str:
        """The answer written so far, references as markers, up to a reference or a token
        still being written (or cut off by the end of the tokens)."""
        answer = self._written.split(ANSWER_START, 1)[1] if self.started else ""
        text, self.quotes = _as_markers(_whole(answer.split(ANSWER_END, 1)[0]))
        return text.rstrip()


def notice(reader: AnswerReader, sources: Sequence[str]) -> str | None:
    """What to tell of the model's answer: that it wrote none, or that quotes of it are
    not the words of the sources they name; None when all is well."""
    if not reader.started:
        return "The model wrote no answer before its tokens ran out; showing the key passages."
    wrong = [
        q
        for q in reader.quotes
        if not (1 <= q.n <= len(sources) and quoted_in(q.text, sources[q.n - 1]))
    ]
    if not wrong:
        return None
    names = ", ".join(f"[{q.n}]" for q in wrong)
    said = "is not the words of the source it names"
    if len(wrong) > 1:
        said = "are not the words of the sources they name"
    return (
        f"{len(wrong)} of the model's quotes ({names}) {said}; each sentence was checked "
        "against the sources instead."
    )


def quoted_in(quote: str, source: str) -> bool:
    """Whether ``quote`` is words of ``source``, in order (its "(…)" skipping words),
    whatever the spacing, case and quotation marks."""
    haystack = _plain(source)
    cursor = 0
    for piece in _SKIP.split(_plain(quote).strip("\"' ")):
        piece = piece.strip("\"' ")
        if not piece:
            continue
        found = haystack.find(piece, cursor)
        if found < 0:
            return False
        cursor = found + len(piece)
    return cursor > 0


def _as_markers(answer: str) -> tuple[str, list[Quote]]:
    quotes: list[Quote] = []

    def marker(match: re.Match[str]) -> str:
        quotes.append(Quote(int(match.group(1)), match.group(2).strip().strip('"“”').strip()))
        return f" [{match.group(1)}]"

    text = _SPECIAL.sub("", _REFERENCE.sub(marker, answer))
    return text.lstrip(), quotes


def _whole(answer: str) -> str:
    """``answer`` up to a reference or a special token not yet whole; a "<" that starts
    neither ("INR < 2") is text."""
    cursor = 0
    while (i := answer.find("<", cursor)) >= 0:
        whole = _REFERENCE.match(answer, i) or _SPECIAL.match(answer, i)
        if whole is not None:
            cursor = whole.end()
            continue
        tail = answer[i:]
        if tail.startswith(("<ref", "<|")) or "<ref".startswith(tail) or "<|".startswith(tail):
            return answer[:i]
        cursor = i + 1
    return answer


def _defused(text: str) -> str:
    return text.replace("<|", "‹|")


def _plain(text: str) -> str:
    return " ".join(text.translate(_QUOTE_MARKS).split()).casefold()
