"""Direction controls shown, not obeyed.

Unicode's bidirectional controls (embeddings, overrides, isolates and marks) reorder the
characters around them when text is drawn: a file named ``report\u202efdp.exe`` is shown
as ``reportexe.pdf``, and a sentence can be made to read backwards from what it holds (the
"Trojan Source" trick, CVE-2021-42574). File names and document text reach the terminal
and the app's widgets, so each such control is shown there as its code point,
``<U+202E>``, as GNU less shows one. Only what is shown changes: the indexed text keeps
them, so search is unchanged.
"""

from __future__ import annotations

# U+061C arabic letter mark; U+200E/U+200F left-to-right and right-to-left marks; U+202A-E
# embeddings, overrides and their pop; U+2066-9 isolates and their pop.
DIRECTION_CONTROLS = frozenset(
    {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
)
SHOWN_CONTROLS = {code: f"<U+{code:04X}>" for code in sorted(DIRECTION_CONTROLS)}


def show_direction_controls(text: str) -> str:
    """``text`` with each bidirectional control replaced by its visible name, ``<U+202E>``.
    Every name is 8 characters, so ``len(show_direction_controls(text[:i]))`` is where
    character ``i`` of ``text`` is in the result."""
    return text.translate(SHOWN_CONTROLS)
