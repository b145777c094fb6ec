"""Cite: tie every sentence of the answer to the exact passage behind it.

Markers the model wrote (``[n]``) that point at no source are removed and
counted. After the claim check (``rag.answer.verify``), each sentence carries the
markers of the sources that hold it, whether or not the model wrote them:
small models rarely do. A citation always names a real file, page and span.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.types import Citation, Claim, Hit

MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_MARKERS_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)")


def citation_grammar(source_count: int, *, max_sentences: int = 6) -> str:
    """A llama.cpp grammar (GBNF) under which every sentence ends with markers naming
    real sources, ``[1]`` to ``[source_count]``.

    A sentence may not end (``.``, ``!`` or ``?`` before a space or a line break)
    without its marker; a stop inside a word or number ("2.5 mg", "e.g") is allowed.
    The answer is one to ``max_sentences`` sentences.
    """
    numbers = " | ".join(f'"{n}"' for n in range(1, source_count + 1))
    return "\n".join(
        [
            f"root ::= sentence (gap sentence){{0,{max_sentences - 1}}}",
            "sentence ::= part+ [.!?]? markers [.!?]?",
            "part ::= [^\\[\\].!?\\n] | [.!?] [^ \\n\\[\\].!?]",
            'markers ::= (" [" source "]")+',
            'gap ::= " " | "\\n"',
            f"source ::= {numbers}",
        ]
    )


def as_citation(n: int, hit: Hit) -> Citation:
    p = hit.passage
    return Citation(n=n, path=p.path, page=p.page, start=p.start, end=p.end, text=p.text)


def marker_numbers(group: str) -> list[int]:
    return [int(x) for x in re.split(r"\s*[,;]\s*", group)]


def clean_markers(text: str, source_count: int) -> tuple[str, int]:
    """Remove marker numbers outside 1..source_count, and move markers written after a
    full stop in front of it, into the sentence they belong to. Returns the text and
    how many numbers went."""
    text = _MARKERS_AFTER_STOP.sub(r"\2\1", text)
    dropped = 0

    def keep_valid(match: re.Match[str]) -> str:
        nonlocal dropped
        numbers = marker_numbers(match.group(1))
        valid = [n for n in numbers if 1 <= n <= source_count]
        dropped += len(numbers) - len(valid)
        return "".join(f" [{n}]" for n in valid)

    return MARKER.sub(keep_valid, text).strip(), dropped


def mark_claims(text: str, claims: Sequence[Claim], *, strict: bool = False) -> str:
    """``text`` with each sentence's markers replaced by its claim's citations.

    ``claims`` come from ``rag.answer.verify.check_claims`` on the same text, one per
    sentence, each with its span. With ``strict``, unsupported sentences are left out.
    """
    pieces: list[str] = []
    cursor = 0
    for claim in claims:
        start, end = claim.start, claim.end
        if strict and claim.status == "unsupported":
            pieces.append(text[cursor:start])
        else:
            sentence = MARKER.sub("", text[start:end])
            body, stop = (sentence[:-1], sentence[-1]) if sentence[-1:] in ".!?" else (sentence, "")
            markers = "".join(f"[{n}]" for n in claim.citations)
            pieces.append(text[cursor:start] + body + (f" {markers}" if markers else "") + stop)
        cursor = end
    pieces.append(text[cursor:])
    return re.sub(r"\n{3,}", "\n\n", "".join(pieces)).strip()


def cited_sources(
    claims: Sequence[Claim], key_passages: Sequence[Citation], sources: Sequence[Hit]
) -> list[Citation]:
    """The sources the answer cites: its key passages' first, then its claims', no repeats."""
    numbers = [k.n for k in key_passages]
    numbers += [n for claim in claims if claim.status == "supported" for n in claim.citations]
    return [as_citation(n, sources[n - 1]) for n in dict.fromkeys(numbers)]
