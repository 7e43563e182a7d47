"""Last page: what was done, where the log is, and what to type next (copyable)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout

from app.gui.pages.base import WorkPage


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

        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addSpacing(6)
        lay.addWidget(self.log_label)
        lay.addSpacing(10)
        lay.addWidget(self.next_heading)
        lay.addWidget(self.commands)
        lay.addLayout(copy_row)
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


def _installs_torch(plan) -> bool:
    """Whether the env gets torch: an LLM preset (pip), or pytorch/torch among the conda packages."""
    from app.core import presets  # noqa: PLC0415

    try:
        if presets.resolve(plan, gpu=None).installs_torch:  # the same with any GPU; no probe on the GUI thread
            return True
    except Exception:  # an unknown preset or variant: the plan's problems say so elsewhere
        pass
    return any(pk.split("=")[0].split(">")[0].split("<")[0] in ("pytorch", "torch") for pk in plan.packages)
