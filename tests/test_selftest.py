"""``hushdoc --selftest`` from the source tree, on the session's models (the bundle runs
the same code: packaging/build.sh runs it there, offline)."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from app.models import LoadedModels
from app.selftest import run_selftest
from rag.assets import samples_dir
from rag.cli.main import main
from rag.config import Config
from rag.eval.selftest import check_engine, citation_problem
from rag.load.document import load_document
from rag.types import Citation

DISCHARGE = samples_dir() / "discharge-summary.pdf"


@pytest.mark.slow
def test_the_selftest_passes_and_says_so_in_one_line(qapp, embedder, generator, capsys):
    assert run_selftest(models=LoadedModels(embedder, generator)) == 0
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and out.startswith("hushdoc selftest: PASS (13 checks;")
    assert "time to window" in out
    checked = [line.split()[1].rstrip(":") for line in err.splitlines() if line.startswith("  ok")]
    assert checked == [
        "window", "app", "index", "answer", "copy", "citation", "refusal", "abbreviation",
        "timeline", "ocr", "review", "viewer", "close"
    ]  # fmt: skip
    assert "discharge-summary.pdf p.1" in err


@pytest.mark.slow
def test_samples_without_the_answer_fail_the_engine_check(embedder, generator, tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    shutil.copy(samples_dir() / "mutual-nda.pdf", samples)
    result = check_engine(
        Config(data_dir=tmp_path / "home"), samples, embedder=embedder, generator=generator
    )
    verdicts = {check.name: check for check in result.checks}
    assert verdicts["index"].ok and "1 of 1" in verdicts["index"].detail
    assert (
        not verdicts["citation"].ok and "not discharge-summary.pdf" in verdicts["citation"].detail
    )
    assert result.citation is None
    assert verdicts["refusal"].ok and '"amiodarone"' in verdicts["refusal"].detail
    assert not verdicts["ocr"].ok and "was not read by OCR" in verdicts["ocr"].detail
    assert not verdicts["review"].ok and "1 cells; discharge-summary.pdf: 'no cell'" in (
        verdicts["review"].detail
    )


def test_a_citation_that_points_elsewhere_is_caught(tmp_path):
    text = "The target INR for this patient is 2.0 to 3.0"
    page = load_document(DISCHARGE).pages[0]
    start = page.text.index(text)
    good = Citation(1, str(DISCHARGE), 1, start, start + len(text), text)
    assert citation_problem(good) is None
    shifted = dataclasses.replace(good, start=start + 1, end=start + len(text) + 1)
    assert "are not the cited text" in (citation_problem(shifted) or "")
    assert "has no page 9" in (citation_problem(dataclasses.replace(good, page=9)) or "")
    moved = dataclasses.replace(good, path=str(tmp_path / "gone.pdf"))
    assert "does not exist" in (citation_problem(moved) or "")


def test_selftest_takes_no_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--selftest", "list"])
    assert exit_.value.code == 2 and "--selftest takes no command" in capsys.readouterr().err
