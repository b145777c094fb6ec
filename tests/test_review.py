"""``hushdoc review`` end to end with the real bundled models, on the sample documents:
the discharge checklist over the discharge summary, the NDA and the faxed clinic letter
(read by OCR)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from test_cli import hushdoc

SAMPLES = Path(__file__).resolve().parent.parent / "assets" / "samples"


@pytest.mark.slow
def test_the_discharge_checklist_over_the_samples(tmp_path: Path, hushdoc_home: Path) -> None:
    hushdoc("index", str(SAMPLES), home=hushdoc_home)
    out = tmp_path / "review.csv"
    result = hushdoc(
        "review", "--checklist", "discharge", "--json", "--csv", str(out), home=hushdoc_home
    )
    review = json.loads(result.stdout)
    assert len(review["questions"]) == 6
    rows = {Path(row["path"]).name: row["cells"] for row in review["rows"]}
    assert set(rows) == {"discharge-summary.pdf", "mutual-nda.pdf", "clinic-letter-fax.pdf"}
    summary = {cell["question"]: cell for cell in rows["discharge-summary.pdf"]}
    medications = summary["What medications was the patient discharged on, with doses?"]
    assert not medications["abstained"] and "5 mg" in medications["answer"]
    [citation] = medications["citations"]
    assert citation["page"] == 2 and "Warfarin" in citation["text"]
    stopped = summary["Which medications were stopped?"]
    assert "Aspirin" in stopped["answer"] and stopped["citations"][0]["page"] == 2
    # The sample states no allergy: refused, not made up.
    assert summary["What allergies does the patient have?"]["abstained"]
    # An NDA holds no medication.
    assert all(cell["abstained"] for cell in rows["mutual-nda.pdf"][1:3])
    table = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert table[0][:3] == ["document", "Diagnoses", "Medications"] and len(table) == 4
