"""The engine end to end with the fakes: index the test documents, ask in both modes, cite
the right file and page, cancel, reindex, remove. The fast version of test_engine.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DATA, OWN_FOLDERS, final_answer, run_index
from fakes import HashEmbedder, ScriptedGenerator, ScriptedReader, fake_engine

from rag.config import Config
from rag.engine import Engine
from rag.errors import HushdocError, StoreError
from rag.types import Answer, Evidence, IndexReport, Progress

INR = "What is the target INR for this patient?"
# [9] names no source: it is dropped and counted.
INR_REPLY = "The target INR for this patient is 2.0 to 3.0 [1][9]."
INDEXED = 8  # the test documents, the scan read by the scripted OCR reader among them
# What the scripted OCR reader reads on a scanned page.
SCAN_TEXT = "Workers Compensation Appeals Board\nDocket No. 2017-03-1235 was reversed and remanded."


def open_engine(home: Path, generator: ScriptedGenerator, **settings: object) -> Engine:
    return fake_engine(home, generator=generator, page_reader=ScriptedReader(SCAN_TEXT), **settings)


@dataclass(frozen=True, slots=True)
class Library:
    """The test documents indexed once for the module, and how the run went. Tests that
    change a workspace index their own."""

    home: Path
    report: IndexReport
    events: list[Progress]
    stored: dict[str, tuple[str, int]]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    base = tmp_path_factory.mktemp("library")
    docs = shutil.copytree(DATA, base / "docs", ignore=OWN_FOLDERS)
    with open_engine(base / "home", ScriptedGenerator("unused")) as engine:
        report, events = run_index(engine, [docs])
        assert engine.check().ok
        return Library(base / "home", report, events, stored(engine))


@pytest.fixture
def scripted() -> ScriptedGenerator:
    return ScriptedGenerator(INR_REPLY)


@pytest.fixture
def workspace(library: Library, scripted: ScriptedGenerator) -> Iterator[Engine]:
    """The module's indexed workspace, answering with the scripted model."""
    with open_engine(library.home, scripted) as engine:
        yield engine


@pytest.fixture
def own(hushdoc_home: Path, docs: Path, scripted: ScriptedGenerator) -> Iterator[Engine]:
    """A workspace of the test's own, with the test documents (``docs``) indexed."""
    with open_engine(hushdoc_home, scripted) as engine:
        run_index(engine, [docs])
        yield engine


def stored(engine: Engine) -> dict[str, tuple[str, int]]:
    """Each document's (status, chunks) by file name."""
    return {Path(d.path).name: (d.status, d.chunks) for d in engine.documents()}


def test_a_scan_is_marked_read_by_ocr_and_keeps_its_word_boxes(workspace):
    [scan] = [d for d in workspace.documents() if d.path.endswith("scanned.pdf")]
    assert scan.ocr_pages == 1 and scan.ocr_note == "read by OCR (all pages, mean confidence 97%)"
    assert all(d.ocr_pages == 0 for d in workspace.documents() if d.path != scan.path)
    words = workspace.page_ocr(scan.path, 1)
    assert words is not None and len(words.words) == len(SCAN_TEXT.split())
    docket = SCAN_TEXT.replace("\n", " ").index("2017-03-1235")
    [word] = [w for w in words.words if w.start == docket]
    assert word.box == pytest.approx((0.29, 0.08, 0.39, 0.1))  # third word, second line
    assert workspace.page_ocr(scan.path, 2) is None
    answer = final_answer(workspace, "Which docket number was reversed and remanded?")
    assert any(c.path == scan.path and c.page == 1 for c in answer.citations)


def hash_embedder(engine: Engine) -> HashEmbedder:
    embedder = engine.embedder
    assert isinstance(embedder, HashEmbedder)
    return embedder


def test_indexing_stores_every_document_the_scan_read_by_ocr(library):
    report, events = library.report, library.events
    assert report.indexed == INDEXED and report.unchanged == 0 and not report.skipped
    assert not report.failed
    assert (events[0].stage, events[-1].stage) == ("scan", "done")
    assert {"load", "embed"} <= {e.stage for e in events}
    assert library.stored["scanned.pdf"][0] == "indexed"
    assert sum(chunks for _, chunks in library.stored.values()) == report.chunks > INDEXED


def test_an_extractive_answer_quotes_and_cites_the_right_file_and_page(library, scripted):
    with open_engine(library.home, scripted, answer_mode="extractive") as engine:
        items = list(engine.ask(INR))
    assert isinstance(items[0], Evidence)
    answer = items[-1]
    assert isinstance(answer, Answer) and answer.mode == "extractive" and not answer.abstained
    first = answer.citations[0]
    assert (Path(first.path).name, first.page) == ("discharge-summary.pdf", 1)
    assert "The target INR for this patient is 2.0 to 3.0" in " ".join(first.text.split())
    assert "2.0 to 3.0" in answer.text
    assert scripted.prompts == []  # no model ran


def test_a_generated_answer_streams_the_model_s_words_and_cites_the_right_page(workspace, scripted):
    items = list(workspace.ask(INR))
    assert isinstance(items[0], Evidence)
    assert "".join(i for i in items if isinstance(i, str)) == INR_REPLY
    answer = items[-1]
    assert isinstance(answer, Answer) and answer.mode == "generate"
    assert answer.text.startswith("The target INR for this patient is 2.0 to 3.0")
    assert "[9]" not in answer.text and answer.dropped_markers == 1
    first = answer.citations[0]
    assert (Path(first.path).name, first.page) == ("discharge-summary.pdf", 1)
    [prompt] = scripted.prompts
    assert f"Question: {INR}" in prompt and 'from="discharge-summary.pdf, page 1"' in prompt
    assert scripted.grammars == [None]  # the citation grammar is off by default


def test_the_citation_grammar_setting_reaches_the_model(library, scripted):
    with open_engine(library.home, scripted, cite_grammar=True) as engine:
        answer = final_answer(engine, INR)
    [grammar] = scripted.grammars
    assert grammar is not None and f'"{len(answer.sources)}"' in grammar


def test_stopping_ends_the_generated_answer_where_it_is(workspace, scripted):
    pieces: list[str] = []

    def stop() -> bool:
        return len(pieces) == 3

    for item in workspace.ask(INR, should_stop=stop):
        if isinstance(item, str):
            pieces.append(item)
    assert scripted.stopped_after == 3 and "".join(pieces) == "The target INR "


def test_a_question_within_one_document_uses_only_its_passages(workspace, scripted):
    answer = final_answer(workspace, "Which laws govern this agreement?", path="mutual-nda.pdf")
    assert not answer.abstained
    assert {Path(s.path).name for s in answer.sources} == {"mutual-nda.pdf"}
    assert 'from="mutual-nda.pdf, page 2"' in scripted.prompts[0]
    with pytest.raises(HushdocError, match="is not indexed in workspace 'w'"):
        final_answer(workspace, INR, path="unknown.pdf")


def test_a_question_the_documents_never_touch_is_not_answered(workspace, scripted):
    answer = final_answer(workspace, "Who won the 2018 FIFA World Cup?")
    assert answer.abstained and answer.citations == () and answer.sources == ()
    assert '"fifa"' in answer.text
    assert scripted.prompts == []  # the model never ran
    with pytest.raises(HushdocError, match="The question is empty"):
        final_answer(workspace, "   ")


def test_a_follow_up_that_cannot_stand_alone_is_read_with_the_earlier_question(library, scripted):
    question = "How often must it be checked?"
    # The fake embedder's cosine is word overlap, which "checked" alone earns: the bar is
    # set above what the question scores as asked, so that it must lean on the earlier one.
    with open_engine(library.home, scripted, answer_mode="extractive", min_relevance=0.7) as engine:
        alone = final_answer(engine, question)
        items = list(engine.ask(question, after=["What is the weather?", INR]))
        standing = final_answer(engine, "When is it checked?", after=[INR])
    assert alone.read_as is None
    evidence, answer = items[0], items[-1]
    assert isinstance(evidence, Evidence) and isinstance(answer, Answer)
    # The latest earlier question that names a subject is the one referred to; the
    # reading is shown before anything else, and again with the answer.
    assert evidence.read_as == answer.read_as == f"{question} (about: target INR patient)"
    assert answer.question == question and not answer.abstained
    assert "must be checked at the anticoagulation clinic" in " ".join(answer.text.split())
    # A follow-up that finds its answer as asked is answered as asked.
    assert standing.read_as is None and not standing.abstained


def test_cancelling_keeps_what_was_stored_and_a_rerun_finishes_the_same(
    library, hushdoc_home, docs, scripted
):
    with open_engine(hushdoc_home, scripted) as engine:
        work = engine.index([docs])
        for progress in work:
            if progress.stage == "load" and progress.done == 3:
                before = stored(engine)
                break
        work.close()
        assert len(before) == 3 and stored(engine) == before
        assert engine.check().ok
        resumed, _ = run_index(engine, [docs])
        assert resumed.unchanged == 3 and resumed.indexed + len(resumed.failed) == 5
        assert engine.check().ok
        assert stored(engine) == library.stored  # as if never interrupted


def test_reindexing_embeds_only_what_changed(own, docs):
    embedder = hash_embedder(own)
    embedded = embedder.embedded_texts
    again, _ = run_index(own, [docs])
    assert (again.indexed, again.unchanged) == (0, INDEXED)
    assert embedder.embedded_texts == embedded
    (docs / "notes.md").write_text("The quokka hearing is on 9 September 2024.", encoding="utf-8")
    changed, _ = run_index(own, [docs])
    assert (changed.indexed, changed.unchanged) == (1, INDEXED - 1)
    assert embedder.embedded_texts == embedded + 1  # one passage
    [(chunk_id, _)] = own.store.keyword_search("quokka", 5)
    assert own.store.passages([chunk_id])[chunk_id].path.endswith("notes.md")
    assert own.store.keyword_search("landlord", 5) == []  # the old notes went


def test_remove_and_prune_forget_documents(own, docs):
    assert own.remove("appeal-opinion.pdf") == str(docs / "appeal-opinion.pdf")
    assert "appeal-opinion.pdf" not in stored(own)
    assert own.store.keyword_search("Calvary Chapel", 5) == []
    with pytest.raises(HushdocError, match="appeal-opinion.pdf is not indexed"):
        own.remove("appeal-opinion.pdf")
    (docs / "notes.md").unlink()
    report, _ = run_index(own, [docs], prune=True)
    assert report.removed == 1 and "notes.md" not in stored(own)
    assert own.check().ok


def test_listing_loads_no_model_and_another_embedder_is_refused(library):
    config = Config(data_dir=library.home)
    # No embedder or generator given: listing and checking must not load one (the fast
    # tier's guard in conftest.py fails this test if they do).
    with Engine(config, "w") as plain:
        assert stored(plain) == library.stored and plain.check().ok
    other = Engine(config, "w", embedder=HashEmbedder(dimension=128))
    with pytest.raises(StoreError, match="indexed with the embedding model 'hash-words:256'"):
        _ = other.store


def test_a_small_model_copies_its_answer_through_ask(library) -> None:
    with open_engine(library.home, ScriptedGenerator("unused"), answer_mode="extractive") as engine:
        [key, *_] = list(engine.ask(INR))[-1].key_passages
    # The model copies the words of the key passage from "target" to "3.0,".
    words = key.text.split()
    run = " ".join(words[words.index("target") : words.index("3.0,") + 1])
    scripted = ScriptedGenerator(f"{run} [{key.n}]", parameters=134_515_008)
    with open_engine(library.home, scripted) as engine:
        answer = list(engine.ask(INR))[-1]
    assert isinstance(answer, Answer) and answer.mode == "copy"
    assert "135M" in (answer.mode_reason or "")
    assert answer.text == f"target INR for this patient is 2.0 to 3.0, [{key.n}]"
    assert answer.copied is not None and answer.copied.text == run
    assert key.start <= answer.copied.start < answer.copied.end <= key.end
    assert answer.marked_quote()
    assert scripted.grammars[0] is not None and f'" [{key.n}]"' in scripted.grammars[0]
    assert answer.to_dict()["mode"] == "copy" and answer.to_dict()["copied"]


def test_a_copy_that_is_not_in_the_passages_falls_back_to_the_quotes(library) -> None:
    scripted = ScriptedGenerator("words the model made up [1]", parameters=134_515_008)
    with open_engine(library.home, scripted) as engine:
        answer = list(engine.ask(INR))[-1]
    assert isinstance(answer, Answer) and answer.mode == "extractive" and answer.copied is None
    assert answer.mode_reason is None  # the reason was for copying, which did not happen
    assert answer.notice and "copied no answer" in answer.notice
    assert "2.0 to 3.0" in answer.text
