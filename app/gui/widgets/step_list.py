"""The wizard's side panel: the list of steps with the current one marked."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget


class StepListWidget(QFrame):
    """Shows step titles top to bottom; :meth:`set_current` marks one as current and the earlier ones as
    passed, and :meth:`set_skipped` greys out steps the plan leaves out. GUI thread only."""

    def __init__(self, titles: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("step_list")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumWidth(170)
        # palette() keeps it right in dark themes too
        self.setStyleSheet("#step_list { background: palette(alternate-base); border-right: 1px solid palette(midlight); }")
        self._labels: list[QLabel] = []
        self._titles = list(titles)
        self._skipped: set[int] = set()
        self._current = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 18, 14, 18)
        lay.setSpacing(10)
        for _title in titles:
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            self._labels.append(label)
            lay.addWidget(label)
        lay.addStretch(1)
        self.set_current(0)

    def set_skipped(self, indexes: set[int]) -> None:
        self._skipped = set(indexes)
        self.set_current(self._current)

    def set_current(self, index: int) -> None:
        self._current = index
        for i, (label, title) in enumerate(zip(self._labels, self._titles)):
            font = QFont(label.font())
            font.setBold(i == index)
            label.setFont(font)
            if i == index:
                mark = "\u25b6"
            elif i in self._skipped:
                mark = "\u2013"
            elif i < index:
                mark = "\u2713"
            else:
                mark = "\u2022"
            label.setText(f"{mark}  {title}")
            label.setEnabled(i == index or i not in self._skipped)
            label.setProperty("state", "current" if i == index else "skipped" if i in self._skipped
                              else "done" if i < index else "todo")

    def texts(self) -> list[str]:
        return [label.text() for label in self._labels]
