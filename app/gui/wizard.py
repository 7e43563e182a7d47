"""The installer wizard: seven pages over one plan and one run state.

Pages are registered with ``setPage(PageId.X, page)`` and all branching lives in
:meth:`InstallerWizard.nextId`. The wizard owns exactly one
:class:`~app.core.plan.InstallPlan` (the user's choices) and one
:class:`~app.core.pipeline.RunState` (what the steps found and made) and hands both to
every page's constructor; no other state is shared through the wizard object.
"""

from __future__ import annotations

import copy
import sys
import threading
from enum import IntEnum

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Slot
from PySide6.QtWidgets import QComboBox, QMessageBox, QWidget, QWizard

from app.core import pipeline
from app.core.events import Reporter
from app.core.logfile import FileLogReporter, default_log_file
from app.core.plan import InstallPlan
from app.gui.pages.base import WorkPage
from app.gui.pages.download_page import DownloadPage
from app.gui.pages.env_page import EnvPage
from app.gui.pages.finish_page import FinishPage
from app.gui.pages.gpu_check_page import GpuCheckPage
from app.gui.pages.install_page import InstallPage
from app.gui.pages.package_page import PackagePage
from app.gui.pages.path_page import PathPage
from app.gui.widgets.step_list import StepListWidget


class PageId(IntEnum):
    """Page ids in the order the user meets them."""

    PACKAGE = 0
    DOWNLOAD = 1
    INSTALL = 2
    PATH = 3
    ENV = 4
    GPU_CHECK = 5
    FINISH = 6


class _ReturnPasser(QObject):
    """Lets Return/Enter in an editable combo box reach the wizard's default button (Next).

    An editable QComboBox accepts Return when its line edit takes an inline completion, so the
    key never reaches the dialog. With this filter the combo box still handles the key first
    (completion, ``editingFinished``), then the key goes on to the wizard, where Next is pressed
    if it is (still) enabled. An open drop-down list keeps the key (it picks the item).
    """

    KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if (event.type() == QEvent.Type.KeyPress and isinstance(obj, QComboBox) and obj.isEditable()
                and event.key() in self.KEYS and not obj.view().isVisible()):
            QComboBox.keyPressEvent(obj, event)
            event.ignore()  # not accepted: Qt passes the key on to the parent widgets, up to the wizard
            return True
        return False


class _FirstPaint(QObject):
    """Calls ``done()`` once, on the GUI thread's next turn after the first page has been painted."""

    def __init__(self, wizard: "InstallerWizard") -> None:
        super().__init__(wizard)
        self._done = wizard._shown_now

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and obj.isVisible():
            QTimer.singleShot(0, self._done)  # after this paint, and the rest of the window's, are done
        return False


class InstallerWizard(QWizard):
    """Miniconda Setup Wizard.

    Args:
        plan: the choices (from the command line or defaults); pages edit it in place.
        state: the run state; a new empty one when omitted.
        log: a thread-safe reporter that gets every engine event too (the file log); when omitted,
            a :class:`~app.core.logfile.FileLogReporter` on ``plan.log_file`` (set to a new default
            file when ``None``) is opened and closed with the wizard.
        confirm_close: ask before stopping running work when the user closes the window.

    Closing (Cancel, Esc, the window's close button) while a step runs asks that step's worker
    to cancel and waits for it (cancel takes effect within ~1 s).
    """

    #: Seconds after ``show()`` after which work waiting for the first paint starts anyway (a platform that
    #: paints late, or never while minimised).
    SHOWN_FALLBACK_S = 1.0

    def __init__(self, plan: InstallPlan, state: pipeline.RunState | None = None, log: Reporter | None = None,
                 confirm_close: bool = True, parent: QWidget | None = None, start_id: int | None = None) -> None:
        super().__init__(parent)
        self._painted = False
        self._showing = False
        self._shown_event = threading.Event()  # set with _painted, for threads
        self._after_paint: list = []
        self._first_paint = _FirstPaint(self)
        self.plan = plan
        self.state = state if state is not None else pipeline.RunState()
        self._own_log: FileLogReporter | None = None
        if log is None:
            if plan.log_file is None:
                plan.log_file = default_log_file()
            try:
                self._own_log = FileLogReporter(plan.log_file)
                self._own_log.write_header(sys.argv, None, mode="wizard")  # the same header as silent mode
            except OSError as exc:
                # A bad --log-file must not stop the wizard: log to the default place and say so.
                bad, plan.log_file = plan.log_file, default_log_file()
                self._own_log = FileLogReporter(plan.log_file)
                self._own_log.write_header(sys.argv, None, mode="wizard")
                self._own_log.write("warning", f"Cannot write the log file {bad} ({exc.strerror or exc}); "
                                               f"logging here instead.")
            self._own_log.write("info", "Wizard started.")
            # every HTTP retry (index, download) reaches the log as it happens, as in silent mode; the session
            # itself (requests) is made by the first worker that needs it, not before the first page shows
            own_log = self._own_log
            self.state.on_retry = lambda line: own_log.write("warning", line, "network")
            if self.state.session is not None:
                self.state.session.on_retry = self.state.on_retry  # type: ignore[attr-defined]
            _log_plan_in_background(self._own_log, plan, self._shown_event)
            log = self._own_log
        self.log = log
        self.confirm_close = confirm_close

        self.setWindowTitle(self.tr("Miniconda Setup Wizard"))
        from app.gui import window_icon  # noqa: PLC0415

        self.setWindowIcon(window_icon())  # X11: _NET_WM_ICON; Windows: the title bar and task bar
        self.setObjectName("installer_wizard")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.HaveHelpButton, False)
        # About (version, licences, Anaconda's terms) at the left of the button row
        self.setOption(QWizard.WizardOption.HaveCustomButton1, True)
        self.setButtonText(QWizard.WizardButton.CustomButton1, self.tr("Ab&out"))
        self.button(QWizard.WizardButton.CustomButton1).setObjectName("about_button")
        self.setButtonLayout([QWizard.WizardButton.CustomButton1, QWizard.WizardButton.Stretch,
                              QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                              QWizard.WizardButton.CommitButton, QWizard.WizardButton.FinishButton,
                              QWizard.WizardButton.CancelButton])
        self.customButtonClicked.connect(self._custom_button)
        self.about_dialog = None

        pages = [
            (PageId.PACKAGE, PackagePage),
            (PageId.DOWNLOAD, DownloadPage),
            (PageId.INSTALL, InstallPage),
            (PageId.PATH, PathPage),
            (PageId.ENV, EnvPage),
            (PageId.GPU_CHECK, GpuCheckPage),
            (PageId.FINISH, FinishPage),
        ]
        for page_id, cls in pages:
            self.setPage(page_id, cls(plan, self.state, log))
        self.setStartId(PageId.PACKAGE if start_id is None else start_id)  # GPU_CHECK: --gpu-check-only
        self._return_passer = _ReturnPasser(self)
        for combo in self.findChildren(QComboBox):
            if combo.isEditable():
                combo.installEventFilter(self._return_passer)
                combo.setProperty("passes_return", True)

        self.steps = StepListWidget([
            self.tr("Choose package"), self.tr("Download"), self.tr("Install"), self.tr("PATH options"),
            self.tr("Create the env"), self.tr("GPU check"), self.tr("Finish"),
        ])
        self.setSideWidget(self.steps)
        for page_id in self.pageIds():
            self.page(page_id).installEventFilter(self._first_paint)
        self.currentIdChanged.connect(self._page_changed)
        self.resize(QSize(940, 680))
        self.setMinimumSize(QSize(760, 560))

    # ---- navigation -----------------------------------------------------------------------------
    def nextId(self) -> int:  # noqa: N802 - Qt API
        """The only branching: the GPU check runs only when an env is made and the check is wanted."""
        current = self.currentId()
        if current == PageId.ENV:
            p = self.plan
            return PageId.GPU_CHECK if (p.create_env and p.gpu_check) else PageId.FINISH
        if current in (PageId.FINISH, -1):
            return -1
        return current + 1

    @Slot(int)
    def _page_changed(self, page_id: int) -> None:
        if page_id < 0:
            return
        skipped = set()
        if page_id > PageId.ENV and not (self.plan.create_env and self.plan.gpu_check):
            skipped.add(int(PageId.GPU_CHECK))
        self.steps.set_skipped(skipped)
        self.steps.set_current(page_id)

    @Slot(int)
    def _custom_button(self, which) -> None:
        if which in (QWizard.WizardButton.CustomButton1, QWizard.WizardButton.CustomButton1.value):
            self.show_about()

    def show_about(self):
        """Open the About dialog (modeless, one at a time) and return it."""
        from app.gui.about import AboutDialog  # noqa: PLC0415 - only when asked for

        if self.about_dialog is None:
            self.about_dialog = AboutDialog(self)
        self.about_dialog.show()
        self.about_dialog.raise_()
        self.about_dialog.activateWindow()
        return self.about_dialog

    # ---- start-up -------------------------------------------------------------------------------
    def when_shown(self, fn) -> None:
        """Call ``fn()`` once the window has painted its first page (at once when it has; see
        :meth:`WorkPage.start_worker`): work that a page starts on opening, such as reading the index, then
        imports the engine (requests, urllib3, ~0.1 s) after the user sees the page, not before (issue 9)."""
        if self._painted:
            fn()
            return
        if not (self._showing or self.isVisible()):  # not shown (a test driving pages by hand): nothing waits
            fn()
            return
        self._after_paint.append(fn)

    def setVisible(self, visible: bool) -> None:  # noqa: N802 - Qt API (show() comes here)
        # QWizard opens the start page (initializePage) before the window is visible: mark the time in between
        if visible and not self._painted and not self._showing:
            self._showing = True
            QTimer.singleShot(int(self.SHOWN_FALLBACK_S * 1000), self._shown_now)
        super().setVisible(visible)

    @Slot()
    def _shown_now(self) -> None:
        if not self._painted:
            self._painted = True
            self._shown_event.set()
            for page_id in self.pageIds():
                self.page(page_id).removeEventFilter(self._first_paint)
        waiting, self._after_paint = self._after_paint, []
        for fn in waiting:
            fn()

    # ---- work pages -----------------------------------------------------------------------------
    def work_pages(self) -> list[WorkPage]:
        return [p for i in self.pageIds() if isinstance(p := self.page(i), WorkPage)]

    def busy(self) -> bool:
        """True while any page's worker runs."""
        return any(p.is_busy() for p in self.work_pages())

    def shutdown(self, exit_code: int = 1) -> None:
        """Cancel every running worker and wait for it; end the log file with ``exit code N (stage S)`` (as
        silent mode's: 0 when the wizard finished, 1 when it was closed before) and close it."""
        for p in self.work_pages():
            p.shutdown()
        if self._own_log is not None:
            self._own_log.write("info", "Wizard finished." if exit_code == 0 else "Wizard closed before the end.")
            self._own_log.write_footer(exit_code, None if exit_code == 0 else self._own_log.last_stage)
            self._own_log.close()
            self._own_log = None

    def reject(self) -> None:
        """Cancel / Esc / window close (QDialog routes all three here): confirm when work is
        running, then stop it and close. Returning without closing keeps the window open."""
        if self.busy() and self.confirm_close:
            answer = QMessageBox.question(
                self, self.tr("Stop and quit?"),
                self.tr("A step is still running. Stop it and quit the wizard?\n"
                        "A partial download is kept for next time; a half-made installation is removed."),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.shutdown()
        super().reject()

    def done(self, result: int) -> None:
        self.shutdown(0 if result == QWizard.DialogCode.Accepted else 1)
        super().done(result)


def _log_plan_in_background(log: FileLogReporter, plan: InstallPlan, shown: threading.Event | None = None) -> None:
    """Write the plan's summary to the log from a thread: the summary names the torch build, which probes the
    GPU (``nvidia-smi`` may take seconds), and the window must not wait for it. A copy of the plan is summarised,
    as the pages change the plan meanwhile. The thread first waits for ``shown`` (the first page painted; at
    most :attr:`InstallerWizard.SHOWN_FALLBACK_S`): its imports (pynvml, yaml) must not delay the first page."""
    snapshot = copy.copy(plan)

    def work() -> None:
        if shown is not None:
            shown.wait(InstallerWizard.SHOWN_FALLBACK_S)
        try:
            log.write("info", "Plan:\n" + snapshot.summary())
        except Exception as exc:  # noqa: BLE001 - a summary must never stop the wizard
            log.write("warning", f"The plan could not be summarised: {exc}")

    threading.Thread(target=work, name="log-plan", daemon=True).start()
