"""The language switch on the wizard's first page, and the switch itself (:func:`switch_language`).

Switching rebuilds the wizard's pages in the new language over the same plan and run state (the choices made so
far stay; the first page reads the index again). Rebuilding, rather than a ``changeEvent(LanguageChange)`` in
every widget, is the robust way: every text, including ones computed from data (status lines, tables), is made
again by the same code that made it first. It is offered on the first page only, where nothing has run yet.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QTimer, Signal
from PySide6.QtWidgets import QApplication, QComboBox, QHBoxLayout, QLabel, QWidget, QWizard

from app import i18n

#: The step titles of the side panel, as the wizard makes them (context InstallerWizard).
STEP_TITLES = ("Choose package", "Download", "Install", "PATH options", "Create the env", "GPU check", "Finish")


class LanguageChoiceWidget(QWidget):
    """A "语言 / Language" combo box listing :data:`app.i18n.LANGUAGES` by their own names, set to the language in
    force. Choosing another emits :attr:`language_chosen` and, inside a wizard, switches it
    (:func:`switch_language`, after the current event, as the switch replaces this widget's page)."""

    language_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("language_choice")
        # in both languages on purpose: a reader of the other language must find it
        self.label = QLabel("语言 / Language:")
        self.combo = QComboBox()
        self.combo.setObjectName("language_combo")
        self.combo.setAccessibleName("语言 / Language")
        self.label.setBuddy(self.combo)
        for code, name in i18n.LANGUAGES.items():
            self.combo.addItem(name, code)
        self.combo.setCurrentIndex(max(0, self.combo.findData(i18n.language())))
        self.combo.currentIndexChanged.connect(self._chosen)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)
        lay.addWidget(self.combo)
        lay.addStretch(1)

    def _chosen(self, index: int) -> None:
        lang = self.combo.itemData(index)
        if not lang or lang == i18n.language():
            return
        self.language_chosen.emit(lang)
        wizard = self.window()
        if isinstance(wizard, QWizard):
            QTimer.singleShot(0, lambda: switch_language(wizard, lang))


def switch_language(wizard, lang: str) -> None:
    """Use ``lang`` for the core (:func:`app.i18n.set_language`) and the GUI (Qt translators), then rebuild every
    page of ``wizard`` (an :class:`~app.gui.wizard.InstallerWizard`) with the same plan, state and log, the
    side panel and the title, and go back to the first page. Running page work is stopped first."""
    i18n.set_language(lang)
    app = QApplication.instance()
    if app is not None:
        i18n.install_qt_translators(app, lang)
    ids = list(wizard.pageIds())
    old_pages = [(pid, wizard.page(pid)) for pid in ids]
    for _pid, page in old_pages:
        if hasattr(page, "shutdown"):
            page.shutdown()
    for pid, page in old_pages:
        cls = type(page)
        wizard.removePage(pid)
        page.deleteLater()
        wizard.setPage(pid, cls(wizard.plan, wizard.state, wizard.log))
    passer = getattr(wizard, "_return_passer", None)
    if passer is not None:
        for combo in wizard.findChildren(QComboBox):
            if combo.isEditable() and not combo.property("passes_return"):
                combo.installEventFilter(passer)
                combo.setProperty("passes_return", True)
    wizard.setWindowTitle(QCoreApplication.translate("InstallerWizard", "Miniconda Setup Wizard"))
    old_steps = getattr(wizard, "steps", None)
    if old_steps is not None:
        new_steps = type(old_steps)([QCoreApplication.translate("InstallerWizard", t) for t in STEP_TITLES])
        new_steps.set_skipped(set(old_steps._skipped))
        wizard.steps = new_steps
        wizard.setSideWidget(new_steps)
        old_steps.hide()
        old_steps.deleteLater()
    wizard.restart()
