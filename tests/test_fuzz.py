"""Fuzzing: no file makes a loader raise anything but ``DocumentError``, or run long; and the
redaction code takes any page's drawing without failing, quickly.

Hypothesis makes the inputs: byte-level mutations of the seed files in ``tests/fuzz-corpus``
(a span replaced, cut, or repeated up to a few thousand times, which is how a small file
turns hostile), and PDF pages drawn from a grammar of content stream operators and
operands. The ``@example``s are the hostile inputs of issue 17, made small. Each run replays
the examples in the corpus's database (``tests/fuzz-corpus/examples``) first.

The fast tier runs a few dozen examples of each test, in a few seconds. A longer run, with
``HUSHDOC_FUZZ_EXAMPLES=5000`` say, saves every failing input it finds to the database, to
be committed with its fix and replayed by every run after.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import pypdf
import pytest
from fakes import ScriptedReader
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase, ReadOnlyDatabase
from pdfs import write_pdf
from pypdf.errors import PyPdfError
from pypdf.generic import ContentStream

from rag.errors import DocumentError
from rag.load.document import load_document
from rag.load.ocr import Ocr
from rag.load.redaction import redact_page

CORPUS = Path(__file__).parent / "fuzz-corpus"
SEEDS = {
    suffix: [path.read_bytes() for path in sorted(CORPUS.glob(f"*{suffix}"))]
    for suffix in (".pdf", ".html")
}
# Mutated files stay small, so that each example takes milliseconds when the code is linear.
MAX_BYTES = 256 * 1024
# Generous, for a shared machine: linear code takes a few milliseconds on these inputs;
# the quadratic code of issue 17 took 16 s on 160 KB of HTML and 11 s on a 1 KB PDF.
MAX_CPU_S = 2.0

_EXAMPLES = int(os.environ.get("HUSHDOC_FUZZ_EXAMPLES", "0"))
_DATABASE = DirectoryBasedExampleDatabase(CORPUS / "examples")
FUZZ = settings(
    max_examples=_EXAMPLES or 30,
    deadline=None,  # timed by CPU below: the wall clock of a shared machine says little
    database=_DATABASE if _EXAMPLES else ReadOnlyDatabase(_DATABASE),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)

# Pieces of PDF and HTML syntax that a mutation inserts, besides random bytes.
TOKENS = [
    b" re f ",
    b" Tj ",
    b" TJ ",
    b"[",
    b"]",
    b"<<",
    b">>",
    b" 0 R ",
    b"q ",
    b"Q ",
    b"BT ",
    b"ET ",
    b"/W [0 65535 500] ",
    b"1e308 ",
    b"-0.0001 ",
    b"(",
    b")",
    b"<a",
    b"</",
    b"<!--",
    b"<script>",
    b"&nbsp;",
    b"&#",
    b"<a b='",
    b"\xa0",
]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed file with a few spans replaced, cut, or repeated."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 64)))
        change = draw(st.sampled_from(["replace", "cut", "insert", "repeat"]))
        if change == "replace":
            data[start:end] = draw(st.binary(max_size=16))
        elif change == "cut":
            del data[start:end]
        elif change == "insert":
            data[start:start] = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=8))
        else:
            times = draw(st.integers(2, 4000))
            data[start:end] = bytes(data[start:end]) * times
        del data[MAX_BYTES:]
    return bytes(data)


NUMBERS = st.one_of(
    st.integers(-800, 800),
    st.floats(-1e4, 1e4, allow_nan=False).map(lambda x: round(x, 3)),
    st.sampled_from([0, 1e30, -1e30, 3.4e38, 0.0001]),
)
OPERANDS = st.one_of(
    NUMBERS.map(lambda n: str(n).encode()),
    st.binary(max_size=12).map(lambda b: b"<" + b.hex().encode() + b">"),
    st.sampled_from([b"/F1", b"/F9", b"/Faint", b"/DeviceRGB", b"/Pattern", b"(x y z)", b"true"]),
    st.lists(NUMBERS.map(lambda n: str(n).encode()) | st.just(b"(ab)"), max_size=5).map(
        lambda items: b"[" + b" ".join(items) + b"]"
    ),
)
OPERATORS = (
    b"q Q cm g rg k cs sc scn gs re m l c v y h f F f* B b n S s BT ET Tf Tc Tw Tz TL Ts Tr "
    b"Td TD Tm T* Tj TJ ' \" Do BI xx"
).split()
OPERATIONS = st.tuples(st.lists(OPERANDS, max_size=6), st.sampled_from(OPERATORS)).map(
    lambda op: b" ".join([*op[0], op[1]])
)
ANNOTATIONS = st.lists(
    st.tuples(
        st.sampled_from([b"/Redact", b"/Square", b"/Text"]),
        st.lists(NUMBERS.map(lambda n: str(n).encode()) | st.just(b"/X"), max_size=5),
    ).map(lambda a: b"<< /Subtype %s /Rect [%s] /IC [0 0 0] >>" % (a[0], b" ".join(a[1]))),
    max_size=3,
)


class NoOcr(Ocr):
    """OCR that reads no page: these tests are about parsing, not about drawing or reading
    page images (which a mutated page size could make as large as it likes)."""

    def __init__(self) -> None:
        super().__init__(page_reader=ScriptedReader(""))

    def read_pages(self, path, numbers, render):  # type: ignore[no-untyped-def]
        return {}


def load_within_bounds(path: Path, data: bytes) -> None:
    """Load ``data`` as ``path``: a ``DocumentError`` or a document, in bounded time."""
    path.write_bytes(data)
    started = time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns of each repair it makes
            load_document(path, ocr=NoOcr())
    except DocumentError:
        pass
    assert time.process_time() - started < MAX_CPU_S


@FUZZ
@given(data=mutated(SEEDS[".html"]))
@example(data=b"<p>Visiting hours end at 8 pm.</p>" + b"<a" * 100_000)
@example(data=b"<p>x" + b"&nbsp;" * 30_000 + b"x</p>")
@example(data=b"<p>x</p>" + b"<div>" * 50_000)
def test_no_html_file_breaks_the_loader(tmp_path_factory, data):
    load_within_bounds(tmp_path_factory.mktemp("html") / "page.html", data)


@FUZZ
@given(data=mutated(SEEDS[".pdf"]))
def test_no_pdf_file_breaks_the_loader(tmp_path_factory, data):
    load_within_bounds(tmp_path_factory.mktemp("pdf") / "file.pdf", data)


@FUZZ
@given(content=st.lists(OPERATIONS, max_size=40), times=st.integers(1, 300), annots=ANNOTATIONS)
@example(
    content=[b"BT /F1 12 Tf -6 Tc 72 700 Td (" + b"x" * 400 + b") Tj ET", b"0 g"],
    times=1,
    annots=[],
)
@example(
    content=[
        b"BT /F1 12 Tf -6 Tc 72 700 Td (xxxxxxxxxx) Tj ET 0 g 1 0 0 1 0.0001 0 cm 70 703 5.5 9 re f"
    ],
    times=300,
    annots=[b"<< /Subtype /Redact /Rect [0 0 1e30 1e30] >>"],
)
@example(content=[], times=1, annots=[b"<< /Subtype /Redact /Rect [] /IC [0 0 0] >>"])
@example(content=[b"0 BI"], times=1, annots=[])
@example(content=[b"Tj", b"[] Tf"], times=1, annots=[])
def test_redaction_takes_any_drawing(tmp_path_factory, content, times, annots):
    """Whatever a page draws, redaction finishes quickly, raises at most one of pypdf's
    errors (which the PDF loader reports for the page), and leaves a page that pypdf still
    extracts if it extracted the page as drawn."""
    drawing = b"\n".join(content) * times
    path = write_pdf(
        tmp_path_factory.mktemp("page") / "page.pdf", [drawing], annotations={0: annots}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page = pypdf.PdfReader(path).pages[0]
        try:
            _ = ContentStream(page["/Contents"], page.pdf).operations
        except Exception:  # pypdf cannot parse it (even asserts): the page is unreadable
            return
        try:
            as_drawn = pypdf.PdfReader(path).pages[0].extract_text()
        except Exception:  # pypdf's own bugs (it hashes an array, say): not redaction's
            as_drawn = None
        started = time.process_time()
        try:
            redaction = redact_page(page)
        except PyPdfError:
            return
        assert time.process_time() - started < MAX_CPU_S
        if as_drawn is None:
            return
        redacted = page.extract_text()
    if redaction.hidden == 0:
        assert redacted == as_drawn


@pytest.mark.parametrize("suffix", sorted(SEEDS))
def test_the_seeds_load(tmp_path, suffix):
    """The seeds are documents the loaders read, so that mutations start from the real thing."""
    for number, data in enumerate(SEEDS[suffix]):
        path = tmp_path / f"{number}{suffix}"
        path.write_bytes(data)
        assert load_document(path, ocr=NoOcr()).pages[0].text.strip()
