"""The first page's choice between Miniconda and Miniforge (issue 7), one line each on what it means.

The facts (licence and Terms of Service, channels, size) come from :mod:`app.core.distributions`, so the page and
``--dry-run`` say the same thing.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QButtonGroup, QLabel, QRadioButton, QVBoxLayout, QWidget

from app.core import distributions


class DistributionChoiceWidget(QWidget):
    """Two radio buttons (Miniconda, Miniforge), each with its one-line summary below it.

    Signals:
        changed(str): the user picked another distribution (its name: ``miniconda`` / ``miniforge``); not emitted
            by :meth:`set_value`.

    GUI thread only.
    """

    changed = Signal(str)

    def __init__(self, value: str = distributions.DEFAULT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("distribution_choice")
        self.group = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        for i, dist in enumerate(distributions.DISTRIBUTIONS.values()):
            button = QRadioButton(dist.title)
            button.setObjectName(f"distribution_{dist.name}")
            button.setToolTip(dist.licence)
            line = QLabel(dist.summary)
            line.setObjectName(f"distribution_{dist.name}_line")
            line.setWordWrap(True)
            line.setIndent(22)
            self.group.addButton(button, i)
            self.buttons[dist.name] = button
            lay.addWidget(button)
            lay.addWidget(line)
        self.set_value(value)
        self.group.idToggled.connect(self._toggled)

    def value(self) -> str:
        """The chosen distribution's name."""
        return next((n for n, b in self.buttons.items() if b.isChecked()), distributions.DEFAULT)

    def set_value(self, name: str) -> None:
        """Check ``name`` (an unknown name checks the default) without emitting :attr:`changed`."""
        self.group.blockSignals(True)
        self.buttons.get(name, self.buttons[distributions.DEFAULT]).setChecked(True)
        self.group.blockSignals(False)

    @Slot(int, bool)
    def _toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self.changed.emit(self.value())
