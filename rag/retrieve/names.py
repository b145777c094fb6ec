"""Names: a question that names a document by its file name is asked of that document.

People call a document what its file is called: "the NDA" is ``mutual-nda.pdf``,
though the contract itself never says "NDA". A word of the question that no
passage uses but one document's file name does names that document, and the
question is then searched within it alone, as if asked with "Only in". The
answer says so (``read_as``: "… (in mutual-nda.pdf)").
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.store.database import Store
from rag.text.words import content_words, name_terms, terms


def named_document(question: str, store: Store, paths: Sequence[str]) -> str | None:
    """The one document of ``paths`` that ``question`` names by a word of its file name
    that no passage holds; None if it names none, or more than one."""
    said = list(dict.fromkeys(content_words(question)))
    if not said or len(paths) < 2:
        return None
    counts = store.term_counts(said)
    naming = [
        w
        for w, n, named in zip(said, counts.holding, counts.naming, strict=True)
        if named and not n
    ]
    if not naming:
        return None
    wanted = set(terms(" ".join(naming)))
    matches = [p for p in paths if wanted & name_terms(p)]
    return matches[0] if len(matches) == 1 else None
