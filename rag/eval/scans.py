"""A scan set, for ``hushdoc eval ocr``: real born-digital PDF pages drawn as page images,
each with its own text layer kept as the reference that OCR is scored against.

Every page is written once per condition, as the files a user would add:
- ``clean-300`` and ``clean-200``: a grey PNG per page, at 300 and 200 dpi;
- ``fax``: a multi-page TIFF per source document, as fax machines store pages: 1-bit,
  CCITT group 4, 200 by 100 dpi (the TIFF's resolution tags say so), each page turned
  by 0.5-1.5 degrees and sprinkled with salt-and-pepper noise;
- ``pdf-200``: an image-only PDF per source document, its pages the 200 dpi images as
  JPEG, as a scanner writes them.

The same files feed the metrics and Hushdoc's real loader. The pages are chosen, turned
and sprinkled by a seeded generator, so a set built twice is the same set.
``scans.json`` lists the pages (source, page number, reference text) and each file's
pages in order.
"""

from __future__ import annotations

import json
import math
import random
import zlib
from collections.abc import Generator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import HushdocError
from rag.load.text import clean_text, drop_page_number
from rag.types import Progress

if TYPE_CHECKING:
    from PIL.Image import Image

MANIFEST = "scans.json"
SCAN_SET_VERSION = 1
CONDITIONS = ("clean-300", "clean-200", "fax", "pdf-200")
# A page is a good reference when its text layer holds at least this many characters,
# mostly letters: a short or garbled text layer says little about OCR.
MIN_REFERENCE_CHARS = 400
MIN_LETTER_SHARE = 0.6
# At most this many pages of one source document, unless its group has too few documents.
PAGES_PER_SOURCE = 2
# Fax: the skew range in degrees (either way), and the share of pixels turned black
# (pepper) and white (salt) each. 0.1% is about 1,900 specks on a letter page.
FAX_SKEW_DEGREES = (0.5, 1.5)
FAX_NOISE_SHARE = 0.001
FAX_DPI = (200, 100)
# Grey levels darker than this are black on the fax; fax machines err towards black.
FAX_THRESHOLD = 150
SCANNED_PDF_JPEG_QUALITY = 75


@dataclass(frozen=True, slots=True)
class ScanPage:
    """A source page: ``id`` names it in the set, ``group`` is the collection it came from
    (the folder's name), ``reference`` its text layer as Hushdoc's PDF loader reads it."""

    id: str
    group: str
    source: str
    page: int
    reference: str


@dataclass(frozen=True, slots=True)
class ScanFile:
    """A file of the set (relative to its folder) and the ids of its pages, in order."""

    condition: str
    path: str
    pages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScanSet:
    folder: Path
    seed: int
    pages: tuple[ScanPage, ...]
    files: tuple[ScanFile, ...]

    def page(self, page_id: str) -> ScanPage:
        return self._by_id[page_id]

    @property
    def _by_id(self) -> dict[str, ScanPage]:
        return {p.id: p for p in self.pages}

    def conditions(self) -> list[str]:
        return [c for c in CONDITIONS if any(f.condition == c for f in self.files)]


def pick_pages(sources: Sequence[Path], *, pages: int, seed: int) -> list[ScanPage]:
    """About ``pages`` pages with a usable text layer, split evenly between the groups
    ``sources`` (each a folder of PDFs, or one PDF), at most ``PAGES_PER_SOURCE`` from
    one document unless its group has too few documents."""
    if not sources:
        raise HushdocError("Name at least one folder of PDFs to build the scan set from.")
    rng = random.Random(seed)
    picked: list[ScanPage] = []
    for index, source in enumerate(sources):
        quota = pages // len(sources) + (index < pages % len(sources))
        pdfs = sorted(source.rglob("*.pdf")) if source.is_dir() else [source]
        if not pdfs:
            raise HushdocError(f"{source} holds no PDF to build the scan set from.")
        rng.shuffle(pdfs)
        per_source = max(PAGES_PER_SOURCE, math.ceil(quota / len(pdfs)))
        group = _group_name(source)
        for pdf in pdfs:
            if quota <= 0:
                break
            texts = _reference_pages(pdf)
            chosen = sorted(rng.sample(sorted(texts), min(per_source, quota, len(texts))))
            for number in chosen:
                page_id = f"{group}/{pdf.stem[:40]}-p{number}"
                picked.append(ScanPage(page_id, group, str(pdf), number, texts[number]))
            quota -= len(chosen)
    return picked


def build_scan_set(
    folder: Path,
    pages: Sequence[ScanPage],
    *,
    seed: int,
    conditions: Sequence[str] = CONDITIONS,
) -> Generator[Progress, None, ScanSet]:
    """Write ``pages`` as page images into ``folder`` under each condition, and the
    manifest; yields a step per source page."""
    import pypdfium2

    unknown = sorted(set(conditions) - set(CONDITIONS))
    if unknown:
        raise HushdocError(f"Unknown scan condition {unknown[0]!r}; use {', '.join(CONDITIONS)}.")
    folder.mkdir(parents=True, exist_ok=True)
    by_source: dict[str, list[ScanPage]] = {}
    for page in pages:
        by_source.setdefault(page.source, []).append(page)
    files: list[ScanFile] = []
    done = 0
    for source, source_pages in by_source.items():
        document = pypdfium2.PdfDocument(source)
        try:
            fax: list[Image] = []
            scanned: list[Image] = []
            for page in source_pages:
                name = _file_stem(page)
                for condition, dpi in (("clean-300", 300), ("clean-200", 200)):
                    if condition in conditions:
                        path = f"{condition}/{name}.png"
                        _save_png(_render(document, page.page, dpi), folder / path, dpi)
                        files.append(ScanFile(condition, path, (page.id,)))
                grey = _render(document, page.page, 200)
                fax.append(fax_page(grey, random.Random(_page_seed(seed, page.id))))
                scanned.append(grey)
                done += 1
                yield Progress("prepare", done, len(pages), page.source)
        finally:
            document.close()
        ids = tuple(p.id for p in source_pages)
        stem = _file_stem(source_pages[0]).rsplit("-p", 1)[0]
        if "fax" in conditions:
            path = f"fax/{stem}.tif"
            save_fax_tiff(fax, folder / path)
            files.append(ScanFile("fax", path, ids))
        if "pdf-200" in conditions:
            path = f"pdf-200/{stem}.pdf"
            save_scanned_pdf(scanned, folder / path, dpi=200)
            files.append(ScanFile("pdf-200", path, ids))
    scan_set = ScanSet(folder, seed, tuple(pages), tuple(files))
    write_manifest(scan_set)
    return scan_set


def fax_page(grey: Image, rng: random.Random) -> Image:
    """A 200 dpi grey page as a fax sends it: skewed, 200 by 100 dpi, 1-bit, noisy."""
    import numpy as np
    from PIL import Image as PILImage

    low, high = FAX_SKEW_DEGREES
    angle = rng.uniform(low, high) * rng.choice((-1, 1))
    turned = grey.rotate(angle, resample=PILImage.Resampling.BICUBIC, fillcolor=255)
    halved = turned.resize((turned.width, turned.height // 2), PILImage.Resampling.BOX)
    black = np.asarray(halved) < FAX_THRESHOLD
    noise = np.random.default_rng(rng.getrandbits(32)).random((2, *black.shape))
    black = (black | (noise[0] < FAX_NOISE_SHARE)) & (noise[1] >= FAX_NOISE_SHARE)
    return PILImage.fromarray(np.where(black, 0, 255).astype(np.uint8)).convert("1")


def save_fax_tiff(frames: Sequence[Image], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    first, *rest = frames
    first.save(path, "TIFF", save_all=True, append_images=rest, compression="group4", dpi=FAX_DPI)


def save_scanned_pdf(frames: Sequence[Image], path: Path, *, dpi: int) -> None:
    """An image-only PDF, a page per frame, each drawn at ``dpi``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    first, *rest = frames
    first.save(
        path,
        "PDF",
        save_all=True,
        append_images=rest,
        resolution=dpi,
        quality=SCANNED_PDF_JPEG_QUALITY,
    )


def write_manifest(scan_set: ScanSet) -> None:
    data = {
        "version": SCAN_SET_VERSION,
        "seed": scan_set.seed,
        "pages": [asdict(p) for p in scan_set.pages],
        "files": [asdict(f) for f in scan_set.files],
    }
    text = json.dumps(data, indent=1, ensure_ascii=False)
    (scan_set.folder / MANIFEST).write_text(text + "\n", encoding="utf-8")


def read_scan_set(folder: Path) -> ScanSet:
    path = folder / MANIFEST
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        pages = tuple(ScanPage(**p) for p in data["pages"])
        files = tuple(ScanFile(f["condition"], f["path"], tuple(f["pages"])) for f in data["files"])
        seed = int(data["seed"])
    except FileNotFoundError as exc:
        raise HushdocError(
            f"{folder} is not a scan set (no {MANIFEST}); build one with --build-from."
        ) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HushdocError(f"{path} is damaged ({exc}); build the scan set again.") from exc
    return ScanSet(folder, seed, pages, files)


def _reference_pages(pdf: Path) -> dict[int, str]:
    """The pages of ``pdf`` whose text layer makes a good reference: long enough, mostly
    letters, and no image on the page (whose words OCR would read and the layer lacks).
    The text is what Hushdoc's PDF loader reads: text under black boxes dropped, cleaned,
    the page's own number left out (as OCR leaves it out)."""
    import pypdf

    from rag.load.redaction import drop_covered_text

    found: dict[int, str] = {}
    try:
        reader = pypdf.PdfReader(pdf)
        for number, page in enumerate(reader.pages, 1):
            if len(page.images) > 0:
                continue
            drop_covered_text(page)
            text = drop_page_number(clean_text(page.extract_text() or ""), number).strip()
            letters = sum(c.isalpha() for c in text)
            if len(text) >= MIN_REFERENCE_CHARS and letters >= MIN_LETTER_SHARE * len(text):
                found[number] = text
    except Exception:  # noqa: BLE001 (a damaged PDF is no source; pypdf raises many kinds)
        return {}
    return found


def _render(document: Any, number: int, dpi: int) -> Image:
    page = document[number - 1]
    try:
        return page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        page.close()


def _save_png(image: Image, path: Path, dpi: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG", dpi=(dpi, dpi), optimize=True)


def _group_name(source: Path) -> str:
    """A folder's name, or its parent's for a data set's ``docs`` folder."""
    path = source.resolve()
    if path.is_file():
        path = path.parent
    return path.parent.name if path.name == "docs" else path.name


def _file_stem(page: ScanPage) -> str:
    return page.id.replace("/", "--")


def _page_seed(seed: int, page_id: str) -> int:
    """A page's own seed, so that its noise does not depend on the pages before it."""
    return seed * 1_000_003 + zlib.crc32(page_id.encode())
