"""The source viewer: a cited document at the cited page, with the passage highlighted.

PDFs are rendered with QtPdf one page at a time, and image files (scans, faxes) frame
by frame, and the passage's rectangles are painted over the page: found in the PDF's
text layer, or, on a page read by OCR, the boxes of the words OCR read there. Other formats show the text the engine indexed
(``rag.load.document.load_document``), since a citation's span is an offset into exactly
that text, with the span highlighted and scrolled into view.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QImage,
    QKeySequence,
    QPainter,
    QPalette,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.controls import tool_button
from app.look import PAGE_HIGHLIGHT, text_highlight
from app.page_source import ImagePages, PdfPages
from app.passage import ocr_rects, passage_rects, span_rects
from app.plain_text import set_plain, shown, tooltip
from app.signals import emit
from app.workers import GeneratorWorker, call
from rag.load.discover import document_kind
from rag.load.document import load_document
from rag.types import Citation, LoadedDocument, PageOcr

# Zoom: each step multiplies the page's width by this, from a quarter to four times the
# width that fits the viewer.
ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.25, 4.0
MIN_PAGE_WIDTH = 200
# The words OCR read on a page of a document, by path and page number (the engine's
# ``page_ocr``); None for a page with a text layer.
PageWords = Callable[[str, int], PageOcr | None]


class PageCanvas(QWidget):
    """One rendered PDF page with highlight rectangles (in page points) painted over it."""

    def __init__(self) -> None:
        super().__init__()
        self.image = QImage()
        self.scale = 1.0
        self.rects: list[QRectF] = []

    def show_page(self, image: QImage, scale: float, rects: list[QRectF]) -> None:
        self.image, self.scale, self.rects = image, scale, rects
        self.setFixedSize(image.size() / max(image.devicePixelRatio(), 1.0))
        self.update()

    def paintEvent(self, _event: object) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.white)
        if not self.image.isNull():
            painter.drawImage(0, 0, self.image)
        for rect in self.rects:
            scaled = QRectF(
                rect.x() * self.scale,
                rect.y() * self.scale,
                rect.width() * self.scale,
                rect.height() * self.scale,
            )
            painter.fillRect(scaled.adjusted(-1, -1, 1, 1), PAGE_HIGHLIGHT)


class SourceViewer(QWidget):
    """Shows a citation; ``shown`` is emitted once the document and highlight are in place."""

    shown = Signal()
    error = Signal(str)

    def __init__(self, page_words: PageWords | None = None) -> None:
        super().__init__()
        self._page_words = page_words
        self._pages: PdfPages | ImagePages = PdfPages(QPdfDocument(self))
        self.current_path: str | None = None
        self.current_page: int | None = None  # 1-based, as in citations
        self.highlight_rects: list[QRectF] = []
        self.text_span: tuple[int, int] | None = None
        self._worker: GeneratorWorker | None = None
        self._find_at = (0, 0)

        self.title = QLabel("Source")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.empty = QLabel(
            "Click a citation [n] or a source card to see the passage here, "
            "highlighted on its page."
        )
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.empty.setMargin(24)
        self.prev_button = tool_button("◀", "Previous page")
        self.next_button = tool_button("▶", "Next page")
        self.page_label = QLabel()
        self.open_button = QPushButton("Open in system viewer")
        self.open_button.setEnabled(False)
        self.find_box = QLineEdit(placeholderText="Find in document (Enter for next)")
        self.find_box.setClearButtonEnabled(True)
        self.find_box.hide()

        self.canvas = PageCanvas()
        self.pdf_area = QScrollArea()
        self.pdf_area.setWidget(self.canvas)
        self.pdf_area.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.text_view = QPlainTextEdit(readOnly=True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.pdf_area)
        self.stack.addWidget(self.text_view)

        bar = QHBoxLayout()
        for widget in (self.prev_button, self.page_label, self.next_button):
            bar.addWidget(widget)
        bar.addStretch()
        bar.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(bar)
        layout.addWidget(self.find_box)
        layout.addWidget(self.stack, 1)

        self.prev_button.clicked.connect(lambda: self._step_page(-1))
        self.next_button.clicked.connect(lambda: self._step_page(1))
        self.open_button.clicked.connect(self.open_externally)
        self.find_box.returnPressed.connect(lambda: self.find_next(self.find_box.text()))
        close_find = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.find_box, self.find_box.hide)
        close_find.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.zoom = 1.0
        keys: list[tuple[QKeySequence | QKeySequence.StandardKey, Callable[[], None]]] = [
            (QKeySequence.StandardKey.ZoomIn, lambda: self.set_zoom(self.zoom * ZOOM_STEP)),
            (QKeySequence("Ctrl+="), lambda: self.set_zoom(self.zoom * ZOOM_STEP)),
            (QKeySequence.StandardKey.ZoomOut, lambda: self.set_zoom(self.zoom / ZOOM_STEP)),
            (QKeySequence("Ctrl+0"), lambda: self.set_zoom(1.0)),
            (QKeySequence(Qt.Key.Key_PageDown), lambda: self._step_page(1)),
            (QKeySequence(Qt.Key.Key_PageUp), lambda: self._step_page(-1)),
            (QKeySequence("Ctrl+Home"), lambda: self._go_to_page(0)),
            (QKeySequence("Ctrl+End"), lambda: self._go_to_page(self._pages.count() - 1)),
        ]
        for key, act in keys:
            shortcut = QShortcut(key, self, act)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._update_page_controls()

    # -- showing a citation ---------------------------------------------------------------

    def show_citation(self, citation: Citation) -> None:
        self.current_path = citation.path
        self.current_page = citation.page
        set_plain(self.title, Path(citation.path).name)
        self.title.setToolTip(tooltip(citation.path))
        self.open_button.setEnabled(True)
        self.highlight_rects, self.text_span = [], None
        self._find_at = (0, 0)
        if document_kind(Path(citation.path)) == "pdf":
            self._show_pdf(citation)
        elif document_kind(Path(citation.path)) == "image":
            self._show_pages(citation, ImagePages(citation.path))
        else:
            self._show_text(citation)

    def _show_pdf(self, citation: Citation) -> None:
        pages = self._pages if isinstance(self._pages, PdfPages) else PdfPages(QPdfDocument(self))
        if pages.document.load(citation.path) != QPdfDocument.Error.None_:
            self.stack.setCurrentWidget(self.pdf_area)
            emit(self.error, f"{citation.path} cannot be opened as a PDF; it may have moved.")
            return
        self._show_pages(citation, pages)

    def _show_pages(self, citation: Citation, pages: PdfPages | ImagePages) -> None:
        """Draw the cited page and highlight the passage: found in the PDF's text layer, or
        covered by the words OCR read on the page (fetched from the engine by a worker)."""
        self._pages = pages
        self.stack.setCurrentWidget(self.pdf_area)
        if pages.count() == 0:
            emit(
                self.error, f"{citation.path} cannot be opened ({pages.error}); it may have moved."
            )
            return
        page = min(max((citation.page or 1) - 1, 0), pages.count() - 1)
        if isinstance(pages, PdfPages):
            self.highlight_rects = passage_rects(pages.document, page, citation.text)
        self._render_page(page)
        if self.highlight_rects or self._page_words is None:
            self._scroll_to_highlight()
            emit(self.shown)
            return
        read = self._page_words
        worker = GeneratorWorker(call(lambda: read(citation.path, page + 1)))
        worker.signals.returned.connect(lambda words: self._words_read(citation, page, words))
        worker.signals.errored.connect(self.error)
        self._worker = worker.start()

    def _words_read(self, citation: Citation, page: int, words: PageOcr | None) -> None:
        if citation.path != self.current_path or self.current_page != page + 1:
            return  # another citation or page was opened meanwhile
        if words is not None:
            size = self._pages.size(page)
            self.highlight_rects = ocr_rects(words, citation.start, citation.end, size)
            self._render_page(page)
            self._scroll_to_highlight()
        emit(self.shown)

    def _scroll_to_highlight(self) -> None:
        if self.highlight_rects:
            first = self.highlight_rects[0]
            scale = self.canvas.scale
            self.pdf_area.ensureVisible(int(first.x() * scale), int(first.y() * scale), 40, 120)

    def fit_width(self) -> int:
        """The width a page is drawn at with zoom 1: the viewer's, less a scroll bar."""
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        frame = 2 * self.pdf_area.frameWidth()
        return max(self.stack.contentsRect().width() - frame - bar - 8, MIN_PAGE_WIDTH)

    def set_zoom(self, zoom: float) -> None:
        """Draw pages at ``zoom`` times the fitted width (1: fit to width)."""
        self.zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        if self.stack.currentWidget() is self.pdf_area and self.current_page is not None:
            self._render_page(self.current_page - 1)

    def _go_to_page(self, page: int) -> None:
        if self.stack.currentWidget() is self.pdf_area and self._pages.count():
            self.highlight_rects = []
            self._render_page(min(max(page, 0), self._pages.count() - 1))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.stack.currentWidget() is self.pdf_area and self.current_page is not None:
            self._render_page(self.current_page - 1)  # still fitted to the new width

    def _render_page(self, page: int) -> None:
        self.current_page = page + 1
        points = self._pages.size(page)
        width = self.fit_width() * self.zoom
        scale = width / max(points.width(), 1.0)
        ratio = self.devicePixelRatioF()
        size = QSize(int(points.width() * scale * ratio), int(points.height() * scale * ratio))
        image = self._pages.render(page, size)
        image.setDevicePixelRatio(ratio)
        self.canvas.show_page(image, scale, self.highlight_rects)
        self._update_page_controls()

    def _step_page(self, delta: int) -> None:
        if self.stack.currentWidget() is not self.pdf_area or self.current_page is None:
            return
        page = self.current_page - 1 + delta
        if 0 <= page < self._pages.count():
            self.highlight_rects = []
            self._render_page(page)

    def _update_page_controls(self) -> None:
        paged = self.stack.currentWidget() is self.pdf_area and self._pages.count() > 0
        for widget in (self.prev_button, self.next_button, self.page_label):
            widget.setVisible(paged)
        if paged and self.current_page:
            self.page_label.setText(f"Page {self.current_page} of {self._pages.count()}")

    def _show_text(self, citation: Citation) -> None:
        self.stack.setCurrentWidget(self.text_view)
        self._update_page_controls()
        if self._worker is not None:
            self._worker.abort()
        worker = GeneratorWorker(call(lambda: load_document(Path(citation.path))))
        worker.signals.returned.connect(lambda doc: self._text_loaded(doc, citation))
        worker.signals.errored.connect(self.error)
        self._worker = worker.start()

    def _text_loaded(self, document: LoadedDocument, citation: Citation) -> None:
        if citation.path != self.current_path:
            return  # another citation was opened meanwhile
        pages = [p for p in document.pages if p.number == citation.page] or list(document.pages)
        text = pages[0].text if pages else ""
        self.text_view.setPlainText(shown(text))
        start, end = max(0, citation.start), min(len(text), citation.end)
        # Where the span is once direction controls are named (each name is 8 characters).
        start, end = len(shown(text[:start])), len(shown(text[:end]))
        self.text_span = (start, end)
        self._select_text(start, end)
        emit(self.shown)

    def _select_text(self, start: int, end: int) -> None:
        cursor = self.text_view.textCursor()
        cursor.setPosition(end)
        self.text_view.setTextCursor(cursor)
        self.text_view.ensureCursorVisible()
        cursor.setPosition(start)
        cursor.setPosition(end, cursor.MoveMode.KeepAnchor)
        background, foreground = text_highlight(self.palette())
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor
        selection.format.setBackground(background)
        selection.format.setForeground(foreground)
        self.text_view.setExtraSelections([selection])
        cursor.setPosition(start)
        self.text_view.setTextCursor(cursor)
        self.text_view.ensureCursorVisible()

    # -- actions ---------------------------------------------------------------------------

    def open_externally(self) -> bool:
        if not self.current_path:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(self.current_path))

    def start_find(self) -> None:
        self.find_box.show()
        self.find_box.setFocus()
        self.find_box.selectAll()

    def find_next(self, query: str) -> bool:
        """Find ``query`` after the last match (wrapping around); True if found."""
        if not query.strip() or self.stack.currentWidget() is self.empty:
            return False
        if self.stack.currentWidget() is self.text_view:
            found = self.text_view.find(query)
            if not found:
                self.text_view.moveCursor(self.text_view.textCursor().MoveOperation.Start)
                found = self.text_view.find(query)
            return found
        if not isinstance(self._pages, PdfPages):
            return False  # an image has no text layer to search
        return self._find_in_pdf(self._pages.document, query.lower())

    def _find_in_pdf(self, document: QPdfDocument, query: str) -> bool:
        count = document.pageCount()
        page, offset = self._find_at
        for step in range(count + 1):
            index = (page + step) % count if count else 0
            text = document.getAllText(index).text().lower()
            at = text.find(query, offset if step == 0 else 0)
            if at >= 0:
                self._find_at = (index, at + 1)
                self.highlight_rects = span_rects(document, index, at, at + len(query))
                self._render_page(index)
                return True
        self._find_at = (0, 0)
        return False
