"""A document's pages, rebuilt from its stored passages, and the lines they repeat.

Each passage is ``page_text[start:end]`` of its page, and passages overlap or
leave only white space between them, so laying them at their offsets gives the
page text back: every span of it is the document's own. A gap (white space the
chunker trimmed) is filled with line breaks, which sentence splitting reads as
the paragraph break it most often was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from itertools import groupby

from rag.types import Page, Passage


def pages_from_passages(passages: Sequence[Passage]) -> tuple[Page, ...]:
    """The pages of one document, in reading order, from its passages in reading order."""
    pages = []
    for number, on_page in groupby(passages, key=lambda p: p.page):
        text = ""
        for passage in on_page:
            if passage.start > len(text):
                text += "\n" * (passage.start - len(text))
            text = text[: passage.start] + passage.text + text[passage.end :]
        pages.append(Page(number, text))
    return tuple(pages)


def repeated_lines(pages: Sequence[Page], key: Callable[[str], str], *, min_pages: int) -> set[str]:
    """The ``key`` of each line found on at least ``min_pages`` pages (an empty key never
    counts): a document's running headers and footers, repeated page after page."""
    seen: Counter[str] = Counter()
    for page in pages:
        seen.update({key(line) for line in page.text.splitlines()} - {""})
    return {line for line, count in seen.items() if count >= min_pages}
