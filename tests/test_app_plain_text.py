"""Plain text in the app (issue 17, finding 5): a file named with markup and a right-to-left
override, indexed with the fakes, shows its literal characters in the library's row,
tooltip and detail, the "Only in" chooser, the viewer's title and text, and the transcript;
the override is shown by name, ``<U+202E>``, not obeyed.

Qt takes the text of a label or a tooltip for rich text when ``Qt.mightBeRichText`` says it
might be. A label must therefore be set to plain text; a tooltip (which has no text format)
must be rich text that shows the name literally once Qt renders it, as ``rendered`` does."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from fakes import HashEmbedder, ScriptedGenerator  # noqa: E402
from PySide6 import QtGui  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QLabel, QMessageBox  # noqa: E402

from app.chat import ChatPanel  # noqa: E402
from app.library import PATH_ROLE, LibraryPanel  # noqa: E402
from app.session import Session  # noqa: E402
from app.settings import SettingsDialog  # noqa: E402
from app.viewer import SourceViewer  # noqa: E402
from app.window import MainWindow  # noqa: E402
from rag.config import Config  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.progress import drive  # noqa: E402
from rag.store.history import Turn  # noqa: E402
from rag.types import Answer, Citation, Claim, DocumentInfo, Failure  # noqa: E402

# A file name can hold no "/": markup without closing tags, and an override that would draw
# the end of the name backwards.
NAME = "<b>bold<i> <img src=x>\u202eexe.md"
SHOWN_NAME = "<b>bold<i> <img src=x><U+202E>exe.md"
LINK_NAME = "<img src=y>key.md"
TEXT = "Visiting hours end at 8 pm <a href='javascript:x'>here</a>.\u202e Ask the ward clerk.\n"
SHOWN_TEXT = (
    "Visiting hours end at 8 pm <a href='javascript:x'>here</a>.<U+202E> Ask the ward clerk."
)


def rendered(tip: str) -> str:
    """What Qt draws for a tooltip: its text as rich text if it might be, else as it is."""
    if not QtGui.Qt.mightBeRichText(tip):
        return tip
    document = QtGui.QTextDocument()
    document.setHtml(tip)
    return document.toPlainText()


def assert_plain_label(label: QLabel, text: str) -> None:
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.text() == text


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[DocumentInfo, list[DocumentInfo], list[Failure]]:
    """The document named ``NAME``, every document, and the files skipped: a folder holds
    it and a link to a file outside the folder, also named with markup."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / NAME).write_text(TEXT)
    private = tmp_path / "private"
    private.mkdir()
    (private / "key.md").write_text("secret")
    (docs / LINK_NAME).symlink_to(private / "key.md")
    with Engine(
        Config(data_dir=tmp_path / "hd"),
        "w",
        create=True,
        embedder=HashEmbedder(),
        generator=ScriptedGenerator("x"),
    ) as engine:
        drive(engine.index([docs]), lambda _: None)
        documents = engine.documents()
        named = next(d for d in documents if d.path == str(docs / NAME))
        return named, documents, engine.skipped()


def test_library_rows_tooltips_and_detail_show_the_name_literally(qtbot, indexed) -> None:
    document, documents, skipped = indexed
    library = LibraryPanel()
    qtbot.addWidget(library)
    library.show()
    library.set_documents(documents, skipped)
    rows = {
        library.documents.item(i).data(PATH_ROLE): library.documents.item(i)
        for i in range(library.documents.count())
    }
    row = rows[document.path]
    assert row.text() == f"{SHOWN_NAME} — 1 page, 1 passages"
    shown_tip = rendered(row.toolTip())
    assert shown_tip.startswith(f"{document.path[: -len(NAME)]}{SHOWN_NAME}\nIndexed: 1 page")
    assert "\u202e" not in shown_tip
    # The link outside the folder is listed as skipped, with its reason.
    link = rows[str(Path(document.path).parent / LINK_NAME)]
    assert link.text() == f"{LINK_NAME} — skipped"
    assert "outside the folders being indexed" in rendered(link.toolTip())
    assert rendered(link.toolTip()).startswith(skipped[0].path + "\nNot indexed: ")
    row.setSelected(True)
    assert_plain_label(library.detail, shown_tip)


def test_markup_in_a_name_is_never_rendered_in_a_tooltip(qtbot) -> None:
    """Markup alone, without a direction control: each tooltip that names the file shows
    its characters, where Qt would otherwise draw the markup (and fetch the image)."""
    path = "/m/<b>bold<i> <img src=x>report.md"
    info = DocumentInfo(path, "indexed", "text", 1, 2, 1, 0.0, "", None, ())
    library = LibraryPanel()
    qtbot.addWidget(library)
    library.set_documents([info], [Failure("/m/<img src=y>.msg", "unsupported file type")])
    row, unsupported = (library.documents.item(i) for i in range(2))
    assert rendered(row.toolTip()) == f"{path}\nIndexed: 1 page, 2 passages"
    assert rendered(unsupported.toolTip()).startswith("/m/<img src=y>.msg\nNot indexed")
    chat = ChatPanel()
    qtbot.addWidget(chat)
    chat.set_documents([path])
    assert rendered(chat.document_choice.itemData(0, Qt.ItemDataRole.ToolTipRole)) == path
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.error):  # the file is not there to read
        viewer.show_citation(Citation(1, path, None, 0, 0, ""))
    assert rendered(viewer.title.toolTip()) == path
    assert_plain_label(viewer.title, "<b>bold<i> <img src=x>report.md")


def test_the_only_in_chooser_shows_the_name_literally(qtbot, indexed) -> None:
    document = indexed[0]
    chat = ChatPanel()
    qtbot.addWidget(chat)
    chat.set_documents([document.path])
    assert chat.document_choice.itemText(0) == SHOWN_NAME
    tip = chat.document_choice.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert rendered(tip) == document.path.replace("\u202e", "<U+202E>")
    assert chat.document_choice.currentData() == document.path  # what is asked about


def test_the_viewer_title_and_text_show_name_and_text_literally(qtbot, indexed) -> None:
    document = indexed[0]
    start = TEXT.index("Ask")
    citation = Citation(1, document.path, None, start, start + len("Ask the ward clerk."), "")
    viewer = SourceViewer()
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.shown, timeout=10_000):
        viewer.show_citation(citation)
    assert_plain_label(viewer.title, SHOWN_NAME)
    assert rendered(viewer.title.toolTip()) == document.path.replace("\u202e", "<U+202E>")
    assert viewer.text_view.toPlainText().strip() == SHOWN_TEXT
    # The cited span is still highlighted, though the text before it grew by a name.
    [selection] = viewer.text_view.extraSelections()
    assert selection.cursor.selectedText() == "Ask the ward clerk."


def test_the_transcript_shows_names_text_and_reasons_literally(qtbot) -> None:
    path = f"/docs/{NAME}"
    quote = TEXT.strip()
    citation = Citation(1, path, 2, 0, len(quote), quote)
    sentence = "It is\u202e open at night."
    claim = Claim(sentence, "unsupported", (), "<img src=z> no source\u202e says so")
    answer = Answer(
        "When\u202e?", f"{sentence} [1]", False, (citation,), (citation,), claims=(claim,)
    )
    chat = ChatPanel()
    qtbot.addWidget(chat)
    chat.set_turns([Turn(answer, document=path)])
    text = chat.transcript.toPlainText()
    assert "\u202e" not in text
    assert f"{SHOWN_NAME}, page 2" in text and f"(in {SHOWN_NAME} only)" in text
    assert "When<U+202E>?" in text and "It is<U+202E> open at night." in text
    assert "<a href='javascript:x'>" in text
    # The unsupported sentence's reason is its tooltip, shown literally too.
    cursor = chat.transcript.document().find("open at night")
    assert rendered(cursor.charFormat().toolTip()) == "<img src=z> no source<U+202E> says so"


def test_follow_links_is_offered_in_the_settings(qtbot) -> None:
    dialog = SettingsDialog(Config())
    qtbot.addWidget(dialog)
    assert not dialog.follow_links.isChecked()
    dialog.follow_links.setChecked(True)
    assert dialog.build_config().follow_links is True


def test_an_error_naming_the_file_shows_it_literally(qtbot, tmp_path: Path) -> None:
    window = MainWindow(Session(Config(data_dir=tmp_path / "hd")))
    qtbot.addWidget(window)
    window.show_error(f"/docs/{NAME} cannot be opened as a PDF; it may have moved.")
    expected = f"/docs/{SHOWN_NAME} cannot be opened as a PDF; it may have moved."
    assert window.statusBar().currentMessage() == expected
    [box] = window.findChildren(QMessageBox)
    assert box.textFormat() == Qt.TextFormat.PlainText and box.text() == expected
    box.close()
