"""HTML: the visible text of a web page, without scripts, styles or markup.

Block elements become paragraph breaks, so that chunks follow the page's
paragraphs; everything a browser would not show is left out.

libxml2's HTML parser (through lxml, which python-docx needs anyway) reads the
page as a stream of events, in time linear in its length, malformed or not.
Python's ``html.parser`` takes quadratic time on unclosed tags: 80 KB of ``<a``
took 2.8 s, and a 10 MB file would take hours. The size limit is
``max_text_chars`` (``decode_text`` checks it before parsing).
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.errors import DocumentError
from rag.load.limits import Limits
from rag.load.reasons import short_reason
from rag.load.text import decode_text, single_page
from rag.types import LoadedDocument


def load_html(path: Path, *, limits: Limits) -> LoadedDocument:
    from lxml import etree

    text = decode_text(path, path.read_bytes(), limits=limits)
    extractor = _VisibleText()
    parser = etree.HTMLParser(target=extractor, no_network=True, recover=True)
    try:
        parser.feed(text)
        parser.close()
    except (etree.LxmlError, ValueError) as exc:
        raise DocumentError(path, f"not readable HTML ({short_reason(exc)})") from exc
    return single_page(path, "html", extractor.text(), limits=limits)


class _VisibleText:
    """The visible text of an HTML page, from the parser's events: no scripts, styles or
    markup. (An lxml parser target: the parser calls ``start``, ``end`` and ``data``.)"""

    _HIDDEN = {"script", "style", "noscript", "template", "head", "title", "svg"}
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
        self._parts: list[str] = []
        self._hidden_depth = 0

    def start(self, tag: str, attrib: object) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth += 1
        elif tag in self._BLOCK:
            self._parts.append("\n\n")

    def end(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in self._BLOCK:
            self._parts.append("\n\n")

    def data(self, data: str) -> None:
        if not self._hidden_depth:
            self._parts.append(data)

    def close(self) -> None:
        pass

    def text(self) -> str:
        return _WHITESPACE.sub(_one_space_or_break, "".join(self._parts)).strip()


# Each run of whitespace is matched once, whole (a single space needs no change): a pattern
# such as \s*\n\s*\n\s* retries every start within a run that holds no second line break,
# in quadratic time (40,000 no-break spaces took 16 s).
_WHITESPACE = re.compile(r"\s{2,}|[^\S ]")


def _one_space_or_break(run: re.Match[str]) -> str:
    """A run of whitespace as shown: a paragraph break if it breaks the line twice, else its
    spaces and tabs as one space."""
    if run.group().count("\n") >= 2:
        return "\n\n"
    return re.sub(r"[ \t]+", " ", run.group())
