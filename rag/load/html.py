"""HTML: the visible text of a web page, without scripts, styles or markup.

Block elements become paragraph breaks, so that chunks follow the page's
paragraphs; everything a browser would not show is left out.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from rag.load.limits import Limits
from rag.load.text import decode_text, single_page
from rag.types import LoadedDocument


def load_html(path: Path, *, limits: Limits) -> LoadedDocument:
    parser = _TextExtractor()
    parser.feed(decode_text(path, path.read_bytes(), limits=limits))
    parser.close()
    return single_page(path, "html", parser.text(), limits=limits)


class _TextExtractor(HTMLParser):
    """Visible text of an HTML page: no scripts, styles or markup."""

    _HIDDEN = {"script", "style", "noscript", "template", "head", "svg"}
    _BLOCK = {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "table",
        "ul",
        "ol",
        "blockquote",
        "pre",
        "hr",
        "header",
        "footer",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth += 1
        elif tag in self._BLOCK:
            self._parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in self._BLOCK:
            self._parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self._parts.append(data)

    def text(self) -> str:
        joined = "".join(self._parts)
        joined = re.sub(r"[ \t]+", " ", joined)
        return re.sub(r"\s*\n\s*\n\s*", "\n\n", joined).strip()
