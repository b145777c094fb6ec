"""The chat transcript as rich text, built so that no document or model text is markup.

Every string that comes from a document, the model or the user goes through
``plain`` (escaped, direction controls named: ``app.plain_text``) before it reaches the
rich-text view; a tooltip made here holds ``app.plain_text.tooltip``'s form. The only
links in the transcript are the ones made here, ``cite:TURN/N``, so a document
cannot inject a ``javascript:`` or ``file:`` link, or any tag.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Literal, cast

from PySide6.QtCore import QUrl

from app.plain_text import rich, tooltip
from rag.answer.verify import FOLD_UNSUPPORTED
from rag.store.history import Turn
from rag.types import Answer, Citation, Claim

CITE_SCHEME = "cite"
SNIPPET_CHARS = 220
# Unsupported claims: a red that reads on light and dark backgrounds alike.
WARNING = "#d9534f"
_MARKER = re.compile(r"\[(\d{1,3})\]")


def plain(text: str) -> str:
    """Text as inert rich text: escaped, direction controls named, line breaks kept."""
    return rich(text)


# What a link points at: a source by its number (""), a key passage by its place ("k"), or
# the copied answer ("a", number 0).
LinkKind = Literal["", "k", "a", "u"]


def cite_url(turn: int, n: int, kind: LinkKind = "") -> str:
    """A link to source ``n`` of a turn, to its key passage number ``n`` (kind "k"), to its
    copied answer (kind "a"), or that shows its unsupported sentences (kind "u")."""
    return f"{CITE_SCHEME}:{turn}/{kind}{n}"


def parse_cite_url(url: QUrl) -> tuple[int, int, LinkKind] | None:
    """(turn, n, kind) of a link made by ``cite_url``; None for anything else."""
    if url.scheme() != CITE_SCHEME:
        return None
    match = re.fullmatch(r"(\d+)/([kau]?)(\d+)", url.path())
    return (int(match[1]), int(match[3]), cast(LinkKind, match[2])) if match else None


def where(citation: Citation) -> str:
    return Path(citation.path).name + (f", page {citation.page}" if citation.page else "")


def snippet(text: str, *, chars: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= chars else flat[: chars - 1] + "…"


def render_answer_text(
    turn_index: int, text: str, numbers: set[int], unsupported: tuple[Claim, ...] = ()
) -> str:
    """Escaped answer text whose ``[n]`` markers link to source ``n`` (when it exists) and
    whose unsupported sentences are struck through in the warning colour, with the reason
    as a tooltip."""

    def link(match: re.Match[str]) -> str:
        n = int(match[1])
        if n not in numbers:
            return match[0]
        return f'<a href="{cite_url(turn_index, n)}">[{n}]</a>'

    body = plain(text)
    for claim in unsupported:
        sentence = plain(claim.text)
        body = body.replace(
            sentence,
            f'<span style="color:{WARNING}; text-decoration: line-through" '
            f'title="{html.escape(tooltip(claim.reason or ""))}">{sentence}</span>',
            1,
        )
    return _MARKER.sub(link, body)


def render_key_passages(
    turn_index: int, passages: tuple[Citation, ...], muted: str, *, shown: Citation | None = None
) -> str:
    """The key passages, quoted, each linking to its highlighted span; but the one ``shown``
    already (holding the copied answer)."""
    if not [p for p in passages if p is not shown]:
        return ""
    rows = [f'<p style="color:{muted}">Key passages: the documents\' own words</p>']
    for i, passage in enumerate(passages):
        if passage is shown:
            continue
        url = cite_url(turn_index, i, "k")
        rows.append(
            f"<blockquote>“{plain(snippet(passage.text, chars=600))}” "
            f'<a href="{url}">[{passage.n}] {plain(where(passage))}</a></blockquote>'
        )
    return "".join(rows)


# The copied answer inside its sentence: dark text on yellow, on light and dark themes alike.
HIGHLIGHT = "background-color: #ffe066; color: #000000"


def render_copied(turn_index: int, answer: Answer) -> str:
    """A copied answer first, linking to its span on the page, then the sentence it was
    copied from, quoted, with the copied words highlighted."""
    copied = answer.copied
    found = answer.copied_from
    if copied is None or found is None:
        return ""
    passage, start, end = found
    text = passage.text
    quote = (
        f"{plain(' '.join(text[:start].split()))} "
        f'<span style="{HIGHLIGHT}">{plain(" ".join(text[start:end].split()))}</span> '
        f"{plain(' '.join(text[end:].split()))}"
    )
    url = cite_url(turn_index, 0, "a")
    return (
        f'<p><b>Hushdoc:</b> <a href="{url}"><b>{plain(" ".join(copied.text.split()))}</b></a> '
        f'<a href="{url}">[{copied.n}]</a></p>'
        f'<blockquote>“{quote.strip()}” <a href="{url}">[{copied.n}] {plain(where(copied))}</a>'
        "</blockquote>"
    )


def render_unsupported(turn_index: int, claims: tuple[Claim, ...], *, unfold: bool) -> str:
    """The unsupported sentences with the reasons; more than ``FOLD_UNSUPPORTED`` fold into
    one line (they are struck through in the answer) unless ``unfold``."""
    if not claims:
        return ""
    if len(claims) > FOLD_UNSUPPORTED and not unfold:
        return (
            f'<p style="color:{WARNING}"><b>{len(claims)} sentences not supported by your '
            f'documents</b> (struck through above). <a href="{cite_url(turn_index, 0, "u")}">'
            "Show them</a></p>"
        )
    rows = [
        f"<li>“{plain(c.text)}”: {plain(c.reason or 'no source says this')}</li>" for c in claims
    ]
    return (
        f'<p style="color:{WARNING}"><b>Not supported by your documents</b> (check before '
        f"relying on it):</p><ul>{''.join(rows)}</ul>"
    )


def render_read_as(read_as: str | None, muted: str) -> str:
    """How a follow-up question was read, with the earlier words it was searched with."""
    return f'<p style="color:{muted}"><i>Read as: {plain(read_as)}</i></p>' if read_as else ""


def render_turn(index: int, turn: Turn, *, muted: str = "#777", unfold: bool = False) -> str:
    answer = turn.answer
    parts = [f"<p><b>You:</b> {plain(turn.question)}"]
    if turn.document:
        parts.append(
            f' <span style="color:{muted}">(in {plain(Path(turn.document).name)} only)</span>'
        )
    parts.append("</p>")
    parts.append(render_read_as(answer.read_as, muted))
    if answer.abstained:
        parts.append(
            f"<p><b>Hushdoc:</b> <i>Not found in your documents.</i> {plain(answer.text)}</p>"
        )
    else:
        copied = render_copied(index, answer)
        found = answer.copied_from
        parts.append(copied)
        shown = found[0] if found else None
        parts.append(render_key_passages(index, answer.key_passages, muted, shown=shown))
        numbers = {c.n for c in answer.sources}
        body = render_answer_text(index, answer.text, numbers, answer.unsupported)
        stopped = f' <i style="color:{muted}">(stopped)</i>' if turn.stopped else ""
        if not copied or stopped:
            parts.append(f"<p><b>Hushdoc:</b> {body}{stopped}</p>")
        if answer.notice:
            parts.append(f'<p style="color:{muted}"><i>{plain(answer.notice)}</i></p>')
        parts.append(render_unsupported(index, answer.unsupported, unfold=unfold))
    cards = answer.citations or (() if answer.abstained or turn.stopped else answer.sources)
    if cards:
        parts.append(f'<p style="color:{muted}">Sources</p>')
        parts.append('<table cellspacing="4" width="100%">')
        for c in cards:
            parts.append(
                "<tr><td valign=top>"
                f'<a href="{cite_url(index, c.n)}">[{c.n}]</a></td>'
                f'<td><a href="{cite_url(index, c.n)}">{plain(where(c))}</a><br>'
                f'<span style="color:{muted}">{plain(snippet(c.text))}</span></td></tr>'
            )
        parts.append("</table>")
    parts.append("<p></p>")  # a blank line between turns
    return "".join(parts)


def render_transcript(
    turns: list[Turn], *, muted: str = "#777", unfolded: frozenset[int] = frozenset()
) -> str:
    """The turns; those in ``unfolded`` list all their unsupported sentences."""
    return "".join(
        render_turn(i, t, muted=muted, unfold=i in unfolded) for i, t in enumerate(turns)
    )


def render_pending(question: str, document: str | None) -> str:
    scope = f" (in {plain(Path(document).name)} only)" if document else ""
    return f"<p><b>You:</b> {plain(question)}{scope}</p><p><b>Hushdoc:</b> </p>"
