"""A read-only, bounded log pane fed line by line from a worker's ``logged`` signal."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat
from PySide6.QtWidgets import QPlainTextEdit, QWidget

_LEVEL_COLORS = {"warning": QColor("#9a6700"), "error": QColor("#c0262d"), "debug": QColor("#57606a")}


class LogViewWidget(QPlainTextEdit):
    """Monospace, read-only text that keeps the last ``max_lines`` lines.

    It follows new lines only while the user is at the bottom: scrolling up to read an
    older line is not undone by the next one. Warnings and errors are coloured.
    GUI thread only.
    """

    def __init__(self, max_lines: int = 5000, wrap: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(max_lines)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth if wrap else QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setUndoRedoEnabled(False)
        self.setObjectName("log_view")

    def append_line(self, line: str, level: str = "info") -> None:
        """Add one line at the end (a ``level`` of warning/error/debug is coloured)."""
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 2
        cursor = self.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        fmt = QTextCharFormat()
        color = _LEVEL_COLORS.get(level)
        if color is not None:
            fmt.setForeground(color)
        if not self.document().isEmpty():
            cursor.insertBlock()
        cursor.insertText(line, fmt)
        if at_bottom:
            bar.setValue(bar.maximum())

    def lines(self) -> list[str]:
        """The text now held, one string per line."""
        return self.toPlainText().splitlines()
