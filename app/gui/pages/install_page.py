"""Step 3 page: choose the install location and run the Miniconda installer in batch mode."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWizard,
)

from app.core import elevation, pipeline, plan_checks
from app.core.errors import ElevationError, PrefixError, Stage
from app.core.events import Progress
from app.gui.pages.base import WorkPage
from app.gui.widgets.log_view import LogViewWidget
from app.gui.widgets.progress_panel import ProgressPanelWidget
from app.gui.widgets.status_label import StatusLabelWidget
from app.gui.widgets.existing_install import ExistingInstallWidget, check as check_location


class InstallPage(WorkPage):
    """Prefix (with Browse…), "update existing", live location checks, installer log.

    Writes ``plan.prefix`` / ``plan.update_existing`` / ``plan.install_type``; the
    :class:`~app.core.installer.InstallResult` goes to ``state.install``. It is a commit page: nothing
    before it can be redone after it. The wizard's own commit button reads "Install" and starts the
    installer (:meth:`validatePage`); it is enabled while the location checks pass. When the installation
    is verified the page moves on by itself; on a failure it stays, with the error and its fix, and
    Install tries again (issue 9: five clicks from launch to the verdict). ``install_button`` (hidden in
    the wizard) does the same for a page shown on its own, and its enabled state says whether Install may run.
    """

    def __init__(self, plan, state, log=None, parent=None):
        super().__init__(plan, state, log, parent)
        self.setTitle(self.tr("Install Miniconda"))
        self.setSubTitle(self.tr("Choose where Miniconda goes, then press Install. "
                                 "The official installer runs in batch mode; its output appears below."))
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("&Install"))

        self.prefix_edit = QLineEdit(str(plan.prefix))
        self.prefix_edit.setObjectName("prefix_edit")
        self.prefix_edit.setAccessibleName(self.tr("Install location"))
        self.prefix_edit.setClearButtonEnabled(True)
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse)
        self.browse_button = browse
        row = QHBoxLayout()
        row.addWidget(self.prefix_edit, 1)
        row.addWidget(browse)

        self.update_check = QCheckBox(self.tr("Update an existing Miniconda installation in this folder"))
        self.update_check.setChecked(plan.update_existing)
        self.type_combo = QComboBox()
        self.type_combo.setAccessibleName(self.tr("Install for"))
        self.type_combo.addItem(self.tr("Just me (recommended)"), "JustMe")
        self.type_combo.addItem(self.tr("All users (needs administrator rights)"), "AllUsers")
        self.type_combo.setCurrentIndex(max(0, self.type_combo.findData(plan.install_type)))

        form = QFormLayout()
        form.addRow(self.tr("Install location:"), row)
        form.addRow("", self.update_check)
        self.existing = ExistingInstallWidget(plan, self.update_check)  # issue 11: reuse/update/repair/uninstall
        form.addRow("", self.existing)
        if plan.platform.os == "Windows":
            form.addRow(self.tr("Install for:"), self.type_combo)
        else:
            self.type_combo.hide()

        self.check_status = StatusLabelWidget()
        self.check_status.setObjectName("prefix_status")
        # Offered next to a refusal: the first safe location (plan_checks.safe_location), and on Windows a restart
        # of the wizard as administrator for an AllUsers install (app.core.elevation).
        self.use_safe_button = QPushButton()
        self.use_safe_button.setObjectName("use_safe_button")
        self.use_safe_button.setAccessibleName(self.tr("Use the suggested location"))
        self.use_safe_button.clicked.connect(self._use_safe)
        self.use_safe_button.hide()
        self.elevate_button = QPushButton(self.tr("Restart as administrator"))
        self.elevate_button.setObjectName("elevate_button")
        self.elevate_button.clicked.connect(self._restart_elevated)
        self.elevate_button.hide()
        self._safe: str | None = None
        fixes = QHBoxLayout()
        fixes.addWidget(self.use_safe_button)
        fixes.addWidget(self.elevate_button)
        fixes.addStretch(1)
        self.install_button = QPushButton(self.tr("&Install"))
        self.install_button.setObjectName("install_button")
        self.install_button.clicked.connect(self.start_install)
        self.cancel_button = QPushButton(self.tr("Cancel install"))
        self.cancel_button.setAccessibleName(self.tr("Cancel the installation"))
        self.cancel_button.clicked.connect(self.cancel_worker)
        self.cancel_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.install_button)

        self.progress = ProgressPanelWidget()
        self.log_view = LogViewWidget(wrap=True)  # long lines (the "Verified: ..." summary) wrap instead of hiding
        self.log_view.setAccessibleName(self.tr("Installer output"))
        self.log_view.setMinimumHeight(140)
        self.result = StatusLabelWidget()
        self.result.setObjectName("install_result")

        # A Chinese or spaced user profile: why the location is not under it, in Chinese and English.
        note = plan_checks.profile_note(plan.platform.os, plan_checks.home_or_none(), plan.resolved_prefix)
        self.profile_note = QLabel(note or "")
        self.profile_note.setObjectName("profile_note")
        self.profile_note.setWordWrap(True)
        self.profile_note.setVisible(bool(note))

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.profile_note)
        lay.addWidget(self.check_status)
        lay.addLayout(fixes)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.log_view, 1)
        lay.addWidget(self.result)

        self.prefix_edit.textChanged.connect(self.refresh_checks)
        self.update_check.toggled.connect(self.refresh_checks)
        self.existing.changed.connect(self.refresh_checks)
        self.existing.another_folder.connect(self.prefix_edit.setFocus)
        self.type_combo.currentIndexChanged.connect(self.refresh_checks)
        self.progress.reset(self.tr("Not started."))

    # ---- location checks ------------------------------------------------------------------------
    def _installer_ext(self) -> str | None:
        if self.state.installer_path is not None:
            return Path(self.state.installer_path).suffix.lower()
        if self.state.choice is not None:
            return Path(self.state.choice.filename).suffix.lower()
        return None

    def refresh_checks(self) -> bool:
        """Copy the inputs into the plan and check the location. Returns True when Install may run."""
        text = self.prefix_edit.text().strip()
        self.plan.update_existing = self.update_check.isChecked()
        self.plan.install_type = self.type_combo.currentData() or "JustMe"
        ok = False
        self._offer_fixes(None)
        if self.state.install is not None:  # done: the folder now holds it, which is no problem any more
            self.existing.hide()
            self.check_status.clear_status()
            self.install_button.setEnabled(False)
            return False
        if not text:
            self.check_status.show_text("error", self.tr("Enter the folder to install Miniconda into."))
        else:
            self.plan.prefix = Path(text)
            self.existing.refresh()
            try:
                warnings = check_location(self.plan, self._installer_ext())
            except PrefixError as exc:
                self.check_status.show_error(exc)
                self._offer_fixes(exc)
            else:
                ok = True
                if warnings:
                    self.check_status.show_text("warning", "\n".join(warnings))
                elif self._is_empty_folder(self.plan.resolved_prefix):  # e.g. made with Browse -> New Folder
                    self.check_status.show_text(
                        "ok", self.tr("The folder {prefix} exists and is empty; Miniconda will be installed into "
                                      "it.").format(prefix=self.plan.resolved_prefix))
                else:
                    self.check_status.show_text(
                        "ok", self.tr("Miniconda will be installed in {prefix}.").format(prefix=self.plan.resolved_prefix))
        done = self.state.install is not None
        self.install_button.setEnabled(ok and not self.is_busy() and not done)
        self.completeChanged.emit()  # the wizard's Install button follows the checks
        return ok

    def _offer_fixes(self, error: PrefixError | None) -> None:
        """Show "Use <safe location>" for a location that cannot be used, and "Restart as administrator" for an
        AllUsers install without rights (Windows only: elsewhere there is nothing to restart with)."""
        elevate = isinstance(error, ElevationError)
        self.elevate_button.setVisible(elevate and elevation.can_relaunch())
        self._safe = None
        if error is not None and not elevate:
            safe = plan_checks.safe_location(self.plan.platform.os, self.plan.install_type,
                                             self.plan.env_name if self.plan.create_env else None,
                                             current=self.plan.resolved_prefix)
            self._safe = str(safe) if safe is not None else None
        if self._safe:
            self.use_safe_button.setText(self.tr("Use {path}").format(path=self._safe))
        self.use_safe_button.setVisible(bool(self._safe))

    def _use_safe(self) -> None:
        if self._safe:
            self.prefix_edit.setText(self._safe)

    def _restart_elevated(self) -> None:
        if elevation.adapter().relaunch_elevated(elevation.relaunch_argv()):
            self.wizard().close()
        else:
            self.check_status.show_text("error", self.tr("The wizard could not be started as administrator (the "
                                                         "prompt was declined?)."), elevation.FIX)

    @staticmethod
    def _is_empty_folder(path: Path) -> bool:
        try:
            return path.is_dir() and not any(path.iterdir())
        except OSError:
            return False

    def _browse(self) -> None:
        start = self.prefix_edit.text().strip() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose the install location"), start)
        if folder:
            self.prefix_edit.setText(folder)

    # ---- wizard hooks ---------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt API
        self.install_button.setVisible(self.wizard() is None)  # in the wizard, its own Install (commit) button runs the installer
        self.refresh_checks()
        self._set_inputs_enabled(not self.is_busy() and self.state.install is None)

    def is_done(self) -> bool:
        """True once the installation is made and verified (and no worker runs)."""
        return self.state.install is not None and not self.is_busy()

    def isComplete(self) -> bool:  # noqa: N802 - Qt API: the wizard's Install/Next button is enabled
        return self.is_done() or (not self.is_busy() and self.install_button.isEnabled())

    def validatePage(self) -> bool:  # noqa: N802 - Qt API: the user pressed Install
        """True once installed (the wizard moves on); otherwise start the installer and return False: the page
        moves on by itself when it succeeds (:meth:`handle_finished`)."""
        if self.state.install is not None:
            return not self.is_busy()
        self.start_install()
        return False

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for w in (self.prefix_edit, self.browse_button, self.update_check, self.type_combo):
            w.setEnabled(enabled)

    # ---- work -----------------------------------------------------------------------------------
    def start_install(self) -> None:
        """Run the install step in a worker (the button's action)."""
        if self.is_busy() or self.state.install is not None or not self.refresh_checks():
            return
        plan, state = self.plan, self.state
        self.log_view.clear()
        self.result.clear_status()
        self.progress.set_busy(True)
        self.progress.detail.setText(self.tr("Running the installer…"))
        self._set_inputs_enabled(False)
        self.install_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.start_worker(lambda r, c: pipeline.run_step(Stage.INSTALL, plan, state, r, c), name="install")

    def handle_progress(self, progress: Progress) -> None:
        self.progress.show_progress(progress, progress.text)

    def handle_log(self, line: str, level: str) -> None:
        self.log_view.append_line(line, level)

    def _after(self) -> None:
        self.cancel_button.setEnabled(False)
        done = self.state.install is not None
        self._set_inputs_enabled(not done)
        self.refresh_checks()

    def handle_finished(self, result) -> None:
        r = self.state.install
        self.progress.set_done(self.tr("Installed."))
        self.result.show_text("ok", self.tr("conda {version} installed in {prefix}").format(
            version=r.conda_version, prefix=r.prefix))
        self._after()
        wizard = self.wizard()
        if wizard is not None and wizard.currentPage() is self:
            wizard.next()  # the work the user asked for with Install is done: on to the next step

    def handle_failed(self, error) -> None:
        self.progress.reset(self.tr("The installation failed."))
        self.result.show_error(error)
        self._after()

    def handle_cancelled(self) -> None:
        self.progress.reset(self.tr("Cancelled. Nothing was left behind in a new folder; press Install to start again."))
        self.result.show_text("warning", self.tr("Cancelled."))
        self._after()
