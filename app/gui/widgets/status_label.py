"""One coloured status line for a page: success, warning, or an error with its fix."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from app.core.errors import WizardError
from app.gui.open_url import open_url

COLORS = {"ok": "#1a7f37", "warning": "#9a6700", "error": "#c0262d", "info": ""}


class StatusLabelWidget(QLabel):
    """A word-wrapped, selectable label whose ``kind`` (ok/warning/error/info) sets its colour.

    ``kind`` is kept for tests and screen readers; GUI thread only.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.linkActivated.connect(open_url)  # not setOpenExternalLinks: see app.gui.open_url
        self.kind = "info"
        self.plain = ""

    def show_text(self, kind: str, text: str, detail: str = "") -> None:
        """Show ``text`` (plain, escaped here) in the colour of ``kind``, with an optional second line."""
        self.kind = kind
        self.plain = text + (("\n" + detail) if detail else "")
        color = COLORS.get(kind, "")
        body = html.escape(text).replace("\n", "<br>")
        if color:
            body = f'<span style="color:{color}; font-weight:600">{body}</span>'
        if detail:
            body += "<br>" + html.escape(detail).replace("\n", "<br>")
        self.setText(body)
        self.setVisible(True)

    def show_error(self, error: WizardError, prefix: str = "") -> None:
        """An error: its message in red, then its fix."""
        self.show_text("error", (prefix + error.message) if prefix else error.message, error.fix)

    def clear_status(self) -> None:
        self.kind = "info"
        self.plain = ""
        self.clear()
