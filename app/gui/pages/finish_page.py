"""Last page: what was done, where the log is, what to type next (copyable), and "Save these choices for
silent install": the TOML answer file that ``--config`` reads, for other machines (:mod:`app.core.answer_file`)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout

from app.core.errors import Stage, UsageError
from app.gui.pages.base import WorkPage
from app.gui.widgets.status_label import StatusLabelWidget


class FinishPage(WorkPage):
    """A read-only summary built from ``state`` (installer, conda, shell changes, env, GPU verdict),
    the log file path (``plan.log_file``) and the next commands, with a Copy button."""

    def __init__(self, plan, state, log=None, parent=None):
        super().__init__(plan, state, log, parent)
        self.setTitle(self.tr("Miniconda is ready"))
        self.setSubTitle(self.tr("Here is what was done. Keep the commands below for your first session."))
        self.setFinalPage(True)
        self.summary = QLabel()
        self.summary.setObjectName("finish_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log_label = QLabel()
        self.log_label.setObjectName("log_label")
        self.log_label.setWordWrap(True)
        self.log_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.next_heading = QLabel(self.tr("<b>What to do next</b>"))
        self.commands = QPlainTextEdit()
        self.commands.setObjectName("next_commands")
        self.commands.setAccessibleName(self.tr("Commands to run next"))
        self.commands.setReadOnly(True)
        self.commands.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.commands.setMaximumHeight(self.commands.fontMetrics().lineSpacing() * 6 + 12)
        self.copy_button = QPushButton(self.tr("&Copy commands"))
        self.copy_button.clicked.connect(self.copy_commands)
        copy_row = QHBoxLayout()
        copy_row.addStretch(1)
        copy_row.addWidget(self.copy_button)
        self.save_button = QPushButton(self.tr("&Save these choices for silent install\u2026"))
        self.save_button.setObjectName("save_choices")
        self.save_button.setAccessibleName(self.tr("Save these choices for silent install"))
        self.save_button.setToolTip(self.tr("Write a TOML answer file that installs other machines the same way: "
                                            "miniconda-wizard --silent --config FILE"))
        self.save_button.clicked.connect(self.choose_save_path)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.save_button)
        self.save_status = StatusLabelWidget()
        self.save_status.setObjectName("save_status")
        self.save_status.setVisible(False)

        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addSpacing(6)
        lay.addWidget(self.log_label)
        lay.addSpacing(10)
        lay.addWidget(self.next_heading)
        lay.addWidget(self.commands)
        lay.addLayout(copy_row)
        lay.addSpacing(6)
        lay.addLayout(save_row)
        lay.addWidget(self.save_status)
        lay.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 - Qt API
        self.summary.setText(self.summary_text())
        self.log_label.setText(self.tr("Log file: {path}").format(path=self.plan.log_file or self.tr("(none)")))
        self.commands.setPlainText(self.next_commands())

    # ---- text -----------------------------------------------------------------------------------
    def summary_text(self) -> str:
        s, p = self.state, self.plan
        lines = []
        if s.choice is not None:
            verified = self.tr("SHA-256 verified") if s.choice.sha256 else self.tr("not verified")
            lines.append(self.tr("Installer: {name} ({verified})").format(name=s.choice.filename, verified=verified))
        if s.install is not None:
            lines.append(self.tr("Miniconda: conda {version} in {prefix}").format(
                version=s.install.conda_version, prefix=s.install.prefix))
        changed = [c for c in s.shell_changes if c.changed]
        if changed:
            lines.append(self.tr("Shell set-up (undo with \u201cminiconda-wizard --undo-shell-changes\u201d):"))
            lines.extend(f"    {c.describe()}" for c in changed)
        elif s.shell_changes:
            lines.append(self.tr("Shell set-up: nothing needed changing."))
        else:
            lines.append(self.tr("Shell set-up: none chosen."))
        if s.env is not None:
            lines.append(self.tr("Env: {name} in {prefix}").format(name=s.env.name, prefix=s.env.prefix))
        elif not p.create_env:
            lines.append(self.tr("Env: none created."))
        if s.gpu is not None:
            lines.append(self.tr("GPU check: {verdict}").format(verdict=s.gpu.verdict_text))
        elif p.create_env and p.gpu_check and s.env is not None:
            lines.append(self.tr("GPU check: not completed."))
        return "\n".join(lines)

    def next_commands(self) -> str:
        s, p = self.state, self.plan
        prefix = s.install.prefix if s.install is not None else p.resolved_prefix
        env = s.env.name if s.env is not None else None
        lines: list[str] = []
        if p.platform.os == "Windows":  # worded for the terminals step 4 set up (PowerShell, cmd.exe)
            from app.core.windows_setup import next_steps_header  # noqa: PLC0415

            lines.extend(next_steps_header(p, s.shell_changes, prefix))
        elif p.init_shells:
            lines.append(self.tr("# Open a new terminal first (it reads the changed start-up file), then:"))
        else:
            lines.append(self.tr("# conda init was not run; in each new terminal first type:"))
            lines.append(f"source {Path(prefix) / 'bin' / 'activate'}")
        if env:
            lines.append(f"conda activate {env}")
            if _installs_torch(p):
                lines.append('python -c "import torch; print(torch.__version__, torch.cuda.is_available())"')
        else:
            lines.append("conda create -n llm python=3.11")
            lines.append("conda activate llm")
        return "\n".join(lines)

    def copy_commands(self) -> None:
        QGuiApplication.clipboard().setText(self.commands.toPlainText())

    # ---- save these choices ---------------------------------------------------------------------
    def choose_save_path(self) -> None:
        """Ask where to save the answer file (Qt asks before replacing a file), then :meth:`save_choices`."""
        dialog = QFileDialog(self, self.tr("Save these choices for silent install"),
                             str(Path.home() / "miniconda-wizard.toml"),
                             self.tr("TOML answer files (*.toml);;All files (*)"))
        dialog.setObjectName("save_choices_dialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setDefaultSuffix("toml")
        accepted = dialog.exec()
        files = dialog.selectedFiles()
        dialog.deleteLater()
        if accepted and files:
            self.save_choices(Path(files[0]), replace=True)

    def save_choices(self, path: Path, replace: bool = False) -> Path | None:
        """Write the plan's choices (:func:`app.core.answer_file.choices`) as a TOML answer file at ``path``
        with ``--write-config``'s writer (:func:`app.cli.write_config`), and say so below the button.

        Args:
            path: the file to write.
            replace: the user agreed to replace an existing ``path`` (the file dialog asked): the old file is
                kept as ``NAME.bak`` (``NAME-1.bak`` ...) first, and put back when the new one cannot be written.
                Without it an existing file is refused, as ``--write-config`` does.

        Returns:
            The backup of the replaced file, or ``None``. Errors (an invalid plan, an unwritable folder) are
            shown in red with their fix; nothing is raised.
        """
        from app.cli import write_config  # noqa: PLC0415 - the one writer, shared with --write-config
        from app.core import answer_file, file_edit  # noqa: PLC0415

        path = Path(path)
        values = answer_file.choices(self.plan)
        backup = None
        try:
            if replace and path.is_file() and not path.is_symlink():
                backup = file_edit.unique_path(str(path), ".bak")
                path.rename(backup)
            write_config(values, path)
        except UsageError as exc:
            if backup is not None and not path.exists():
                backup.rename(path)
                backup = None
            self.save_status.show_error(exc)
            return None
        except OSError as exc:
            self.save_status.show_text("error", self.tr("Cannot save the answer file {path}: {reason}").format(
                path=path, reason=exc.strerror or exc), self.tr("Choose another folder or file name."))
            return None
        lines = [self.tr("Install other machines the same way with: {command}").format(
            command=f'miniconda-wizard --silent --config "{path}"')]
        if not values:
            lines.append(self.tr("Every setting is this machine's default, so the file is empty: each machine "
                                 "uses its own defaults."))
        skipped = answer_file.skipped_answers(self.plan)
        if skipped:
            lines.append(self.tr("Not saved: your answers about what this machine already had ({keys}); add them "
                                 "to the file by hand if other machines should do the same.").format(
                keys=", ".join(skipped)))
        if backup is not None:
            lines.append(self.tr("The old file is kept as {backup}.").format(backup=backup))
        self.save_status.show_text("ok", self.tr("Saved the answer file {path}.").format(path=path), "\n".join(lines))
        if self.log is not None:
            self.log.log(Stage.PLAN, f"Saved the answer file {path} ({len(values)} settings).", "info")
        return backup


def _installs_torch(plan) -> bool:
    """Whether the env gets torch: an LLM preset (pip), or pytorch/torch among the conda packages."""
    from app.core import presets  # noqa: PLC0415

    try:
        if presets.resolve(plan, gpu=None).installs_torch:  # the same with any GPU; no probe on the GUI thread
            return True
    except Exception:  # an unknown preset or variant: the plan's problems say so elsewhere
        pass
    return any(pk.split("=")[0].split(">")[0].split("<")[0] in ("pytorch", "torch") for pk in plan.packages)
