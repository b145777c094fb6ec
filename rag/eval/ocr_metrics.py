"""OCR error rates: characters and words, against a page's reference text.

Both texts are normalised the same way first (``normalize_ocr_text``): Unicode NFKC
(ligatures such as "ﬁ" become "fi"), curly quotes and primes to ASCII quotes, every
dash and minus to "-", soft hyphens dropped, and every run of whitespace (line breaks
included) to one space. Case and punctuation count.

- ``char_error_rate``: Levenshtein distance between the two strings over the
  reference's length (CER; above 1 when OCR adds more than the page holds);
- ``word_error_rate``: the same over the sequences of words split at spaces (WER);
- ``ordered_cer``: CER after OCR's lines are put in the reference's order (or as read,
  if that is lower), each line where it matches in the reference, after the line before
  it if it can (rapidfuzz's partial alignment; a short line, or one that matches
  nowhere, stays after the line before it). Reading order differs between a
  text layer and OCR on multi-column pages, and where a header line comes last in the
  text layer; this counts what was read wrong, missed or added, not where it was read;
- ``bag_wer``: WER as if word order were free: the larger of the words missed and the
  words added, over the reference's words.

The distances are rapidfuzz's, which runs in C.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rag.errors import HushdocError

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00ad": None,
    }
)
_SPACE = re.compile(r"\s+")
# A line of OCR is placed after the line before it where it matches the reference there at
# least this well (0-100), else anywhere it matches at least the second; a shorter line
# ("(a)", "V.") could match anywhere, and stays after the line before it.
MIN_LINE_MATCH_AHEAD = 90
MIN_LINE_MATCH = 60
MIN_PLACED_LINE_CHARS = 12


def normalize_ocr_text(text: str) -> str:
    """The form both sides are compared in (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class PageErrors:
    """One page's error rates, and the reference's size they are shares of."""

    cer: float
    wer: float
    ordered_cer: float
    bag_wer: float
    ref_chars: int
    ref_words: int


def page_errors(reference: str, hypothesis: str) -> PageErrors:
    """The error rates of ``hypothesis`` (what OCR read) against ``reference``."""
    ref, hyp = normalize_ocr_text(reference), normalize_ocr_text(hypothesis)
    ref_words, hyp_words = ref.split(), hyp.split()
    return PageErrors(
        cer=_rate(_distance(ref, hyp), len(ref), len(hyp)),
        wer=_rate(_distance(ref_words, hyp_words), len(ref_words), len(hyp_words)),
        ordered_cer=_ordered_cer(ref, hypothesis.splitlines()),
        bag_wer=_rate(_unordered_distance(ref_words, hyp_words), len(ref_words), len(hyp_words)),
        ref_chars=len(ref),
        ref_words=len(ref_words),
    )


def char_error_rate(reference: str, hypothesis: str) -> float:
    return page_errors(reference, hypothesis).cer


def word_error_rate(reference: str, hypothesis: str) -> float:
    return page_errors(reference, hypothesis).wer


def summarize(values: Sequence[float]) -> dict[str, float | None]:
    """Median and mean of per-page figures (None for no pages)."""
    if not values:
        return {"median": None, "mean": None}
    return {"median": statistics.median(values), "mean": statistics.fmean(values)}


def check_available() -> None:
    """Raise a ``HushdocError`` saying what to install when rapidfuzz is missing."""
    try:
        import rapidfuzz  # noqa: F401
    except ImportError as exc:
        raise HushdocError("Measuring OCR needs rapidfuzz: pip install 'hushdoc[bench]'.") from exc


def _distance(reference: Sequence[str] | str, hypothesis: Sequence[str] | str) -> int:
    from rapidfuzz.distance import Levenshtein

    return int(Levenshtein.distance(reference, hypothesis))


def _ordered_cer(reference: str, lines: Sequence[str]) -> float:
    """CER of ``lines`` (OCR's, unnormalised) put in the order of ``reference`` (normalised),
    or as read if that is lower: a line is looked for after the line before it first, and
    only then in the whole reference, so that a phrase a page repeats does not move it."""
    from rapidfuzz import fuzz

    placed: list[tuple[int, int, str]] = []
    at = 0
    for index, raw in enumerate(lines):
        line = normalize_ocr_text(raw)
        if not line:
            continue
        if len(line) >= MIN_PLACED_LINE_CHARS:
            ahead = fuzz.partial_ratio_alignment(
                line, reference[at:], score_cutoff=MIN_LINE_MATCH_AHEAD
            )
            if ahead is not None:
                at += ahead.dest_start
            else:
                anywhere = fuzz.partial_ratio_alignment(
                    line, reference, score_cutoff=MIN_LINE_MATCH
                )
                at = anywhere.dest_start if anywhere is not None else at
        placed.append((at, index, line))
    ordered = " ".join(line for _, _, line in sorted(placed))
    as_read = " ".join(line for _, _, line in placed)
    return _rate(
        min(_distance(reference, ordered), _distance(reference, as_read)),
        len(reference),
        len(as_read),
    )


def _unordered_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """The fewest word edits if order were free: a missed word and an added one pair up
    as a substitution, the rest are deletions or insertions."""
    common = sum((Counter(reference) & Counter(hypothesis)).values())
    return max(len(reference), len(hypothesis)) - common


def _rate(errors: int, reference_size: int, hypothesis_size: int) -> float:
    if reference_size == 0:
        return 0.0 if hypothesis_size == 0 else 1.0
    return errors / reference_size
