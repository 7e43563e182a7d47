"""What to do with an installation that is already in the chosen folder (issue 11), shown on the install page.

For an installation this wizard made: repair it (an incomplete one is removed and installed again, a complete
one updated in place) or uninstall it (:mod:`app.core.uninstall`, after a confirmation that lists what will be
done). For any other conda: reuse it as it is (no installer; the PATH, env and GPU steps still run) or update it
(the installer runs over it). Both offer "choose another folder". The choice is written into the plan
(``if_exists``, ``update_existing``); the engine decides with :func:`app.core.existing.decide`.

Threading: the uninstall runs in an :class:`~app.gui.worker.EngineWorker`; its signals reach slots of this
widget (a GUI-thread QObject), as the worker's rules require.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Signal, Slot
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QHBoxLayout, QLabel, QMessageBox, QProgressDialog, QPushButton,
                               QRadioButton, QVBoxLayout, QWidget)

from app.core import existing, installer, manifest
from app.core.errors import PrefixError, WizardError


def check(plan, installer_ext: str | None = None) -> list[str]:
    """The install page's location check under the plan's ``if_exists``: the installer's rules when the
    installer will run (:func:`app.core.existing.check_prefix`), else only what
    :func:`app.core.existing.decide` requires (reuse: a conda; repair: an installation the wizard made).

    Raises:
        PrefixError: the location cannot be used with this choice (the fix names the others).
    """
    decision = existing.decide(plan)
    if decision == "install":
        try:
            return existing.check_prefix(plan, installer_ext)
        except PrefixError as exc:
            prefix = plan.resolved_prefix
            if existing.mode(plan) == "fail" and existing.occupied(prefix) and (
                    installer.conda_executable(prefix, plan.platform.os).exists()
                    or existing.incomplete_reason(prefix, plan.platform.os)):
                exc.fix = QCoreApplication.translate("ExistingInstallWidget",
                                                     "Choose what to do with it above, or choose another folder.")
            raise
    if decision == "reuse":
        return [QCoreApplication.translate(
            "ExistingInstallWidget", "The installation in {prefix} is reused as it is: the installer does not run."
        ).format(prefix=plan.resolved_prefix)]
    return [QCoreApplication.translate(
        "ExistingInstallWidget", "The incomplete installation in {prefix} is removed and installed again."
    ).format(prefix=plan.resolved_prefix)]


def confirm_uninstall(parent: QWidget | None, prefix: Path, os_name: str) -> bool | None:
    """Ask, listing what ``--uninstall`` would do for ``prefix`` (its dry run). ``True``: go ahead;
    ``False``: the user said no; ``None``: there is nothing to uninstall (said in a message box)."""
    from app.core import uninstall  # noqa: PLC0415

    try:
        plan = uninstall.run(prefix, os_name=os_name, dry_run=True)
    except WizardError as exc:
        QMessageBox.warning(parent, QCoreApplication.translate("ExistingInstallWidget", "Uninstall"),
                            f"{exc.message}\n\n{exc.fix}")
        return None
    text = "\n".join(f"• {line}" for line in plan.lines) or \
        QCoreApplication.translate("ExistingInstallWidget", "Nothing to do.")
    answer = QMessageBox.question(
        parent, QCoreApplication.translate("ExistingInstallWidget", "Uninstall"),
        QCoreApplication.translate("ExistingInstallWidget",
                                   "Uninstall {prefix}? The wizard will:\n\n{text}\n\nFiles you edited since are kept."
                                   ).format(prefix=prefix, text=text),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class ExistingInstallWidget(QWidget):
    """The offer for an occupied install location; hidden when the location is new or empty.

    Signals:
        changed(): the choice changed (the page checks the location again).
        another_folder(): the user wants to pick another folder (the page focuses its location field).
        uninstalled(str): the uninstall finished (the message), so the folder is free again.
    """

    changed = Signal()
    another_folder = Signal()
    uninstalled = Signal(str)

    def __init__(self, plan, update_check: QCheckBox | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("existing_install")
        self.plan = plan
        self.update_check = update_check
        self.worker = None
        self.summary = QLabel()
        self.summary.setObjectName("existing_summary")
        self.summary.setWordWrap(True)
        self.reuse = QRadioButton(self.tr("Reuse it as it is: skip the installer, then set up PATH, the env and "
                                          "the GPU check"))
        self.reuse.setObjectName("existing_reuse")
        self.update = QRadioButton(self.tr("Update it: run the installer over it (envs are kept)"))
        self.update.setObjectName("existing_update")
        self.repair = QRadioButton(self.tr("Repair it"))
        self.repair.setObjectName("existing_repair")
        self.group = QButtonGroup(self)
        for b in (self.reuse, self.update, self.repair):
            self.group.addButton(b)
            b.toggled.connect(self._on_choice)
        self.uninstall_button = QPushButton(self.tr("Uninstall it…"))
        self.uninstall_button.setObjectName("existing_uninstall")
        self.uninstall_button.clicked.connect(self.start_uninstall)
        self.other_button = QPushButton(self.tr("Choose another folder"))
        self.other_button.setObjectName("existing_other")
        self.other_button.clicked.connect(self.another_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(self.other_button)
        buttons.addWidget(self.uninstall_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for w in (self.summary, self.reuse, self.update, self.repair):
            lay.addWidget(w)
        lay.addLayout(buttons)
        self.hide()

    def refresh(self) -> None:
        """Look at ``plan.resolved_prefix`` again; show the choices that fit what is there."""
        prefix = self.plan.resolved_prefix
        if self.plan.update_existing and self.plan.if_exists not in ("fail", "update"):
            self.plan.if_exists = "update"  # the page's "update" checkbox was ticked
        if not existing.occupied(prefix):
            self.hide()
            if self.update_check is not None:
                self.update_check.show()
            return
        if self.update_check is not None:  # the choices below replace the page's own "update" box
            self.update_check.hide()
        os_name = self.plan.platform.os
        ours = existing.made_by_us(prefix)
        why = existing.incomplete_reason(prefix, os_name)
        conda = installer.conda_executable(prefix, os_name).exists()
        version = existing.conda_version_of(prefix)
        if why is not None:
            text = self.tr("{prefix} holds an incomplete installation made by this wizard ({why}).")
        elif conda:
            text = (self.tr("{prefix} already holds conda {version}") if version else
                    self.tr("{prefix} already holds a conda installation")) + (
                self.tr(", installed by this wizard.") if ours else self.tr("."))
        else:
            text = self.tr("{prefix} is not empty and holds no conda installation.")
        self.summary.setText(text.format(prefix=prefix, why=why, version=version or ""))
        self.repair.setText(self.tr("Repair it: remove the incomplete installation and install again")
                            if why is not None else self.tr("Repair it: run the installer over it (envs are kept)"))
        self.reuse.setVisible(conda and why is None)
        self.update.setVisible(conda and why is None and not ours)
        self.repair.setVisible(ours and (conda or why is not None))
        self.uninstall_button.setVisible(ours and manifest.load(prefix) is not None)
        mode = existing.mode(self.plan)
        for button, value in ((self.reuse, "reuse"), (self.update, "update"), (self.repair, "repair")):
            button.blockSignals(True)
            button.setChecked(button.isVisible() and mode == value)
            button.blockSignals(False)
        self.show()

    @Slot(bool)
    def _on_choice(self, on: bool) -> None:
        if not on:
            return
        value = "reuse" if self.reuse.isChecked() else "update" if self.update.isChecked() else "repair"
        self.plan.if_exists = value
        self.plan.update_existing = value == "update"
        if self.update_check is not None:  # the page copies its checkbox into plan.update_existing
            self.update_check.blockSignals(True)
            self.update_check.setChecked(value == "update")
            self.update_check.blockSignals(False)
        self.changed.emit()

    # ---- uninstall ------------------------------------------------------------------------------
    def start_uninstall(self) -> None:
        """Confirm, then run :func:`app.core.uninstall.run` in a worker."""
        from app.core import uninstall  # noqa: PLC0415
        from app.gui.worker import EngineWorker  # noqa: PLC0415

        prefix, os_name = self.plan.resolved_prefix, self.plan.platform.os
        if self.worker is not None or not confirm_uninstall(self, prefix, os_name):
            return
        self.uninstall_button.setEnabled(False)
        self.worker = EngineWorker(lambda r, c: uninstall.run(prefix, r, os_name=os_name), name="uninstall")
        self.worker.finished.connect(self._uninstall_finished)
        self.worker.failed.connect(self._uninstall_failed)
        self.worker.start()

    def _drop_worker(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.teardown()

    @Slot(object)
    def _uninstall_finished(self, result) -> None:
        self._drop_worker()
        self.uninstall_button.setEnabled(True)
        self.plan.if_exists, self.plan.update_existing = "fail", False
        message = self.tr("Uninstalled {prefix}.").format(prefix=result.prefix)
        self.uninstalled.emit(message)
        self.refresh()
        self.changed.emit()

    @Slot(object)
    def _uninstall_failed(self, error) -> None:
        self._drop_worker()
        self.uninstall_button.setEnabled(True)
        text = f"{error.message}\n\n{error.fix}" if isinstance(error, WizardError) else str(error)
        QMessageBox.warning(self, self.tr("Uninstall"), text)
        self.refresh()
        self.changed.emit()



class UninstallRunner(QObject):
    """Runs :func:`app.core.uninstall.run` in a worker with a busy dialog, then shows the result
    (``--uninstall`` without ``--silent``). :meth:`exec` returns 0, or 14 when something was kept."""

    def __init__(self, prefix: Path, os_name: str) -> None:
        super().__init__()
        self.prefix, self.os_name = prefix, os_name
        self.code = 0
        self.loop = QEventLoop()
        self.worker = None

    def exec(self) -> int:
        from app.core import uninstall  # noqa: PLC0415
        from app.gui.worker import EngineWorker  # noqa: PLC0415

        busy = QProgressDialog(self.tr("Uninstalling {prefix}…").format(prefix=self.prefix), "", 0, 0)
        busy.setCancelButton(None)
        busy.setWindowTitle(self.tr("Uninstall"))
        busy.show()
        prefix, os_name = self.prefix, self.os_name
        self.worker = EngineWorker(lambda r, c: uninstall.run(prefix, r, os_name=os_name), name="uninstall")
        self.worker.finished.connect(self._finished)
        self.worker.failed.connect(self._failed)
        self.worker.start()
        self.loop.exec()
        busy.close()
        self.worker.teardown()
        if self.code == 0:
            QMessageBox.information(None, self.tr("Uninstall"), self.tr(
                "Uninstalled {prefix}: every change the wizard made for it is reversed. Open a new terminal to use "
                "the restored settings.").format(prefix=prefix))
        return self.code

    @Slot(object)
    def _finished(self, _result) -> None:
        self.loop.quit()

    @Slot(object)
    def _failed(self, error) -> None:
        self.code = getattr(error, "exit_code", 1)
        text = f"{error.message}\n\n{error.fix}" if isinstance(error, WizardError) else str(error)
        self.loop.quit()
        QMessageBox.warning(None, self.tr("Uninstall"), text)
