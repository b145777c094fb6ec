"""The `hushdoc` command, run as a user would: a subprocess, with JSON output and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gguf_files import TINY_PARAMETERS, lay_out_apps

from rag.answer.model_folders import MODEL_DIRS_VARIABLE

DATA = Path(__file__).parent / "data"
HUSHDOC = [sys.executable, "-m", "rag"]


def hushdoc(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HUSHDOC_HOME=str(home))
    result = subprocess.run([*HUSHDOC, *args], capture_output=True, text=True, env=env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"hushdoc {' '.join(args)} failed: {result.stderr}")
    return result


@pytest.mark.slow
def test_index_ask_list_check_remove(tmp_path, hushdoc_home):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("discharge-summary.pdf", "mutual-nda.pdf", "scanned.pdf"):
        shutil.copy(DATA / name, docs / name)

    indexed = json.loads(hushdoc("index", str(docs), "--json", home=hushdoc_home).stdout)
    assert indexed["indexed"] == 3 and indexed["unchanged"] == 0 and indexed["chunks"] > 0
    assert indexed["failed"] == []

    answer = json.loads(
        hushdoc(
            "ask", "What is the target INR for this patient?", "--json", home=hushdoc_home
        ).stdout
    )
    assert answer["abstained"] is False
    assert {"n", "path", "page", "start", "end", "text"} <= set(answer["sources"][0])
    assert any(
        Path(c["path"]).name == "discharge-summary.pdf" and c["page"] == 1
        for c in answer["citations"]
    )

    listed = json.loads(hushdoc("list", "--json", home=hushdoc_home).stdout)
    assert {Path(d["path"]).name: (d["status"], d["ocr_pages"]) for d in listed} == {
        "discharge-summary.pdf": ("indexed", 0),
        "mutual-nda.pdf": ("indexed", 0),
        "scanned.pdf": ("indexed", 1),
    }
    assert "read by OCR (all pages, mean confidence" in hushdoc("list", home=hushdoc_home).stdout

    # show: what was read from the scan, page by page, and that the workspace indexed it.
    shown = json.loads(
        hushdoc("show", str(docs / "scanned.pdf"), "--json", home=hushdoc_home).stdout
    )
    [page] = shown["pages"]
    assert shown["indexed"] and page["ocr"] and page["confidence"] > 0.9
    assert "Docket No. 2017-03-1235" in page["text"]
    # One page of a fax, read by OCR alone.
    fax = str(DATA / "scans" / "nda-fax.tif")
    shown = json.loads(hushdoc("show", fax, "--page", "2", "--json", home=hushdoc_home).stdout)
    [page] = shown["pages"]
    assert page["page"] == 2 and page["ocr"] and "6. Return of Information" in page["text"]
    missing = hushdoc("show", fax, "--page", "5", home=hushdoc_home, check=False)
    assert missing.returncode == 1 and "has no page 5 (it has 2)" in missing.stderr

    check = json.loads(hushdoc("check", "--json", home=hushdoc_home).stdout)
    assert check["ok"] and check["documents"] == 3 and check["chunks"] == check["vectors"]

    hushdoc("remove", str(docs / "mutual-nda.pdf"), home=hushdoc_home)
    assert (
        "not indexed in workspace 'default'"
        in hushdoc("show", str(docs / "mutual-nda.pdf"), "--page", "2", home=hushdoc_home).stdout
    )
    check = json.loads(hushdoc("check", "--json", home=hushdoc_home).stdout)
    assert check["ok"] and check["documents"] == 2


@pytest.mark.slow
def test_batch_answers_every_line_with_its_id(tmp_path, hushdoc_home):
    hushdoc("index", str(DATA / "mutual-nda.pdf"), str(DATA / "notes.md"), home=hushdoc_home)
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "law",
                "question": "Which law governs the agreement?",
                "doc": str(DATA / "mutual-nda.pdf"),
            }
        )
        + "\n"
        + json.dumps({"id": "cup", "question": "Who won the 2018 FIFA World Cup?"})
        + "\n"
    )
    lines = hushdoc("ask", "--batch", str(questions), home=hushdoc_home).stdout.splitlines()
    answers = {a["id"]: a for a in map(json.loads, lines)}
    assert set(answers) == {"law", "cup"}
    assert {Path(s["path"]).name for s in answers["law"]["sources"]} == {"mutual-nda.pdf"}
    assert answers["cup"]["abstained"] is True


@pytest.mark.slow
def test_a_follow_up_is_read_with_the_earlier_question_and_says_so(tmp_path, hushdoc_home):
    hushdoc("index", str(DATA / "discharge-summary.pdf"), home=hushdoc_home)
    (hushdoc_home / "config.toml").write_text('answer_mode = "extractive"\n')
    # "Who is it with?" names nothing to search for; "it" is the appointment asked about.
    earlier, follow_up = "When is the cardiology appointment?", "Who is it with?"
    shown = hushdoc("ask", follow_up, "--after", earlier, home=hushdoc_home).stdout
    assert f"Read as: {follow_up} (about: cardiology appointment)" in shown
    assert "Cardiology clinic with Dr. Priya Nair: 2 April 2025" in shown
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": 1, "question": follow_up, "after": [earlier]}) + "\n")
    [line] = hushdoc("ask", "--batch", str(questions), home=hushdoc_home).stdout.splitlines()
    assert json.loads(line)["read_as"] == f"{follow_up} (about: cardiology appointment)"
    wrong = questions.with_name("wrong.jsonl")
    wrong.write_text(json.dumps({"question": follow_up, "after": earlier}) + "\n")
    result = hushdoc("ask", "--batch", str(wrong), home=hushdoc_home, check=False)
    assert result.returncode == 1 and '"after" must be a list' in result.stderr


def test_errors_are_one_line_without_traceback(hushdoc_home):
    result = hushdoc("ask", "anything?", "-w", "missing", home=hushdoc_home, check=False)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "no workspace named 'missing'" in result.stderr


@pytest.mark.slow
def test_check_exits_non_zero_on_a_broken_store(tmp_path, hushdoc_home):
    hushdoc("index", str(DATA / "notes.md"), home=hushdoc_home)
    import sqlite3

    db = sqlite3.connect(hushdoc_home / "workspaces" / "default" / "hushdoc.sqlite3")
    with db:
        db.execute("DELETE FROM documents")
    db.close()
    result = hushdoc("check", "--json", home=hushdoc_home, check=False)
    assert result.returncode == 1
    assert json.loads(result.stdout)["ok"] is False


def test_workspaces_create_rename_delete(hushdoc_home):
    hushdoc("workspaces", "create", "Matter 12", home=hushdoc_home)
    hushdoc("workspaces", "rename", "Matter 12", "Matter 13", home=hushdoc_home)
    names = json.loads(hushdoc("workspaces", "--json", home=hushdoc_home).stdout)
    assert names == ["Matter 13"]
    hushdoc("workspaces", "delete", "Matter 13", home=hushdoc_home)
    assert not (hushdoc_home / "workspaces" / "Matter 13").exists()


def test_the_models_command_lists_them_as_json(tmp_path, hushdoc_home, monkeypatch):
    """As the settings list them, from the folders of the apps (here, GPT4All's and Ollama's);
    the bundled model is not found in a fast test's subprocess."""
    laid = lay_out_apps(tmp_path)
    folders = os.pathsep.join(str(laid[app]) for app in ("gpt4all", "ollama"))
    monkeypatch.setenv(MODEL_DIRS_VARIABLE, folders)
    listed = json.loads(hushdoc("models", "--json", home=hushdoc_home).stdout)
    assert [m["name"] for m in listed] == [
        "llama3.2:3b",
        "Phi 3 Mini 4k Instruct",
        "SmolLM2 360M Instruct",
    ]
    assert listed[0] | {"path": None, "size_bytes": None} == {
        "path": None,
        "name": "llama3.2:3b",
        "family": "Llama 3",
        "architecture": "llama",
        "parameters": TINY_PARAMETERS,
        "quantization": "Q4_K_M",
        "context_length": 4096,
        "size_bytes": None,
        "chosen": False,
    }
    text = hushdoc("models", home=hushdoc_home).stdout
    assert "Phi-3 · 1K · Q4_0 · context 4,096 tokens" in text and "Phi 3 Mini 4k Instruct" in text


def test_show_prints_each_page_as_read_and_refuses_a_page_it_lacks(hushdoc_home):
    nda = DATA / "mutual-nda.pdf"
    shown = json.loads(hushdoc("show", str(nda), "--json", home=hushdoc_home).stdout)
    assert shown["path"] == str(nda) and not shown["indexed"]
    assert [(p["page"], p["ocr"], p["confidence"]) for p in shown["pages"]] == [
        (1, False, None),
        (2, False, None),
    ]
    assert shown["pages"][0]["text"].startswith("Mutual Non-Disclosure Agreement")
    text = hushdoc("show", str(nda), "--page", "2", home=hushdoc_home).stdout
    assert "--- page 2 (text layer) ---" in text and "--- page 1" not in text
    missing = hushdoc("show", str(nda), "--page", "3", home=hushdoc_home, check=False)
    assert missing.returncode == 1 and "has no page 3 (it has 2)" in missing.stderr
