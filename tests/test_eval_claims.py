"""``hushdoc eval claims``: reading a claim set, checking it as ``ask`` checks answers, and the
figures; the slow test runs the real set with the bundled embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import HashEmbedder
from test_cli import hushdoc

import rag.cli.evaluate as evaluate
from rag.cli.main import main
from rag.errors import HushdocError, InputFileError
from rag.eval.claims import (
    check_claim_set,
    claim_metrics,
    confusion,
    read_claim_set,
    verdict_of,
)
from rag.types import Claim

CLAIM_SET = Path(__file__).parent / "eval-data" / "claims" / "claims.jsonl"
INR = (
    "Warfarin was started at 5 mg daily with enoxaparin bridging. Her INR on the day of "
    "discharge was 2.1. The target INR for this patient is 2.0 to 3.0, with a goal of 2.5."
)
NDA = "This Agreement is governed by the laws of the State of Oregon."
LINES = [
    {"id": "t1", "claim": "Her INR on the day of discharge was 2.1.", "sources": [INR]},
    {"id": "t2", "claim": "This Agreement is governed by the laws of Oregon.", "sources": [NDA]},
    {"id": "f1", "claim": "The INR at discharge was 2.1 to 3.0.", "sources": [INR, NDA]},
    {"id": "f2", "claim": "Her INR on the day of discharge was 2.5.", "sources": [INR]},
    {"id": "f3", "claim": "The Agreement is governed by Delaware law.", "sources": [NDA]},
]
LABELS = ["supported", "supported", "unsupported", "unsupported", "unsupported"]


def write_set(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def small_set(tmp_path: Path) -> Path:
    lines = [{**line, "label": label} for line, label in zip(LINES, LABELS, strict=True)]
    return write_set(tmp_path / "claims.jsonl", lines)


def test_the_set_is_checked_against_each_claims_own_sources(small_set: Path) -> None:
    items = read_claim_set(small_set)
    assert [i.id for i in items] == ["t1", "t2", "f1", "f2", "f3"]
    checked = list(check_claim_set(items, HashEmbedder()))
    assert [c.verdict for c in checked] == [
        "supported",
        "supported",
        "unsupported",
        "unsupported",
        "unsupported",
    ]
    assert checked[3].reason == "2.5 is not in the source sentence this restates"
    assert checked[4].reason == '"Delaware" appears in no source'
    assert claim_metrics(checked) == {
        "claims": 5,
        "true": 2,
        "false": 3,
        "true_supported": 1.0,
        "false_supported": 0.0,
    }
    assert confusion(checked)["unsupported"] == {"supported": 0, "unsupported": 3, "uncited": 0}


def test_a_claim_cut_into_sentences_is_supported_only_if_none_of_them_is_unsupported() -> None:
    lead = Claim("Yes.", "uncited")
    held = Claim("It is 2.0 to 3.0.", "supported", (1,))
    wrong = Claim("It is 7.", "unsupported", (), "7 appears in no source")
    assert verdict_of([lead, held]) == ("supported", None)
    assert verdict_of([held, wrong]) == ("unsupported", "7 appears in no source")
    assert verdict_of([lead]) == ("uncited", None)


def test_a_missing_file_or_a_bad_line_names_the_file_and_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="gone.jsonl does not exist"):
        read_claim_set(tmp_path / "gone.jsonl")
    bad_label = write_set(tmp_path / "bad.jsonl", [{**LINES[0], "label": "true"}])
    with pytest.raises(InputFileError, match=r"bad\.jsonl, line 1: .*\"label\" of"):
        read_claim_set(bad_label)
    no_sources = write_set(
        tmp_path / "empty.jsonl", [{**LINES[0], "label": "supported", "sources": []}]
    )
    with pytest.raises(InputFileError, match=r"empty\.jsonl, line 1:"):
        read_claim_set(no_sources)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({**LINES[0], "label": "supported"}) + "\n{not json\n")
    with pytest.raises(InputFileError, match=r"broken\.jsonl, line 2: expected one JSON object"):
        read_claim_set(broken)
    assert issubclass(InputFileError, HushdocError)


def test_the_command_prints_the_confusion_matrix_and_the_json_figures(
    small_set: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(evaluate, "load_embedder", lambda config: HashEmbedder())
    out = small_set.parent / "verdicts.jsonl"
    assert main(["eval", "claims", "--set", str(small_set), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "5 claims: 2 true, 3 false." in text
    assert text.splitlines()[2].split() == ["supported", "2", "0", "0"]
    assert text.splitlines()[3].split() == ["unsupported", "0", "3", "0"]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["verdict"] for line in lines] == ["supported"] * 2 + ["unsupported"] * 3
    assert main(["eval", "claims", "--set", str(small_set), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures == {
        "claims": 5,
        "true": 2,
        "false": 3,
        "true_supported": 1.0,
        "false_supported": 0.0,
    }


def test_the_command_reports_a_missing_set_without_loading_a_model(tmp_path: Path) -> None:
    result = hushdoc(
        "eval", "claims", "--set", str(tmp_path / "none.jsonl"), home=tmp_path, check=False
    )
    assert result.returncode == 1
    assert "none.jsonl does not exist" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_the_claim_set_with_the_bundled_embedder(hushdoc_home: Path) -> None:
    """The check's figures on the whole claim set (measured 0.910 and 0.169): it supports
    most true claims and few false ones."""
    result = hushdoc("eval", "claims", "--set", str(CLAIM_SET), "--json", home=hushdoc_home)
    figures = json.loads(result.stdout)
    assert (figures["claims"], figures["true"], figures["false"]) == (585, 277, 308)
    assert figures["true_supported"] >= 0.90
    assert figures["false_supported"] <= 0.18
