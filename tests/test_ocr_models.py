"""The OCR models Hushdoc ships, and how the OCR's threads are shared out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.hashing import file_sha256
from rag.load import ocr
from rag.load.ocr import OCR_MODELS, Ocr, model_paths
from rag.types import PageOcr


def test_the_shipped_models_are_the_ones_their_manifest_records():
    paths = model_paths()
    folder = paths["Det.model_path"].parent
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert set(manifest["files"]) == set(OCR_MODELS.values())
    for name, digest in manifest["files"].items():
        assert file_sha256(folder / name) == digest, f"{name} is not the file built"
    # Calibrated on pages the eval's scan set does not hold, from each kind of document.
    groups = {page.split("/")[0] for page in manifest["calibration"]["pages"]}
    assert len(groups) == 3


def test_the_recogniser_keeps_latin_text_and_drops_cjk():
    import onnx

    model = onnx.load(model_paths()["Rec.model_path"], load_external_data=False)
    characters = next(p.value for p in model.metadata_props if p.key == "character")
    assert {"A", "z", "0", "§", "µ", "±", "é", "–"} <= set(characters.splitlines())
    assert "中" not in characters
    assert all(ord(c) < 0x3000 for c in characters.splitlines())


class _Reader:
    def __init__(self, threads: int) -> None:
        self.threads = threads

    def read(self, image: object, number: int | None = None) -> tuple[str, PageOcr]:
        return f"page {number} on {self.threads} threads", PageOcr((), 0.0)


@pytest.mark.parametrize(("pages", "threads"), [(1, 2), (2, 1), (9, 1)])
def test_a_one_page_scan_is_read_on_the_threads_of_both_workers(monkeypatch, pages, threads):
    monkeypatch.setattr(ocr, "_reader", _Reader)
    reading = Ocr.for_cores(2)
    read = reading.read_pages(Path("scan.tif"), range(1, pages + 1), lambda n: None)
    assert read[1][0] == f"page 1 on {threads} threads"


@pytest.mark.parametrize(
    ("cores", "parsers", "workers", "threads", "one_page_threads"),
    [(2, 1, 2, 1, 2), (2, 2, 2, 1, 1), (8, 2, 2, 2, 2), (1, 2, 1, 1, 1)],
)
def test_parsers_reading_other_files_at_once_share_the_cores(
    monkeypatch, cores, parsers, workers, threads, one_page_threads
):
    monkeypatch.setattr(ocr, "_reader", _Reader)
    reading = Ocr.for_cores(cores, parsers=parsers)
    assert (reading.workers, reading.threads) == (workers, threads)
    # A one-page scan takes the idle worker's threads only when no other parser runs.
    read = reading.read_pages(Path("scan.png"), [1], lambda n: None)
    assert read[1][0] == f"page 1 on {one_page_threads} threads"
