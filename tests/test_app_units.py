"""Fast tests of the app's parts that need no model: the worker, rendering, history, keys."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Generator  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import Qt, QThreadPool, QUrl  # noqa: E402
from PySide6.QtWidgets import QTextBrowser  # noqa: E402

from app.chat import ChatPanel  # noqa: E402
from app.library import summarize  # noqa: E402
from app.model_choice import entry_text, read_entry  # noqa: E402
from app.passage import find_span  # noqa: E402
from app.settings import SettingsDialog  # noqa: E402
from app.signals import emit  # noqa: E402
from app.transcript import parse_cite_url, render_transcript  # noqa: E402
from app.workers import GeneratorWorker  # noqa: E402
from rag.config import Config, load_config  # noqa: E402
from rag.errors import ConfigError, HushdocError  # noqa: E402
from rag.store.history import Turn, load_history, save_history, to_markdown  # noqa: E402
from rag.types import Answer, Citation, Claim, Failure, IndexReport, PageOcr  # noqa: E402

INJECTED = '<b>x</b><a href="javascript:alert(1)">y</a><img src="file:///etc/passwd">'


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUSHDOC_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def make_answer(text: str, *, quote: str = "The target INR is 2.0 to 3.0.") -> Answer:
    citation = Citation(1, "/docs/summary.pdf", 1, 0, len(quote), quote)
    return Answer("What is the INR?", text, False, (citation,), (citation,))


# -- worker ---------------------------------------------------------------------------------


def test_worker_emits_each_yield_then_the_return_value(qtbot) -> None:
    def count() -> Generator[int, None, str]:
        yield 1
        yield 2
        return "done"

    worker = GeneratorWorker(count)
    seen: list[int] = []
    worker.signals.yielded.connect(seen.append)
    with qtbot.waitSignal(worker.signals.returned, timeout=5000) as returned:
        worker.start()
    assert returned.args == ["done"]
    qtbot.waitUntil(lambda: seen == [1, 2])


def test_worker_turns_a_hushdoc_error_into_its_message(qtbot) -> None:
    def fail() -> Generator[int, None, None]:
        yield 1
        raise HushdocError("The model file x.gguf does not exist.")

    worker = GeneratorWorker(fail)
    with qtbot.waitSignal(worker.signals.errored, timeout=5000) as errored:
        worker.start()
    assert errored.args == ["The model file x.gguf does not exist."]


def test_worker_abort_closes_the_generator_so_its_finally_runs(qtbot) -> None:
    cleaned: list[bool] = []

    def endless() -> Generator[int, None, None]:
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            cleaned.append(True)

    worker = GeneratorWorker(endless)
    worker.signals.yielded.connect(lambda n: n >= 3 and worker.abort())
    with qtbot.waitSignal(worker.signals.aborted, timeout=5000):
        worker.start()
    QThreadPool.globalInstance().waitForDone(5000)
    assert cleaned == [True]


# -- rendering and safety -------------------------------------------------------------------


def test_injected_html_in_an_answer_and_a_source_renders_as_literal_text(qtbot) -> None:
    turn = Turn(make_answer(f"Answer {INJECTED} [1]", quote=f"Quote {INJECTED}"))
    browser = QTextBrowser()
    qtbot.addWidget(browser)
    browser.setHtml(render_transcript([turn]))
    assert INJECTED in browser.toPlainText()
    html = browser.toHtml()
    assert 'href="javascript' not in html and "<img" not in html
    assert 'href="cite:0/1"' in html


def test_only_cite_links_are_followed() -> None:
    assert parse_cite_url(QUrl("cite:2/3")) == (2, 3, "")
    assert parse_cite_url(QUrl("cite:2/k0")) == (2, 0, "k")
    assert parse_cite_url(QUrl("cite:2/a0")) == (2, 0, "a")
    assert parse_cite_url(QUrl("cite:2/x0")) is None
    assert parse_cite_url(QUrl("javascript:alert(1)")) is None
    assert parse_cite_url(QUrl("file:///etc/passwd")) is None


def test_clicking_a_cite_link_emits_its_citation(qtbot) -> None:
    chat = ChatPanel()
    qtbot.addWidget(chat)
    chat.set_turns([Turn(make_answer("It is 2.0 to 3.0 [1]."))])
    with qtbot.waitSignal(chat.citation_clicked) as clicked:
        emit(chat.transcript.anchorClicked, QUrl("cite:0/1"))
    assert clicked.args[0].path == "/docs/summary.pdf"


def test_key_passages_lead_and_unsupported_claims_are_marked_with_their_reason(qtbot) -> None:
    key = Citation(1, "/docs/summary.pdf", 1, 4, 33, f"The target INR is 2.0 {INJECTED}")
    answer = replace(
        make_answer("It is 2.0 to 3.0 [1]. It is 50 mg on Sundays."),
        key_passages=(key,),
        claims=(
            Claim("It is 2.0 to 3.0.", "supported", (1,)),
            Claim("It is 50 mg on Sundays.", "unsupported", (), "50 appears in no source"),
        ),
    )
    chat = ChatPanel()
    qtbot.addWidget(chat)
    chat.set_turns([Turn(answer)])
    text = chat.transcript.toPlainText()
    assert text.index("Key passages") < text.index("It is 2.0 to 3.0")
    assert INJECTED in text, "document text in a key passage stays literal"
    assert "Not supported by your documents" in text and "50 appears in no source" in text
    html = chat.transcript.toHtml()
    assert "line-through" in html and 'href="cite:0/k0"' in html
    with qtbot.waitSignal(chat.citation_clicked) as clicked:
        chat.transcript.anchorClicked.emit(QUrl("cite:0/k0"))
    assert clicked.args[0] == key


def test_more_than_three_unsupported_sentences_fold_into_one_line_that_shows_them(qtbot):
    sentences = [f"Section {n} says the fee is {n}00 dollars." for n in range(1, 13)]
    answer = replace(
        make_answer(" ".join(sentences)),
        claims=tuple(
            Claim(s, "unsupported", (), f"{s[-12:-9]} appears in no source") for s in sentences
        ),
    )
    chat = ChatPanel()
    qtbot.addWidget(chat)
    chat.set_turns([Turn(answer)])
    text = chat.transcript.toPlainText()
    assert "12 sentences not supported by your documents" in text
    assert "appears in no source" not in text  # folded: the reasons are not listed
    assert chat.transcript.toHtml().count("line-through") == 12  # still struck through
    chat.transcript.anchorClicked.emit(QUrl("cite:0/u0"))
    text = chat.transcript.toPlainText()
    assert "Not supported by your documents" in text and text.count("appears in no source") == 12


def test_enter_sends_and_shift_enter_adds_a_line(qtbot) -> None:
    chat = ChatPanel()
    qtbot.addWidget(chat)
    chat.set_state(can_ask=True, busy=False)
    qtbot.keyClicks(chat.question, "first line")
    qtbot.keyClick(chat.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(chat.question, "second")
    assert chat.question.toPlainText() == "first line\nsecond"
    with qtbot.waitSignal(chat.ask_requested) as asked:
        qtbot.keyClick(chat.question, Qt.Key.Key_Return)
    assert asked.args == ["first line\nsecond", None]


def test_passage_is_found_despite_other_line_breaks() -> None:
    page = "Intro.\r\nThe target INR for this\r\npatient is 2.0 to 3.0. Next."
    quote = "The target INR for this patient is 2.0 to 3.0."
    span = find_span(page, quote)
    assert span is not None
    assert page[span[0] : span[1]].split() == quote.split()
    assert find_span(page, "Nothing like this at all here in the text") is None


# -- history and settings -------------------------------------------------------------------


def test_history_round_trips_and_exports_markdown_with_citations(tmp_path: Path) -> None:
    turns = [Turn(make_answer("It is 2.0 to 3.0 [1].")), Turn(make_answer("Partial"), stopped=True)]
    save_history(tmp_path, turns)
    loaded = load_history(tmp_path)
    assert loaded == turns
    markdown = to_markdown(loaded)
    assert "## What is the INR?" in markdown
    assert '[1] summary.pdf, page 1: "The target INR is 2.0 to 3.0."' in markdown


def test_an_unreadable_history_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / "chat-history.json").write_text("{not json")
    assert load_history(tmp_path) == []
    assert (tmp_path / "chat-history.unreadable.json").exists()


def test_settings_persist_and_invalid_ones_are_refused(qtbot) -> None:
    dialog = SettingsDialog(Config())
    qtbot.addWidget(dialog)
    dialog.sources.setValue(7)
    dialog.threads.setValue(3)
    dialog.answer.setValue(300)
    config = dialog.build_config()
    from rag.config import save_config

    save_config(config)
    reloaded = load_config()
    assert (reloaded.top_k, reloaded.threads, reloaded.answer_tokens) == (7, 3, 300)
    dialog.context.setValue(512)
    dialog.answer.setValue(400)  # more than half the context
    with pytest.raises(ConfigError, match="answer_tokens"):
        dialog.build_config()


def test_how_answers_are_made_is_chosen_in_the_settings(qtbot) -> None:
    dialog = SettingsDialog(Config())
    qtbot.addWidget(dialog)
    assert dialog.answer_mode.currentData() == "auto"
    # Once the bundled model's header is read, the note says which mode it gets, and why.
    qtbot.waitUntil(lambda: dialog.model.chosen_info() is not None, timeout=10_000)
    note = dialog.mode_in_use.text()
    assert note.startswith("In use: copied answers") and "135M parameters" in note
    assert not dialog.excerpts.isEnabled() and not dialog.strict.isEnabled()
    dialog.answer_mode.setCurrentIndex(dialog.answer_mode.findData("copy"))
    assert "the setting asks for 'copy'" in dialog.mode_in_use.text()
    dialog.answer_mode.setCurrentIndex(dialog.answer_mode.findData("generate"))
    assert dialog.excerpts.isEnabled() and dialog.strict.isEnabled()
    dialog.excerpts.setValue(0)
    dialog.strict.setChecked(True)
    config = dialog.build_config()
    assert (config.answer_mode, config.prompt_excerpts, config.strict) == ("generate", 0, True)
    dialog.answer_mode.setCurrentIndex(dialog.answer_mode.findData("extractive"))
    assert not dialog.excerpts.isEnabled() and not dialog.strict.isEnabled()
    assert dialog.build_config().answer_mode == "extractive"
    reopened = SettingsDialog(config.with_changes(answer_mode="extractive"))
    qtbot.addWidget(reopened)
    assert reopened.answer_mode.currentData() == "extractive" and reopened.strict.isChecked()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("model", "missing.gguf", "missing.gguf does not exist. Choose a GGUF file"),
        ("model", "junk.gguf", "junk.gguf is not a GGUF model file"),
        ("embedding", "no-such-folder", "no-such-folder does not exist. Choose the folder"),
        ("data_dir", "a-file.txt", "a-file.txt is a file. Choose a folder."),
    ],
)
def test_the_settings_dialog_says_what_is_wrong_and_stays_open(
    qtbot, tmp_path, field, value, message
) -> None:
    (tmp_path / "junk.gguf").write_bytes(b"not a model")
    (tmp_path / "a-file.txt").write_text("x")
    dialog = SettingsDialog(Config())
    qtbot.addWidget(dialog)
    dialog.show()
    if field == "model":
        dialog.model.set_path(tmp_path / value)
    else:
        getattr(dialog, field).edit.setText(str(tmp_path / value))
    dialog.accept()
    assert dialog.isVisible() and dialog.result_config is None
    assert dialog.error_label.isVisibleTo(dialog) and message in dialog.error_label.text()


def test_a_range_error_names_the_setting_as_the_dialog_labels_it(qtbot) -> None:
    dialog = SettingsDialog(Config())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.context.setValue(512)
    dialog.answer.setValue(400)
    dialog.accept()
    assert dialog.result_config is None
    assert dialog.error_label.text() == (
        "Setting 'Answer length' is 400; it must be between 16 and 256."
    )
    dialog.answer.setValue(200)
    dialog.accept()
    assert dialog.result_config is not None and dialog.result_config.answer_tokens == 200


def test_a_model_entry_is_read_from_the_files_header(tmp_path: Path) -> None:
    from gguf_files import write_gguf

    model = write_gguf(tmp_path / "tiny-llama.gguf")
    path, info = read_entry(model)
    assert path == model and not isinstance(info, str)
    size_mb = model.stat().st_size / 1e6
    assert entry_text(info) == (
        f"Tiny Llama 3 Instruct — Llama 3 · 1K · Q4_K_M · context 4,096 tokens · {size_mb:,.0f} MB"
    )
    _, bundled = read_entry(None)
    assert not isinstance(bundled, str)
    assert entry_text(bundled, bundled=True).startswith("Bundled model — SmolLM2 · 135M · Q4_1")
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF\x03\x00\x00\x00" + bytes(10))
    assert "damaged.gguf is damaged (the header ends early)" in str(read_entry(damaged)[1])


def test_the_settings_list_the_models_found_on_this_computer(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gguf_files import write_gguf

    from rag.answer.model_folders import MODEL_DIRS_VARIABLE

    lmstudio = tmp_path / "lmstudio"
    found = write_gguf(
        lmstudio / "Qwen" / "Qwen2.5-7B-Instruct-GGUF" / "qwen2.5-7b-instruct-q4_k_m.gguf",
        architecture="qwen2",
        name="Qwen2.5 7B Instruct",
        context_length=32768,
    )
    chosen = write_gguf(tmp_path / "elsewhere" / "mine.gguf", name="My Model")
    monkeypatch.setenv(MODEL_DIRS_VARIABLE, str(lmstudio))
    dialog = SettingsDialog(Config(generator_model=chosen))
    qtbot.addWidget(dialog)
    choice = dialog.model
    assert choice.value() == chosen
    with qtbot.waitSignal(choice.listed, timeout=10_000):
        pass
    entries = [choice.combo.itemText(i) for i in range(choice.combo.count())]
    assert entries[0].startswith("Bundled model — SmolLM2 · 135M · Q4_1 · context 8,192")
    assert entries[-1] == "Browse…"
    assert "Qwen2.5 7B Instruct — Qwen 2.5 · 1K · Q4_K_M · context 32,768 tokens · 0 MB" in entries
    # The chosen file, found in no app's folder, is read on its own.
    qtbot.waitUntil(
        lambda: (
            "My Model — Llama · 1K · Q4_K_M · context 4,096 tokens · 0 MB"
            in [choice.combo.itemText(i) for i in range(choice.combo.count())]
        )
    )
    assert choice.info.text() == str(chosen)
    choice.combo.setCurrentIndex(choice.combo.findData(str(found)))
    assert choice.info.text() == str(found)
    assert dialog.build_config().generator_model == found
    choice.combo.setCurrentIndex(0)
    assert choice.info.text() == "SmolLM2-135M-Instruct.Q4_1.gguf, shipped with Hushdoc"
    assert dialog.build_config().generator_model is None  # the bundled model
    # A file that cannot be used says why, below the list.
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF")
    choice.set_path(damaged)
    qtbot.waitUntil(lambda: "damaged.gguf is damaged (the header ends early)" in choice.info.text())


# -- viewer and workspaces (real files, no model) -------------------------------------------

DATA = Path(__file__).parent / "data"


def test_viewer_highlights_a_pdf_passage_on_its_page_and_finds_text(qtbot) -> None:
    from app.viewer import SourceViewer
    from rag.load.document import load_document

    pdf = DATA / "discharge-summary.pdf"
    page = load_document(pdf).pages[1]
    start = page.text.index("Discharge medications") if "Discharge medications" in page.text else 0
    quote = page.text[start : start + 200]
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    viewer.resize(600, 800)
    viewer.show()
    with qtbot.waitSignal(viewer.shown):
        viewer.show_citation(Citation(1, str(pdf), 2, start, start + 200, quote))
    assert viewer.current_page == 2 and viewer.highlight_rects
    assert viewer.canvas.rects == viewer.highlight_rects
    assert viewer.find_next("target INR") and viewer.current_page == 1
    assert not viewer.find_next("no such words in this file")


@pytest.mark.parametrize("scan", ["scanned.pdf", "scans/discharge-page.png"])
def test_viewer_highlights_a_passage_on_a_scanned_page_from_ocr_s_word_boxes(qtbot, scan):
    from fakes import ScriptedReader

    from app.viewer import SourceViewer

    text, words = ScriptedReader("Patient: Jane Example\nTarget INR 2.0 to 3.0 on warfarin").read(
        Image.new("L", (10, 10))
    )
    asked: list[tuple[str, int]] = []

    def page_words(path: str, page: int) -> PageOcr:
        asked.append((path, page))
        return words

    start = text.index("Target")
    citation = Citation(1, str(DATA / scan), 1, start, start + len("Target INR 2.0"), "Target…")
    viewer = SourceViewer(page_words=page_words)
    qtbot.addWidget(viewer)
    viewer.resize(600, 800)
    viewer.show()
    with qtbot.waitSignal(viewer.shown):
        viewer.show_citation(citation)
    assert asked == [(citation.path, 1)] and viewer.current_page == 1
    # One rectangle: the first three words of the second line, in the page's own units.
    [rect] = viewer.highlight_rects
    page = viewer._pages.size(0)
    assert rect.left() == pytest.approx(0.05 * page.width(), rel=0.01)
    assert rect.top() == pytest.approx(0.08 * page.height(), rel=0.01)
    assert rect.right() == pytest.approx(0.39 * page.width(), rel=0.01)
    assert viewer.canvas.rects == viewer.highlight_rects
    assert viewer.page_label.text() == "Page 1 of 1"


def test_viewer_pages_through_a_fax_tiff_drawn_with_square_pixels(qtbot) -> None:
    from app.viewer import SourceViewer

    viewer = SourceViewer(page_words=lambda _path, _page: None)
    qtbot.addWidget(viewer)
    viewer.resize(600, 800)
    viewer.show()
    fax = DATA / "scans" / "nda-fax.tif"
    with qtbot.waitSignal(viewer.shown):
        viewer.show_citation(Citation(1, str(fax), 2, 0, 10, "6. Return"))
    assert viewer.current_page == 2 and viewer.page_label.text() == "Page 2 of 2"
    # Stored at 204 by 98 dpi, drawn at 204 by 204: an A4 page's shape (not half as tall).
    size = viewer._pages.size(1)
    assert size.height() / size.width() == pytest.approx(297 / 210, rel=0.02)
    viewer.prev_button.click()
    assert viewer.current_page == 1


def test_workspaces_are_created_renamed_and_deleted_with_their_history(qtbot, home) -> None:
    from app.session import Session

    session = Session(load_config())
    changes: list[tuple[list[str], str]] = []
    session.workspaces_changed.connect(lambda names, current: changes.append((names, current)))
    session.create_workspace("Matter A")
    assert changes[-1] == (["Matter A"], "Matter A")
    assert session.engine is not None
    save_history(session.engine.folder, [Turn(make_answer("2.0 to 3.0 [1]"))])
    session.rename_workspace("Matter B")
    assert changes[-1] == (["Matter B"], "Matter B") and len(session.turns) == 1
    session.create_workspace("Other")
    assert session.turns == []
    session.open_workspace("Matter B")
    session.delete_workspace()
    assert changes[-1][0] == ["Other"]
    errors: list[str] = []
    session.error.connect(errors.append)
    session.create_workspace("../escape")
    assert errors and "not a valid workspace name" in errors[0]
    session.shutdown()


PASSPHRASE = "staple battery horse"


def test_the_new_workspace_dialog_offers_encryption_with_a_confirmed_passphrase(qtbot) -> None:
    from PySide6.QtWidgets import QDialogButtonBox, QLineEdit

    from app.new_workspace import NewWorkspaceDialog

    dialog = NewWorkspaceDialog()
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled() and not dialog.passphrase.isEnabled()
    dialog.name.setText("  Smith v Jones ")
    assert ok.isEnabled() and dialog.choice() == ("Smith v Jones", None)
    dialog.encrypt.setChecked(True)
    assert dialog.passphrase.isEnabled() and not ok.isEnabled()
    assert dialog.passphrase.echoMode() == QLineEdit.EchoMode.Password
    dialog.passphrase.setText("short")
    assert "at least 8" in dialog.problem.text()
    dialog.passphrase.setText(PASSPHRASE)
    dialog.confirm.setText(PASSPHRASE + "!")
    assert dialog.problem.text() == "The two passphrases differ." and not ok.isEnabled()
    dialog.confirm.setText(PASSPHRASE)
    assert ok.isEnabled() and dialog.choice() == ("Smith v Jones", PASSPHRASE)


def test_an_encrypted_workspace_opens_only_once_its_passphrase_is_given(qtbot, home) -> None:
    from app.session import Session
    from rag.store.history import HISTORY_NAME

    session = Session(load_config())
    asked: list[tuple[str, str]] = []
    session.passphrase_needed.connect(lambda name, problem: asked.append((name, problem)))
    changes: list[str] = []
    session.workspaces_changed.connect(lambda names, current: changes.append(current))
    session.create_workspace("Other")
    with qtbot.waitSignal(session.workspaces_changed, timeout=30_000):
        session.create_workspace("Sealed", passphrase=PASSPHRASE)
    assert session.workspace == "Sealed" and session.engine.vault is session.vault is not None
    session.answers.add_turn(Turn(make_answer("2.0 to 3.0 [1]")))
    folder = session.engine.folder
    assert not (folder / HISTORY_NAME).exists()
    assert b"INR" not in (folder / f"{HISTORY_NAME}.sealed").read_bytes()

    session.open_workspace("Other")
    assert session.vault is None and session.turns == []
    session.open_workspace("Sealed")  # asks, and leaves "Other" open meanwhile
    assert asked == [("Sealed", "")] and session.workspace == "Other" and changes[-1] == "Other"
    with qtbot.waitSignal(session.passphrase_needed, timeout=30_000) as again:
        session.unlock_workspace("Sealed", "not the passphrase")
    assert again.args[0] == "Sealed" and "Wrong passphrase" in again.args[1]
    assert session.workspace == "Other"
    with qtbot.waitSignal(session.history_changed, timeout=30_000):
        session.unlock_workspace("Sealed", PASSPHRASE)
    assert session.workspace == "Sealed" and len(session.turns) == 1
    session.rename_workspace("Sealed B")  # the key stays with the renamed workspace
    assert session.workspace == "Sealed B" and len(session.turns) == 1
    session.delete_workspace()
    assert session.workspace == "Other" and session.vault is None
    session.shutdown()


def test_open_in_system_viewer_hands_the_file_to_the_desktop(qtbot, monkeypatch) -> None:
    from PySide6.QtGui import QDesktopServices

    from app.viewer import SourceViewer

    opened: list[QUrl] = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True)
    )
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    assert not viewer.open_button.isEnabled()
    pdf = DATA / "mutual-nda.pdf"
    with qtbot.waitSignal(viewer.shown):
        viewer.show_citation(Citation(1, str(pdf), 1, 0, 20, "MUTUAL NON-DISCLOSURE"))
    qtbot.mouseClick(viewer.open_button, Qt.MouseButton.LeftButton)
    assert [url.toLocalFile() for url in opened] == [str(pdf)]


class _CountingEmbedder:
    """An embedding model that is never asked to embed here (Embedder protocol)."""

    identity = "counting:8:0"
    backend = "onnx-int8"
    dimension = 8
    max_tokens = 254

    def embed(self, texts):
        raise AssertionError("not used")

    def token_spans(self, texts):
        raise AssertionError("not used")


class _CountingGenerator:
    """A language model that is never asked to answer here (Generator protocol)."""

    context_tokens = 2048
    parameters = None
    family = None

    def render(self, messages):
        raise AssertionError("not used")

    def count_tokens(self, text):
        raise AssertionError("not used")

    def stream(self, prompt, *, max_tokens, grammar=None, should_stop=lambda: False, special=False):
        raise AssertionError("not used")


def test_changing_the_thread_count_reloads_both_models(qtbot, monkeypatch) -> None:
    """ONNX Runtime and llama.cpp both run on the thread count set in the settings."""
    from app import models
    from app.session import Session
    from rag.store.workspace import create_workspace

    loaded: list[tuple[str, int]] = []

    def load_embedder(config: Config) -> _CountingEmbedder:
        loaded.append(("embedder", config.threads))
        return _CountingEmbedder()

    def load_generator(config: Config) -> _CountingGenerator:
        loaded.append(("generator", config.threads))
        return _CountingGenerator()

    monkeypatch.setattr(models, "load_embedder", load_embedder)
    monkeypatch.setattr(models, "load_generator", load_generator)
    create_workspace(load_config(), "Test")  # not a first run: no samples to index
    session = Session(load_config())
    with qtbot.waitSignal(session.models_ready, timeout=30_000):
        session.start()
    assert loaded == [("embedder", 0), ("generator", 0)]
    with qtbot.waitSignal(session.models_ready, timeout=30_000):
        session.apply_config(replace(session.config, temperature=0.5))
    assert loaded[2:] == [("generator", 0)]  # the embedder stays loaded
    with qtbot.waitSignal(session.models_ready, timeout=30_000):
        session.apply_config(replace(session.config, threads=3))
    assert loaded[3:] == [("embedder", 3), ("generator", 3)]
    session.shutdown()


# -- library ----------------------------------------------------------------------------------


def test_library_shows_each_status_with_its_detail(qtbot) -> None:
    from app.library import LibraryPanel
    from rag.types import DocumentInfo, Failure

    def info(name: str, status: str, error: str | None = None) -> DocumentInfo:
        pages, chunks = (3, 7) if status == "indexed" else (0, 0)
        return DocumentInfo(f"/m/{name}", status, "pdf", pages, chunks, 1, 0.0, "", error, ())

    library = LibraryPanel()
    qtbot.addWidget(library)
    library.show()
    library.set_documents(
        [info("brief.pdf", "indexed"), info("scan.pdf", "failed", "no text layer; OCR it")],
        [Failure("/m/email.msg", "unsupported file type")],
    )
    rows = [library.documents.item(i) for i in range(library.documents.count())]
    assert [r.text() for r in rows] == [
        "brief.pdf — 3 pages, 7 passages",
        "scan.pdf — failed",
        "email.msg — unsupported type",
    ]
    assert "no text layer; OCR it" in rows[1].toolTip()
    assert "Not indexed" in rows[2].toolTip()
    rows[1].setSelected(True)
    assert library.detail.isVisible() and "no text layer; OCR it" in library.detail.text()
    assert not library.placeholder.isVisible()
    library.set_documents([], [])
    assert library.placeholder.isVisible() and not library.detail.isVisible()


# -- look -------------------------------------------------------------------------------------


def contrast_ratio(a, b) -> float:
    """WCAG contrast ratio of two colours (4.5 is the minimum for body text)."""

    def luminance(color) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        rgb = (channel(color.redF()), channel(color.greenF()), channel(color.blueF()))
        return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_highlights_and_warnings_read_on_the_light_and_the_dark_palette(qtbot, scheme) -> None:
    from PySide6.QtGui import QColor, QPalette

    from app.look import text_highlight, warning_text
    from app.viewer import SourceViewer

    palette = QPalette(QColor("#f5f5f5") if scheme == "light" else QColor("#202124"))
    base = palette.color(QPalette.ColorRole.Base)
    background, foreground = text_highlight(palette)
    assert contrast_ratio(background, foreground) >= 7
    assert contrast_ratio(warning_text(palette), base) >= 4.5

    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    viewer.setPalette(palette)
    notes = DATA / "notes.md"
    with qtbot.waitSignal(viewer.shown, timeout=10_000):
        viewer.show_citation(Citation(1, str(notes), None, 0, 10, notes.read_text()[:10]))
    selection = viewer.text_view.extraSelections()[0]
    assert selection.format.background().color() == background
    assert selection.format.foreground().color() == foreground


# -- packaging --------------------------------------------------------------------------------


def test_the_icon_and_samples_are_found_in_an_installed_wheel(tmp_path: Path) -> None:
    """Built and unpacked like a non-editable install: the assets travel as package data."""
    import shutil
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).resolve().parent.parent
    source = tmp_path / "source"
    for name in ("app", "rag", "assets"):
        shutil.copytree(root / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(tmp_path / "dist"), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    site = tmp_path / "site"
    with zipfile.ZipFile(next((tmp_path / "dist").glob("hushdoc-*.whl"))) as wheel:
        wheel.extractall(site)
    probe = (
        "from app.assets import icon_path; from rag.assets import samples_dir; "
        "print(icon_path()); print(*sorted(p.name for p in samples_dir().iterdir()))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env | {"PYTHONPATH": str(site)},
        check=True, capture_output=True, text=True,
    ).stdout.split("\n")  # fmt: skip
    assert Path(out[0]) == site / "hushdoc_assets" / "hushdoc.svg" and Path(out[0]).is_file()
    assert out[1] == "clinic-letter-fax.pdf discharge-summary.pdf mutual-nda.pdf"


def test_without_a_screen_the_app_says_to_use_the_command_line(monkeypatch, capsys) -> None:
    from app.main import run_app

    monkeypatch.setattr("sys.platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert run_app([]) == 1
    message = capsys.readouterr().err
    assert "no screen" in message and "hushdoc index" in message and "hushdoc ask" in message


def test_worker_reports_nothing_a_step_yields_after_abort(qtbot) -> None:
    """Stop pressed while a step runs: its result is dropped, and the work is aborted."""
    import threading

    inside = threading.Event()
    release = threading.Event()

    def slow_step() -> Generator[str, None, None]:
        yield "first"
        inside.set()
        release.wait(5)
        yield "finished answer"

    worker = GeneratorWorker(slow_step)
    seen: list[str] = []
    worker.signals.yielded.connect(seen.append)
    with qtbot.waitSignal(worker.signals.aborted, timeout=5000):
        worker.start()
        assert inside.wait(5)
        worker.abort()
        release.set()
    qtbot.waitUntil(lambda: seen == ["first"])
    assert seen == ["first"]


def test_emitting_many_signals_leaves_true_alone(qtbot) -> None:
    """PySide6 6.12's emit takes a reference from True on each call; a long session would
    abort Python. The app emits through ``app.signals.emit``, which gives it back."""
    import sys

    from PySide6.QtCore import QObject, Signal

    from app.signals import emit

    class Source(QObject):
        progress = Signal(object)

    source = Source()
    received: list[int] = []
    source.progress.connect(received.append)
    before = sys.getrefcount(True)
    for n in range(5000):
        emit(source.progress, n)
    assert received == list(range(5000))
    assert abs(sys.getrefcount(True) - before) < 50


def test_the_end_of_a_sync_says_which_empty_folder_kept_its_documents():
    reason = "the folder is empty, so its 40 document(s) are kept: if it is a drive …"
    text = summarize(IndexReport(unchanged=3, kept=[Failure("/media/usb/records", reason)]))
    assert text.startswith("Indexed 0 document(s)")
    assert f"\n/media/usb/records: {reason}." in text
