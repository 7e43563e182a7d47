"""Step 4 page: PATH options (``conda init`` for bash/zsh/fish, or Windows PATH / default Python /
PowerShell / cmd), and the proof, per shell, that conda works in a new terminal."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QGridLayout, QGroupBox, QLabel, QVBoxLayout

from app.core import pipeline, shells
from app.core.errors import Stage
from app.core.rc_block import rc_file_label
from app.gui.pages.base import WorkPage
from app.gui.widgets.status_label import StatusLabelWidget


class PathPage(WorkPage):
    """Choices are applied when the user leaves the page (Next), on a worker: on Windows the
    step asks the new Python for its version and writes the registry, which must not freeze
    the window. :meth:`validatePage` starts the worker and returns False; when it finishes
    the page moves on by itself. Choices already applied are not applied again.

    Writes ``plan.init_shells`` (bash/zsh/fish on Linux/macOS, powershell/cmd on Windows) and
    ``plan.add_to_path`` / ``plan.register_python`` (Windows); the changes go to ``state.shell_changes``
    and are listed on this page and the finish page. Next to each shell, ``state.shell_proofs`` says
    whether ``<shell> -ic 'type conda'`` found conda afterwards (:mod:`app.core.shell_verify`); when a
    proof failed the page stays, so that the user reads why, and Next then goes on. A failure keeps
    the user here with the error and its fix.
    """

    def __init__(self, plan, state, log=None, parent=None):
        super().__init__(plan, state, log, parent)
        self._applied: tuple | None = None
        self.setTitle(self.tr("Make conda available in new terminals"))
        self.windows = plan.platform.os == "Windows"
        self.shell_checks: dict[str, QCheckBox] = {}
        self.proof_labels: dict[str, QLabel] = {}
        lay = QVBoxLayout(self)
        if self.windows:
            self.setSubTitle(self.tr("Both options are off by default, as in the official installer. Without them, "
                                     "use \u201cAnaconda Prompt (miniconda3)\u201d from the Start menu."))
            self.path_check = QCheckBox(self.tr("Add Miniconda to my &PATH environment variable"))
            self.path_check.setChecked(plan.add_to_path)
            path_note = QLabel(self.tr("Not recommended by Anaconda: programs that come earlier or later on PATH "
                                       "can pick up the wrong Python or DLLs. Only your user PATH is changed, "
                                       "and the old value is saved."))
            self.python_check = QCheckBox(self.tr("&Register Miniconda as my default Python"))
            self.python_check.setChecked(plan.register_python)
            python_note = QLabel(self.tr("Editors such as VS Code and PyCharm, and the py launcher, will find this "
                                         "Python first. Leave it off if another Python is your default."))
            for note in (path_note, python_note):
                note.setWordWrap(True)
                note.setIndent(24)
            box = QGroupBox(self.tr("Options"))
            b = QVBoxLayout(box)
            b.addWidget(self.path_check)
            b.addWidget(path_note)
            b.addSpacing(8)
            b.addWidget(self.python_check)
            b.addWidget(python_note)
            lay.addWidget(box)
            # PowerShell (the Windows 11 terminal's default) and cmd.exe are explicit choices; auto ticks
            # PowerShell when it is installed, never cmd (its AutoRun runs in every cmd.exe, scripts too).
            choice = shells.resolve(plan.init_shells, plan.platform.os, plan.resolved_prefix)
            terms = QGroupBox(self.tr("Make \u201cconda activate\u201d work in"))
            t = QVBoxLayout(terms)
            labels = {"powershell": self.tr("&PowerShell  (conda init powershell: adds a block to your profile)"),
                      "cmd": self.tr("&Command Prompt  (conda init cmd.exe: sets the AutoRun value, which runs "
                                     "in every cmd.exe)")}
            for shell in shells.WINDOWS_SHELLS:
                check = QCheckBox(labels[shell])
                check.setObjectName(f"shell_{shell}")
                check.setChecked(shell in choice.shells)
                self.shell_checks[shell] = check
                t.addWidget(check)
            lay.addWidget(terms)
        else:
            self.setSubTitle(self.tr("\u201cconda init\u201d adds a short block to a shell's start-up file so that "
                                     "\u201cconda activate\u201d works in every new terminal. The file is backed up "
                                     "first, and nothing else in it changes."))
            box = QGroupBox(self.tr("Run \u201cconda init\u201d for"))
            b = QVBoxLayout(box)
            # The engine decides which file each shell uses on the plan's OS (~/.bash_profile on macOS,
            # $ZDOTDIR/.zshrc) and which shells this user has (plan.init_shells is "auto" by default).
            choice = shells.resolve(plan.init_shells, plan.platform.os, plan.resolved_prefix)
            reasons = dict(choice.chosen)
            grid = QGridLayout()
            grid.setColumnStretch(1, 1)
            for row, shell in enumerate(shells.UNIX_SHELLS):
                rc = rc_file_label(shell, plan.platform.os)
                check = QCheckBox(self.tr("{shell}  (edits {file})").format(shell=shell, file=rc))
                check.setObjectName(f"shell_{shell}")
                check.setChecked(shell in reasons)
                if choice.auto and shell in reasons:
                    check.setToolTip(self.tr("Ticked because {reason}.").format(reason=reasons[shell]))
                self.shell_checks[shell] = check
                proof = QLabel()
                proof.setObjectName(f"proof_{shell}")
                proof.setWordWrap(True)
                self.proof_labels[shell] = proof
                grid.addWidget(check, row, 0)
                grid.addWidget(proof, row, 1)
            b.addLayout(grid)
            self.unsupported_label = QLabel("\n".join(message for _shell, message in choice.unsupported))
            self.unsupported_label.setObjectName("unsupported_shells")
            self.unsupported_label.setWordWrap(True)
            self.unsupported_label.setVisible(bool(choice.unsupported))
            b.addWidget(self.unsupported_label)
            conda = plan.resolved_prefix / "bin" / "conda"
            note = QLabel(self.tr("With no shell ticked nothing is changed; you can run "
                                  "\u201c{conda} init bash\u201d later yourself.").format(conda=conda))
            note.setWordWrap(True)
            b.addWidget(note)
            lay.addWidget(box)
        self.changes_label = QLabel()
        self.changes_label.setObjectName("changes_label")
        self.changes_label.setWordWrap(True)
        self.status = StatusLabelWidget()
        self.status.setObjectName("path_status")
        lay.addWidget(self.changes_label)
        lay.addWidget(self.status)
        lay.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 - Qt API
        self._show_changes()

    def write_plan(self) -> None:
        """Copy the check boxes into the plan."""
        if self.windows:
            self.plan.add_to_path = self.path_check.isChecked()
            self.plan.register_python = self.python_check.isChecked()
        self.plan.init_shells = tuple(s for s, c in self.shell_checks.items() if c.isChecked())

    def _choices(self) -> tuple:
        prefix = self.state.install.prefix if self.state.install else self.plan.resolved_prefix
        return (self.plan.init_shells, self.plan.add_to_path, self.plan.register_python, str(prefix))

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        return not self.is_busy() and super().isComplete()

    def validatePage(self) -> bool:  # noqa: N802 - Qt API
        """True once the current choices are applied; otherwise start applying them and return False."""
        self.write_plan()
        if self._applied == self._choices():
            return True
        if not self.is_busy():
            self.status.clear_status()
            plan, state = self.plan, self.state
            self.start_worker(lambda r, c: pipeline.run_step(Stage.SHELL, plan, state, r, c), name="shell")
        return False

    def handle_finished(self, result: object) -> None:
        self._applied = self._choices()
        self._show_changes()
        if any(p.status == "failed" for p in self.state.shell_proofs):
            return  # stay: the user reads which shell does not find conda and why; Next goes on
        wizard = self.wizard()
        if wizard is not None and wizard.currentPage() is self:
            wizard.next()

    def handle_failed(self, error) -> None:
        self.status.show_error(error)

    def _show_proofs(self) -> None:
        """The result of each shell's ``type conda`` next to its check box (see :mod:`app.core.shell_verify`)."""
        proofs = {p.shell: p for p in self.state.shell_proofs}
        for shell, label in self.proof_labels.items():
            p = proofs.get(shell)
            if p is None:
                label.setText("")
                label.setToolTip("")
                continue
            text = {"works": self.tr("\u2714 conda works in a new terminal"),
                    "failed": self.tr("\u2718 conda does not work in a new terminal"),
                    "missing": self.tr("\u2013 {shell} is not installed: not checked").format(shell=shell),
                    "skipped": self.tr("\u2013 not set up")}[p.status]
            color = {"works": "#1a7f37", "failed": "#c0262d"}.get(p.status, "")
            label.setStyleSheet(f"color: {color}" if color else "")
            label.setText(text + (f"\n{p.detail}" if p.status == "failed" else ""))
            label.setToolTip(" ".join(p.command) + (f"\n{p.detail}" if p.detail else ""))

    def _show_changes(self) -> None:
        self._show_proofs()
        changes = self.state.shell_changes
        if not changes:
            self.changes_label.setText("")
            return
        lines = [self.tr("Last applied:")] + [f"\u2022 {c.describe()}" for c in changes]
        self.changes_label.setText("\n".join(lines))
