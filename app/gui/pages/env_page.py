"""Step 5 page: create the conda env for LLM work (preset, name, Python, packages, channels, ToS)."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from app.core import conda_env, installer, pipeline, presets
from app.core.errors import Stage
from app.core.events import Progress
from app.core.plan import channels_use_defaults
from app.gui.pages.base import WorkPage
from app.gui.widgets.log_view import LogViewWidget
from app.gui.widgets.progress_panel import ProgressPanelWidget
from app.gui.widgets.status_label import StatusLabelWidget

TOS_URL = "https://www.anaconda.com/legal/terms/terms-of-service"
PYTHON_VERSIONS = ("3.10", "3.11", "3.12", "3.13")
_CUSTOM = "custom"


def split_words(text: str) -> tuple[str, ...]:
    """``"pytorch  transformers, numpy"`` -> ``("pytorch", "transformers", "numpy")``."""
    return tuple(w for w in re.split(r"[,\s]+", text.strip()) if w)


class EnvPage(WorkPage):
    """The env's settings and a Create button that runs ``conda create`` in a worker.

    Writes ``plan.create_env``, ``env_name``, ``env_python``, ``packages``, ``channels``,
    ``accept_tos``, ``gpu_check`` and ``if_env_exists``; the :class:`~app.core.conda_env.EnvResult`
    goes to ``state.env``. Next is enabled once the env exists, or at once when no env is wanted.

    An env of that name that already exists is never replaced unasked: the status line says so,
    and Create asks (:meth:`ask_env_exists`) whether to use it, replace it, or choose another
    name, unless ``plan.if_env_exists`` already says (``--if-env-exists``). The answer holds for
    that name only.
    """

    def __init__(self, plan, state, log=None, parent=None):
        super().__init__(plan, state, log, parent)
        self._envs_dirs: tuple[Path, list[Path]] | None = None  # (root prefix, conda's envs_dirs)
        self.setTitle(self.tr("Create a conda env for LLM work"))
        self.setSubTitle(self.tr("An env keeps the packages for your projects apart from Miniconda itself. "
                                 "The preset installs PyTorch and Hugging Face Transformers."))

        self.group = QGroupBox(self.tr("Create an env"))
        self.group.setObjectName("env_group")
        self.group.setCheckable(True)
        self.group.setChecked(plan.create_env)

        self.preset_combo = QComboBox()
        self.preset_combo.setObjectName("preset_combo")
        # The presets are data (resources/presets.toml); "auto" chooses from the machine (app.core.presets).
        self.preset_combo.addItem(self.tr("auto: chosen from this machine"), presets.AUTO)
        for name, preset in presets.load().items():
            self.preset_combo.addItem(f"{name}: {preset.title}", name)
        self._if_exists_given = plan.if_env_exists  # from flags or the answer file
        self._answered_name: str | None = None  # the env name the user's answer is about
        self.name_edit = QLineEdit(plan.env_name)
        self.name_edit.setObjectName("env_name_edit")
        self.python_combo = QComboBox()
        self.python_combo.setEditable(True)
        self.python_combo.addItems(list(PYTHON_VERSIONS))
        self.python_combo.setCurrentText(plan.env_python)
        self.packages_edit = QLineEdit(" ".join(plan.packages))
        self.packages_edit.setObjectName("packages_edit")
        self.packages_edit.setPlaceholderText(self.tr("space-separated, e.g. pytorch transformers numpy>=1.26"))
        self.channels_combo = QComboBox()
        self.channels_combo.setObjectName("channels_combo")
        self.channels_combo.setEditable(True)
        self.channels_combo.addItem(self.tr("defaults (Anaconda)"), "")
        self.channels_combo.addItem("conda-forge", "conda-forge")
        self.channels_combo.setToolTip(self.tr("Channel names or URLs, separated by spaces. When given, they "
                                               "replace the channels in Miniconda's .condarc; add \u201cdefaults\u201d "
                                               "to keep Anaconda's."))
        self._set_channels_text(plan.channels)

        self.tos_check = QCheckBox(self.tr("I accept the Anaconda Terms of Service for the defaults channels"))
        self.tos_check.setObjectName("tos_check")
        self.tos_check.setChecked(plan.accept_tos)
        self.tos_link = QLabel(f'<a href="{TOS_URL}">{self.tr("Read the Terms of Service")}</a>')
        self.tos_link.setOpenExternalLinks(True)
        tos_row = QHBoxLayout()
        tos_row.addWidget(self.tos_check)
        tos_row.addWidget(self.tos_link)
        tos_row.addStretch(1)
        tos_box = QVBoxLayout()
        tos_box.setSpacing(2)
        tos_box.addLayout(tos_row)
        self.tos_note = QLabel(self.tr("Free for individuals and small organisations; larger ones need a licence."))
        self.tos_note.setToolTip(self.tr("Only needed when the env uses Anaconda's defaults channels; "
                                         "with conda-forge alone no ToS applies."))
        self.tos_note.setIndent(22)
        tos_box.addWidget(self.tos_note)

        self.gpu_check = QCheckBox(self.tr("Then check the GPU with a short training run ({steps} steps)").format(
            steps=plan.gpu_steps))
        self.gpu_check.setObjectName("gpu_check_box")
        self.gpu_check.setChecked(plan.gpu_check)

        form = QFormLayout(self.group)
        form.addRow(self.tr("Preset:"), self.preset_combo)
        form.addRow(self.tr("Env name:"), self.name_edit)
        form.addRow(self.tr("Python:"), self.python_combo)
        form.addRow(self.tr("Packages:"), self.packages_edit)
        form.addRow(self.tr("Channels:"), self.channels_combo)
        form.addRow("", tos_box)
        form.addRow("", self.gpu_check)

        self.check_status = StatusLabelWidget()
        self.check_status.setObjectName("env_status")
        self.create_button = QPushButton(self.tr("C&reate env"))
        self.create_button.setObjectName("create_button")
        self.create_button.clicked.connect(self.start_create)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel_worker)
        self.cancel_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_status, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.create_button)
        self.progress = ProgressPanelWidget()
        self.log_view = LogViewWidget()
        self.log_view.setMinimumHeight(90)
        self.result = StatusLabelWidget()
        self.result.setObjectName("env_result")

        lay = QVBoxLayout(self)
        lay.addWidget(self.group)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.log_view, 1)
        lay.addWidget(self.result)
        self.progress.reset(self.tr("Not started."))

        self._select_preset_for_plan()
        self.preset_combo.currentIndexChanged.connect(self._preset_chosen)
        for signal in (self.name_edit.textChanged, self.python_combo.currentTextChanged,
                       self.packages_edit.textChanged, self.channels_combo.currentTextChanged):
            signal.connect(self.refresh)
        self.group.toggled.connect(self.refresh)
        self.tos_check.toggled.connect(self.refresh)
        self.gpu_check.toggled.connect(self.refresh)

    # ---- inputs ---------------------------------------------------------------------------------
    def _set_channels_text(self, channels: tuple[str, ...]) -> None:
        idx = self.channels_combo.findData(" ".join(channels))
        if idx >= 0:
            self.channels_combo.setCurrentIndex(idx)
        else:
            self.channels_combo.setEditText(" ".join(channels))

    def channels(self) -> tuple[str, ...]:
        text = self.channels_combo.currentText()
        idx = self.channels_combo.findText(text)
        if idx >= 0 and self.channels_combo.itemData(idx) is not None:
            return split_words(self.channels_combo.itemData(idx))
        return split_words(text)

    def _select_preset_for_plan(self) -> None:
        idx = self.preset_combo.findData(self.plan.preset or presets.AUTO)
        self.preset_combo.setCurrentIndex(idx if idx >= 0 else self.preset_combo.findData(_CUSTOM))

    def _preset_chosen(self) -> None:
        self.refresh()

    def needs_tos(self) -> bool:
        return channels_use_defaults(self.channels())

    def write_plan(self) -> None:
        """Copy the inputs into the plan."""
        p = self.plan
        p.create_env = self.group.isChecked()
        p.preset = self.preset_combo.currentData() or presets.AUTO
        p.env_name = self.name_edit.text().strip()
        p.env_python = self.python_combo.currentText().strip()
        p.packages = split_words(self.packages_edit.text())
        p.channels = self.channels()
        p.accept_tos = self.tos_check.isChecked()
        p.gpu_check = self.gpu_check.isChecked() and p.create_env
        if self._answered_name is not None and p.env_name != self._answered_name:
            self._answered_name = None  # the answer was about another env
            p.if_env_exists = self._if_exists_given

    def root_prefix(self) -> Path:
        """The Miniconda installation the env goes into (the installed one, else the planned one)."""
        if self.state.install is not None:
            return Path(self.state.install.prefix)
        return self.plan.resolved_prefix

    def existing_env(self) -> Path | None:
        """The folder of an env with the planned name that already exists, else ``None``."""
        if not self.plan.create_env or not self.plan.env_name or self.plan.prefix is None:
            return None
        root, os_name = self.root_prefix(), self.plan.platform.os
        # conda's envs_dirs are asked once per root prefix (`conda info --json`, about a second with real
        # conda), not on every keystroke in the name field.
        if self._envs_dirs is None or self._envs_dirs[0] != root:
            exe = installer.conda_executable(root, os_name)
            self._envs_dirs = (root, conda_env.envs_dirs(root, os_name, exe if exe.exists() else None))
        locations = conda_env.env_locations(root, self.plan.env_name, os_name, dirs=self._envs_dirs[1])
        return conda_env.existing_env(root, self.plan.env_name, os_name, locations=locations)

    def problems(self) -> list[str]:
        """What stops Create, each a sentence naming the fix (empty when Create may run)."""
        self.write_plan()
        if not self.plan.create_env:
            return []
        out = [m for m in self.plan.problems()
               if any(k in m for k in ("env name", "Python version", "package", "GPU check"))]
        if self.needs_tos() and not self.plan.accept_tos:
            out.append(self.tr("Tick the Terms of Service box: conda uses Anaconda's defaults channels."))
        return out

    def refresh(self) -> None:
        """Validate the inputs live and enable Create / Next accordingly."""
        problems = self.problems()
        created = self.state.env is not None
        tos = self.needs_tos()
        self.tos_check.setEnabled(tos and not created and not self.is_busy())
        self.tos_note.setVisible(tos)
        if not self.plan.create_env:
            self.check_status.show_text("info", self.tr("No env will be created; you can make one later with "
                                                        "\u201cconda create\u201d."))
        elif problems:
            self.check_status.show_text("error", "\n".join(problems))
        elif created:
            self.check_status.clear_status()
        elif (existing := self.existing_env()) is not None:
            name, how = self.plan.env_name, self.plan.if_env_exists
            if how == "reuse":
                self.check_status.show_text("ok", self.tr("The env {name} already exists in {path}; it will be used "
                                                          "as it is.").format(name=name, path=existing))
            elif how == "replace":
                self.check_status.show_text("warning", self.tr("The env {name} in {path} will be replaced: "
                                                               "everything in it is deleted.").format(
                    name=name, path=existing))
            else:
                self.check_status.show_text("warning", self.tr("An env named {name} already exists in {path}.").format(
                    name=name, path=existing), self.tr("Create asks whether to use it, replace it, or choose "
                                                       "another name."))
        else:
            self.check_status.show_text("ok", self.tr("Ready: conda create -n {name} python={python} {packages}").format(
                name=self.plan.env_name, python=self.plan.env_python, packages=" ".join(self.plan.packages)))
        self.create_button.setEnabled(self.plan.create_env and not problems and not created and not self.is_busy())
        self.completeChanged.emit()

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for w in (self.group, self.preset_combo, self.name_edit, self.python_combo, self.packages_edit,
                  self.channels_combo):
            w.setEnabled(enabled)
        self.gpu_check.setEnabled(True if self.state.env is not None else enabled)

    # ---- wizard hooks ---------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt API
        self.gpu_check.setText(self.tr("Then check the GPU with a short training run ({steps} steps)").format(
            steps=self.plan.gpu_steps))
        self._set_inputs_enabled(not self.is_busy() and self.state.env is None)
        self.refresh()

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        if self.is_busy():
            return False
        if not self.group.isChecked():
            return True
        return self.state.env is not None

    def validatePage(self) -> bool:  # noqa: N802 - Qt API
        self.write_plan()
        if self.state.env is not None:
            self.plan.env_name = self.state.env.name
        return self.isComplete()

    # ---- work -----------------------------------------------------------------------------------
    def start_create(self) -> None:
        """Run the env step (``conda create``) in a worker (the button's action)."""
        if self.is_busy() or self.state.env is not None or self.problems():
            return
        existing = self.existing_env()
        if existing is not None and self.plan.if_env_exists not in ("reuse", "replace"):
            answer = self.ask_env_exists(existing)
            if answer is None:  # choose another name
                self.name_edit.setFocus()
                self.name_edit.selectAll()
                return
            self.plan.if_env_exists = answer
            self._answered_name = self.plan.env_name
            self.refresh()
        plan, state = self.plan, self.state
        self.log_view.clear()
        self.result.clear_status()
        self.progress.set_busy(True)
        self.progress.detail.setText(self.tr("conda is solving and downloading packages; this takes a few minutes…"))
        self._set_inputs_enabled(False)
        self.name_edit.deselect()  # a selection from "Choose another name" must not stay on the locked field
        self.create_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.tos_check.setEnabled(False)
        self.start_worker(lambda r, c: pipeline.run_step(Stage.ENV, plan, state, r, c), name="env")

    def ask_env_exists(self, existing: Path) -> str | None:
        """Ask what to do with the env that exists: ``"reuse"``, ``"replace"``, or ``None`` (another name).

        Choosing another name is the default (Return) and what Esc or closing the box does.
        """
        box = QMessageBox(self)
        box.setObjectName("env_exists_box")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("The env already exists"))
        box.setText(self.tr("An env named {name} already exists in {path}.").format(
            name=self.plan.env_name, path=existing))
        box.setInformativeText(self.tr("Use it as it is, replace it (everything in it is deleted), or choose "
                                       "another name for the new env?"))
        reuse = box.addButton(self.tr("&Use it"), QMessageBox.ButtonRole.AcceptRole)
        reuse.setObjectName("reuse_button")
        replace = box.addButton(self.tr("&Replace it"), QMessageBox.ButtonRole.DestructiveRole)
        replace.setObjectName("replace_button")
        rename = box.addButton(self.tr("&Choose another name"), QMessageBox.ButtonRole.RejectRole)
        rename.setObjectName("rename_button")
        box.setDefaultButton(rename)
        box.setEscapeButton(rename)
        box.exec()
        clicked = box.clickedButton()
        box.deleteLater()
        if clicked is reuse:
            return "reuse"
        if clicked is replace:
            return "replace"
        return None

    def handle_progress(self, p: Progress) -> None:
        self.progress.set_busy(True)
        if p.text:
            self.progress.detail.setText(p.text)

    def handle_log(self, line: str, level: str) -> None:
        self.log_view.append_line(line, level)

    def _after(self) -> None:
        self.cancel_button.setEnabled(False)
        self._set_inputs_enabled(self.state.env is None)
        self.refresh()

    def handle_finished(self, result) -> None:
        env = self.state.env
        self.progress.set_done(self.tr("Done."))
        self.result.show_text("ok", self.tr("Created the env {name} in {prefix}").format(name=env.name, prefix=env.prefix))
        self._after()

    def handle_failed(self, error) -> None:
        self.progress.reset(self.tr("conda create failed."))
        self.result.show_error(error)
        self._after()

    def handle_cancelled(self) -> None:
        self.progress.reset(self.tr("Cancelled."))
        self.result.show_text("warning", self.tr("Cancelled. Press Create env to try again."))
        self._after()
