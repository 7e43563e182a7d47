"""Step 5 page: create the conda env for LLM work.

The page shows, before anything runs and updated as the inputs change: the preset in force with the reason
(:func:`app.core.presets.resolve`), where each part downloads from (:func:`app.core.mirrors.sources`, one line
per part), the exact commands (``conda create`` / ``conda env create -f`` and each ``python -m pip install`` of
:func:`app.core.pip_install.steps`), and warnings. The GPU probe (:func:`app.core.gpu_info.detected`, which may
run ``nvidia-smi``) and the check whether a URL channel serves Terms of Service (one HTTP GET,
:func:`app.core.tos.serves_terms`) run on background threads, never on the GUI thread.
"""

from __future__ import annotations

import re
import shlex
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    QWizard,
)

from app.core import gpu_info, installer, mirrors, pipeline, presets, tos, torch_variant
from app.core.errors import Stage
from app.core.events import Progress
from app.core.lazy import lazy_module
from app.core.plan import channel_problem
from app.core.platform_info import detect as detect_platform
from app.gui.open_url import open_url
from app.gui.pages.base import WorkPage
from app.gui.widgets.log_view import LogViewWidget
from app.gui.widgets.progress_panel import ProgressPanelWidget
from app.gui.widgets.status_label import StatusLabelWidget

# yaml: imported when the page first needs them, not before the first page shows (issue 9)
conda_env, env_file, pip_install = (lazy_module(f"app.core.{n}") for n in ("conda_env", "env_file", "pip_install"))

TOS_URL = "https://www.anaconda.com/legal/terms/terms-of-service"
PYTHON_VERSIONS = ("3.10", "3.11", "3.12", "3.13")
_CUSTOM = "custom"
_ENV_FILE = "env-file"


def split_words(text: str) -> tuple[str, ...]:
    """``"pytorch  transformers, numpy"`` -> ``("pytorch", "transformers", "numpy")``."""
    return tuple(w for w in re.split(r"[,\s]+", text.strip()) if w)


class _Background(QObject):
    """Runs a function on a daemon thread and hands its result to the GUI thread as ``done(key, value)``
    (a queued signal: the receiver lives on the GUI thread). An exception becomes the value."""

    done = Signal(str, object)

    def run(self, key: str, fn: Callable[[], object]) -> None:
        def work() -> None:
            try:
                value = fn()
            except Exception as exc:  # noqa: BLE001 - handed to the page, which shows it
                value = exc
            try:
                self.done.emit(key, value)
            except RuntimeError:  # the page is gone (wizard closed): nobody is waiting
                pass

        threading.Thread(target=work, name=f"env-page-{key}", daemon=True).start()


class _Answer:
    def __init__(self, status: int) -> None:
        self.status_code = status

    def close(self) -> None:
        pass


class _KnownTerms:
    """The "session" :func:`app.core.tos.channels_with_terms` asks on the GUI thread: it answers from what the
    background checks found (``url -> True/False/None``) and notes the URLs not checked yet, so the engine's own
    rules decide which channels need the Terms of Service while no HTTP request runs on the GUI thread."""

    def __init__(self, known: dict[str, bool | None]) -> None:
        self.known = known
        self.unknown: list[str] = []

    def get(self, url: str, **_kw) -> _Answer:
        import requests  # noqa: PLC0415 - what tos.serves_terms catches

        if url in self.known:
            return _Answer(200 if self.known[url] else 404)
        self.unknown.append(url)
        raise requests.ConnectionError(f"{url} is being checked")


class EnvPage(WorkPage):
    """The env's settings, what will run, and a Create button that runs the env step in a worker.

    Writes ``plan.create_env``, ``preset``, ``torch_variant``, ``env_name``, ``env_python``, ``packages``,
    ``channels``, ``env_file``, ``accept_tos``, ``gpu_check`` and ``if_env_exists``; the
    :class:`~app.core.conda_env.EnvResult` goes to ``state.env``. In the wizard, its Next button reads
    "Create env" while an env is wanted and not made yet, is enabled while Create may run, and starts it
    (:meth:`validatePage`); the page moves on by itself when the env is made and its checks pass, and stays,
    with the error and its fix, when it fails (issue 9). With no env wanted, Next goes on at once.
    ``create_button`` (hidden in the wizard) does the same for a page shown on its own.

    An env of that name that already exists is never replaced unasked: the status line says so,
    and Create asks (:meth:`ask_env_exists`) whether to use it, replace it, or choose another
    name, unless ``plan.if_env_exists`` already says (``--if-env-exists``). The answer holds for
    that name only.
    """

    def __init__(self, plan, state, log=None, parent=None):
        super().__init__(plan, state, log, parent)
        self._envs_dirs: tuple[Path, list[Path]] | None = None  # (root prefix, conda's envs_dirs)
        self._gpu_ready = self._gpu_known()
        self._gpu_started = False
        self._terms: dict[str, bool | None] = {}  # URL/terms.json -> served? (None: could not be told)
        self._terms_asked: set[str] = set()
        self._choice: presets.PresetChoice | None = None
        self._choice_error = ""
        self._pending_gpu = False
        self._gated: list[str] = []
        self._terms_pending: list[str] = []
        self._name_before_file: tuple[str, str] | None = None  # (the name typed, the file's name) while a file is used
        self._background = _Background(self)
        self._terms_wanted: list[str] = []
        self._terms_timer = QTimer(self)
        self._terms_timer.setSingleShot(True)
        self._terms_timer.setInterval(400)
        self._terms_timer.timeout.connect(self._start_terms_checks)
        self._background.done.connect(self._background_done)
        self.setTitle(self.tr("Create a conda env for LLM work"))
        self.setSubTitle(self.tr("An env keeps the packages for your projects apart from Miniconda itself. "
                                 "The preset is chosen from this machine; you can change it."))

        self.group = QGroupBox(self.tr("Create an env"))
        self.group.setObjectName("env_group")
        self.group.setCheckable(True)
        self.group.setChecked(plan.create_env)

        self.preset_combo = QComboBox()
        self.preset_combo.setAccessibleName(self.tr("Preset"))
        self.preset_combo.setObjectName("preset_combo")
        # The presets are data (resources/presets.toml); "auto" chooses from the machine (app.core.presets).
        self.preset_combo.addItem(self.tr("auto: chosen from this machine"), presets.AUTO)
        for name, preset in presets.load().items():
            self.preset_combo.addItem(f"{name}: {preset.title}", name)
        self.preset_label = QLabel()
        self.preset_label.setObjectName("preset_reason")
        self.preset_label.setWordWrap(True)
        self.preset_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.variant_combo = QComboBox()
        self.variant_combo.setAccessibleName(self.tr("PyTorch build"))
        self.variant_combo.setObjectName("variant_combo")
        self.variant_combo.addItem(self.tr("auto: chosen from the GPU and driver"), None)
        try:
            for v in torch_variant.load().for_platform(plan.platform):
                self.variant_combo.addItem(f"{v.name}: {v.title}", v.name)
        except (OSError, ValueError):  # the plan's problems name the unreadable table
            pass
        idx = self.variant_combo.findData(plan.torch_variant) if plan.torch_variant else 0
        self.variant_combo.setCurrentIndex(max(idx, 0))
        self.variant_label = QLabel(self.tr("PyTorch build:"))

        self._if_exists_given = plan.if_env_exists  # from flags or the answer file
        self._answered_name: str | None = None  # the env name the user's answer is about
        self.name_edit = QLineEdit(plan.env_name)
        self.name_edit.setAccessibleName(self.tr("Env name"))
        self.name_edit.setObjectName("env_name_edit")
        self.python_combo = QComboBox()
        self.python_combo.setAccessibleName(self.tr("Python version"))
        self.python_combo.setObjectName("python_combo")
        self.python_combo.setEditable(True)
        self.python_combo.addItems(list(PYTHON_VERSIONS))
        self.python_combo.setCurrentText(plan.env_python)
        name_row = QHBoxLayout()
        name_row.addWidget(self.name_edit, 2)
        name_row.addSpacing(12)
        name_row.addWidget(QLabel(self.tr("Python:")))
        name_row.addSpacing(4)
        name_row.addWidget(self.python_combo, 1)
        self.packages_edit = QLineEdit(" ".join(plan.packages))
        self.packages_edit.setAccessibleName(self.tr("Packages"))
        self.packages_edit.setObjectName("packages_edit")
        self.packages_edit.setPlaceholderText(self.tr("extra conda packages, space-separated, e.g. numpy>=1.26"))
        self.channels_combo = QComboBox()
        self.channels_combo.setAccessibleName(self.tr("Channels"))
        self.channels_combo.setObjectName("channels_combo")
        self.channels_combo.setEditable(True)
        self.channels_combo.addItem(self.tr("defaults (Anaconda)"), "")
        self.channels_combo.addItem("conda-forge", "conda-forge")
        self.channels_combo.setToolTip(self.tr("Channel names or URLs, separated by spaces. When given, they "
                                               "replace the channels in Miniconda's .condarc; add \u201cdefaults\u201d "
                                               "to keep Anaconda's."))
        self._set_channels_text(plan.channels)

        self.env_file_edit = QLineEdit(str(plan.env_file) if plan.env_file else "")
        self.env_file_edit.setAccessibleName(self.tr("environment.yml file"))
        self.env_file_edit.setObjectName("env_file_edit")
        self.env_file_edit.setReadOnly(True)
        self.env_file_edit.setPlaceholderText(self.tr("none: the preset decides what is installed"))
        self.import_button = QPushButton(self.tr("&Import environment.yml\u2026"))
        self.import_button.setObjectName("import_env_file_button")
        self.import_button.clicked.connect(self.choose_env_file)
        self.clear_file_button = QPushButton(self.tr("Clear"))
        self.clear_file_button.setObjectName("clear_env_file_button")
        self.clear_file_button.clicked.connect(lambda: self.import_env_file(None))
        file_row = QHBoxLayout()
        file_row.addWidget(self.env_file_edit, 1)
        file_row.addWidget(self.import_button)
        file_row.addWidget(self.clear_file_button)
        self.env_file_status = StatusLabelWidget()
        self.env_file_status.setObjectName("env_file_status")
        self.env_file_status.setVisible(False)

        self.tos_check = QCheckBox(self.tr("I accept the Anaconda Terms of Service for the defaults channels"))
        self.tos_check.setObjectName("tos_check")
        self.tos_check.setChecked(plan.accept_tos)
        tos_text = self.tr("Read the Terms of Service")  # outside the f-string, where lupdate finds it
        self.tos_link = QLabel(f'<a href="{TOS_URL}">{tos_text}</a>')
        self.tos_link.linkActivated.connect(open_url)  # the user's environment, also from the frozen build
        tos_row = QHBoxLayout()
        tos_row.addWidget(self.tos_check)
        tos_row.addWidget(self.tos_link)
        tos_row.addStretch(1)
        self.tos_note = QLabel(self.tr("Free for individuals and small organisations; larger ones need a licence."))
        self.tos_note.setToolTip(self.tr("Only needed when the env uses Anaconda's defaults channels; "
                                         "with conda-forge alone no ToS applies."))
        self.tos_note.setIndent(22)
        self.tos_box = QWidget()
        self.tos_box.setObjectName("tos_box")
        tos_lay = QVBoxLayout(self.tos_box)
        tos_lay.setContentsMargins(0, 0, 0, 0)
        tos_lay.setSpacing(2)
        tos_lay.addLayout(tos_row)
        tos_lay.addWidget(self.tos_note)

        self.gpu_check = QCheckBox(self.tr("Then check the GPU with a short training run ({steps} steps)").format(
            steps=plan.gpu_steps))
        self.gpu_check.setObjectName("gpu_check_box")
        self.gpu_check.setChecked(plan.gpu_check)

        form = QFormLayout(self.group)
        form.setVerticalSpacing(5)
        preset_box = QVBoxLayout()
        preset_box.setSpacing(2)
        preset_box.addWidget(self.preset_combo)
        preset_box.addWidget(self.preset_label)
        form.addRow(self.tr("Preset:"), preset_box)
        form.addRow(self.variant_label, self.variant_combo)
        form.addRow(self.tr("Env name:"), name_row)
        form.addRow(self.tr("Packages:"), self.packages_edit)
        form.addRow(self.tr("Channels:"), self.channels_combo)
        file_box = QVBoxLayout()
        file_box.setSpacing(2)
        file_box.addLayout(file_row)
        file_box.addWidget(self.env_file_status)
        form.addRow(self.tr("environment.yml:"), file_box)
        form.addRow("", self.tos_box)
        form.addRow("", self.gpu_check)
        self._form = form

        self.check_status = StatusLabelWidget()
        self.check_status.setObjectName("env_status")
        self.create_button = QPushButton(self.tr("C&reate env"))
        self.create_button.setObjectName("create_button")
        self.create_button.clicked.connect(self.start_create)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel creating the env"))
        self.cancel_button.clicked.connect(self.cancel_worker)
        self.cancel_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_status, 1)
        buttons.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignTop)
        buttons.addWidget(self.create_button, 0, Qt.AlignmentFlag.AlignTop)
        self.progress = ProgressPanelWidget()

        self.plan_view = QPlainTextEdit()
        self.plan_view.setAccessibleName(self.tr("What will run"))
        self.plan_view.setObjectName("env_plan_view")
        self.plan_view.setReadOnly(True)
        self.plan_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.plan_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.log_view = LogViewWidget()
        self.log_view.setAccessibleName(self.tr("conda output"))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("env_tabs")
        self.tabs.addTab(self.plan_view, self.tr("What will run"))
        self.tabs.addTab(self.log_view, self.tr("Log"))
        self.tabs.setMinimumHeight(120)
        self.result = StatusLabelWidget()
        self.result.setObjectName("env_result")

        lay = QVBoxLayout(self)
        lay.setSpacing(4)
        lay.addWidget(self.group)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.result)
        self.progress.reset(self.tr("Not started."))
        self.progress.setVisible(False)  # shown from Create on: until then the room goes to What will run

        self._select_preset_for_plan()
        self.preset_combo.currentIndexChanged.connect(self._preset_chosen)
        for signal in (self.name_edit.textChanged, self.python_combo.currentTextChanged,
                       self.packages_edit.textChanged, self.channels_combo.currentTextChanged,
                       self.variant_combo.currentIndexChanged):
            signal.connect(self.refresh)
        self.group.toggled.connect(self.refresh)
        self.tos_check.toggled.connect(self.refresh)
        self.gpu_check.toggled.connect(self.refresh)

    # ---- background checks (GPU probe, channels' terms) ------------------------------------------
    def _gpu_known(self) -> bool:
        """Whether :func:`app.core.presets.resolve` can run without probing the GPU: asked before in this
        process, or the plan is for another machine (then the GPU is not looked at)."""
        here = detect_platform()
        if (here.os, here.arch) != (self.plan.platform.os, self.plan.platform.arch):
            return True
        return gpu_info.detected.cache_info().currsize > 0

    def _start_gpu_probe(self) -> None:
        if self._gpu_ready or self._gpu_started:
            return
        self._gpu_started = True
        platform = self.plan.platform
        self._background.run("gpu", lambda: presets.machine_gpu(platform))

    def _check_terms(self, urls: list[str]) -> None:
        """Ask, on background threads, whether these ``.../terms.json`` URLs exist, once typing has paused
        (a URL typed letter by letter is not fetched at every letter)."""
        self._terms_wanted = [u for u in urls if u not in self._terms_asked]
        if self._terms_wanted:
            self._terms_timer.start()

    def _start_terms_checks(self) -> None:
        for url in self._terms_wanted:
            if url in self._terms_asked:
                continue
            self._terms_asked.add(url)
            base = url.removesuffix("/terms.json")
            self._background.run("terms:" + url, lambda base=base: tos.serves_terms(base))
        self._terms_wanted = []

    def _background_done(self, key: str, value: object) -> None:
        if key == "gpu":
            self._gpu_ready = True
        elif key.startswith("terms:"):
            self._terms[key[len("terms:"):]] = value if isinstance(value, bool) else None
        self.refresh()

    def gpu_pending(self) -> bool:
        """True while the GPU probe runs (the page then says "Checking the GPU...")."""
        return not self._gpu_ready

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

    def choose_env_file(self) -> None:
        """Ask for an environment.yml (the Import button) and take it (:meth:`import_env_file`)."""
        start = str(Path(self.env_file_edit.text()).parent) if self.env_file_edit.text() else str(Path.home())
        dialog = QFileDialog(self, self.tr("Import environment.yml"), start,
                             self.tr("Conda environment files (*.yml *.yaml);;All files (*)"))
        dialog.setObjectName("env_file_dialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        accepted = dialog.exec()
        files = dialog.selectedFiles()
        dialog.deleteLater()
        if accepted and files:
            self.import_env_file(Path(files[0]))

    def import_env_file(self, path: Path | None) -> None:
        """Use ``path`` (``None``: no file) for ``conda env create -f``; its problems show at once, and Create
        stays off while there are any. The env name becomes the file's own ``name:`` when it has one."""
        self.env_file_edit.setText(str(path) if path else "")
        if path is not None:
            try:
                declared = env_file.declared_name(path)
            except (OSError, ValueError):
                declared = None
            before = self._name_before_file
            if declared and (before is None or self.name_edit.text() == before[1]):  # not typed over
                self._name_before_file = (before[0] if before else self.name_edit.text(), declared)
                self.name_edit.setText(declared)
            if self.preset_combo.currentData() not in (presets.AUTO, _ENV_FILE):
                self.preset_combo.setCurrentIndex(self.preset_combo.findData(presets.AUTO))  # auto: the file
        else:
            before, self._name_before_file = self._name_before_file, None
            if before is not None and self.name_edit.text() == before[1]:  # the file's name, not typed over
                self.name_edit.setText(before[0])
            if self.preset_combo.currentData() == _ENV_FILE:
                self.preset_combo.setCurrentIndex(self.preset_combo.findData(presets.AUTO))
        self.refresh()

    def env_file_path(self) -> Path | None:
        text = self.env_file_edit.text().strip()
        return Path(text) if text else None

    def write_plan(self) -> None:
        """Copy the inputs into the plan."""
        p = self.plan
        p.create_env = self.group.isChecked()
        p.preset = self.preset_combo.currentData() or presets.AUTO
        p.env_file = self.env_file_path()
        p.env_name = self.name_edit.text().strip()
        from_file = p.env_file is not None
        p.env_python = self.python_combo.currentText().strip()
        p.packages = () if from_file else split_words(self.packages_edit.text())
        p.channels = () if from_file else self.channels()
        p.accept_tos = self.tos_check.isChecked()
        p.gpu_check = self.gpu_check.isChecked() and p.create_env
        p.torch_variant = None
        if self.variant_combo.currentData() and self._preset_kind() == "llm":
            p.torch_variant = self.variant_combo.currentData()
        if self._answered_name is not None and p.env_name != self._answered_name:
            self._answered_name = None  # the answer was about another env
            p.if_env_exists = self._if_exists_given

    def _preset_kind(self) -> str | None:
        try:
            return presets.resolve(self.plan, gpu=None).preset.kind
        except (KeyError, ValueError):
            return None

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

    # ---- what will run --------------------------------------------------------------------------
    def _resolve(self) -> None:
        """Set the preset choice (``_choice``; ``_pending_gpu`` while the GPU probe runs)."""
        self._choice, self._choice_error, self._pending_gpu = None, "", False
        try:
            if self._gpu_ready:
                self._choice = presets.resolve(self.plan)
            else:
                self._choice = presets.resolve(self.plan, gpu=None)
                self._pending_gpu = self._choice.installs_torch
        except (KeyError, ValueError) as exc:  # VariantError is a ValueError; problems() names the fix
            self._choice_error = str(exc).strip("'\"")

    def _resolve_terms(self) -> None:
        """Which channels need their Terms of Service (:func:`app.core.tos.channels_with_terms`, answered from
        the background checks) and which are still being checked."""
        known = _KnownTerms(self._terms)
        try:
            self._gated = tos.channels_with_terms(self.plan, session=known)
        except (OSError, ValueError):  # an unreadable environment.yml: its problems are shown
            self._gated = []
        self._terms_pending = [u.removesuffix("/terms.json") for u in known.unknown]
        self._check_terms(known.unknown)

    def needs_tos(self) -> bool:
        """Whether the env's channels serve Terms of Service (the defaults channels, or a URL channel whose
        ``terms.json`` the background check found)."""
        return bool(self._gated)

    def source_lines(self) -> list[str]:
        """One line per part (installer, conda channels, pip, PyTorch wheels): :meth:`Sources.lines`."""
        try:
            return mirrors.sources(self.plan).lines()
        except mirrors.MirrorTableError as exc:
            return [str(exc)]

    def command_lines(self) -> list[str]:
        """The commands the env step runs, in order (``python`` is the env's own Python)."""
        p = self.plan
        if p.env_file is not None:
            out = ["conda " + shlex.join(env_file.conda_args(p))]
        else:
            out = ["conda " + shlex.join(p.conda_create_args())]
        if self._choice is not None and not self._pending_gpu:
            try:
                out += [step.text() for step in pip_install.steps(p, "python", self._choice)]
            except mirrors.MirrorTableError:
                pass
        return out

    def warning_lines(self) -> list[str]:
        return list(self._choice.warnings) if self._choice is not None and not self._pending_gpu else []

    def _show_plan(self, problems: list[str]) -> None:
        c = self._choice
        if self._choice_error:
            self.preset_label.setText(self._choice_error)
        elif c is not None and self._pending_gpu:
            row = presets.load().get("llm" if c.asked == presets.AUTO else c.asked)
            self.preset_label.setText(self.tr("<b>{title}</b><br>Checking the GPU\u2026").format(
                title=row.title if row else c.title))
        elif c is not None:
            import html  # noqa: PLC0415

            self.preset_label.setText(f"<b>{html.escape(c.title)}</b><br>{html.escape(self.gui_words(c.reason))}")
        llm = c is not None and c.preset.kind == "llm"
        self.variant_combo.setVisible(llm)
        self.variant_label.setVisible(llm)
        text = []
        if problems and not self._terms_pending:
            text += [self.tr("To fix before Create:")] + [f"  - {m}" for m in problems] + [""]
        text += [self.tr("Where each part comes from (set by the mirror chosen on the first page):")]
        text += [f"  {line}" for line in self.source_lines()]
        text += ["", self.tr("Commands that will run, in order (python = the env's own Python):")]
        text += [f"  {line}" for line in self.command_lines()]
        if self._pending_gpu:
            text.append("  " + self.tr("(the PyTorch command follows once the GPU has been checked\u2026)"))
        if (warnings := self.warning_lines()):
            text += ["", self.tr("Warnings:")] + [f"  {w}" for w in warnings]
        bar = self.plan_view.verticalScrollBar().value()
        self.plan_view.setPlainText("\n".join(text))
        self.plan_view.verticalScrollBar().setValue(bar)

    def gui_words(self, text: str) -> str:
        """The engine's reason names the command-line flags; on this page the same choices are the widgets."""
        text = re.sub(r"Chosen from the machine \(--preset ([\w.-]+)\)", r"Chosen from the machine (preset \1)", text)
        text = re.sub(r"Chosen with --preset ([\w.-]+)", r"Chosen by you (preset \1)", text)
        text = text.replace("Chosen with --preset.", self.tr("Chosen by you."))
        return text.replace("Set with --torch-variant:", self.tr("Chosen by you under PyTorch build:"))

    def _show_tos(self) -> None:
        gated = self._gated
        defaults = [c for c in gated if c.startswith("https://repo.anaconda.com/")]
        others = [c for c in gated if c not in defaults]
        if others:
            names = ([self.tr("Anaconda's defaults")] if defaults else []) + others
            self.tos_check.setText(self.tr("I accept the Terms of Service of these channels: {names}").format(
                names=", ".join(names)))
        else:
            self.tos_check.setText(self.tr("I accept the Anaconda Terms of Service for the defaults channels"))
        self.tos_box.setVisible(bool(gated))
        self.tos_link.setVisible(bool(defaults))
        self.tos_note.setVisible(bool(defaults))

    def problems(self) -> list[str]:
        """What stops Create, each a sentence naming the fix (empty when Create may run)."""
        self.write_plan()
        if not self.plan.create_env:
            return []
        p = self.plan
        out = [m for m in p.problems() if any(k in m for k in ("env name", "Python version", "package", "GPU check"))]
        out += [m for c in p.channels if (m := channel_problem(c))]
        out += presets.problems(p)
        if p.env_file is not None:
            out += env_file.problems(p.env_file, p.env_name)
        if self._terms_pending:
            out.append(self.tr("Checking whether {channels} asks for Terms of Service\u2026").format(
                channels=", ".join(self._terms_pending)))
        elif self.needs_tos() and not p.accept_tos:
            out.append(self.tr("Tick the Terms of Service box: conda uses channels with terms ({channels}).").format(
                channels=", ".join(self._gated)))
        return list(dict.fromkeys(out))

    def refresh(self) -> None:
        """Validate the inputs live, show what will run, and enable Create / Next accordingly."""
        self.write_plan()
        self._start_gpu_probe()
        self._resolve()
        self._resolve_terms()
        problems = self.problems()
        created = self.state.env is not None
        from_file = self.plan.env_file is not None
        self._show_tos()
        self._show_plan(problems)
        self.tos_check.setEnabled(not created and not self.is_busy())
        file_problems = env_file.problems(self.plan.env_file, self.plan.env_name) if from_file else []
        shown = list(problems)  # what the status line shows: the file's problems as one sentence
        if from_file:
            if file_problems:
                self.env_file_status.show_text("error", self.tr("{n} problem(s) in {file}, listed under What will "
                                                                "run.").format(n=len(file_problems),
                                                                               file=self.plan.env_file.name))
                shown = [self.tr("Create stays off until the environment.yml is fixed: fix the file, then import "
                                 "it again."), *(m for m in problems if m not in file_problems)]
            else:
                self.env_file_status.show_text("ok", self.tr("No problems found in {file}.").format(
                    file=self.plan.env_file.name))
        else:
            self.env_file_status.clear_status()
            self.env_file_status.setVisible(False)
        self.clear_file_button.setEnabled(from_file and not created and not self.is_busy())
        inputs = not created and not self.is_busy()
        for w in (self.python_combo, self.packages_edit, self.channels_combo, self.preset_combo, self.variant_combo):
            w.setEnabled(inputs and not from_file)
        pending = self._terms_pending and len(problems) == 1
        if not self.plan.create_env:
            self.check_status.show_text("info", self.tr("No env will be created; you can make one later with "
                                                        "\u201cconda create\u201d."))
        elif pending:
            self.check_status.show_text("info", problems[0])
        elif problems:
            more = self.tr("and {n} more: see What will run").format(n=len(shown) - 1) if len(shown) > 1 else ""
            self.check_status.show_text("error", shown[0], more)
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
        elif self._pending_gpu:
            self.check_status.show_text("info", self.tr("Checking the GPU\u2026"))
        elif (warnings := self.warning_lines()):
            self.check_status.show_text("warning", self.tr("Ready, with a warning (see What will run):"), warnings[0])
        else:
            self.check_status.show_text("ok", self.tr("Ready: Create runs the commands under \u201cWhat will "
                                                      "run\u201d."))
        self.create_button.setEnabled(self.plan.create_env and not problems and not created and not self.is_busy()
                                      and not self._pending_gpu)
        self._show_next_text()
        self.completeChanged.emit()

    def _show_next_text(self) -> None:
        """The wizard's Next button reads "Create env" while it would create the env (issue 9), else Next."""
        if self.plan.create_env and self.state.env is None:
            text = self.tr("C&reate env")
        else:
            wizard = self.wizard()
            text = wizard.buttonText(QWizard.WizardButton.NextButton) if wizard is not None else ""
        self.setButtonText(QWizard.WizardButton.NextButton, text)

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for w in (self.group, self.preset_combo, self.name_edit, self.python_combo, self.packages_edit,
                  self.channels_combo, self.variant_combo, self.import_button, self.clear_file_button):
            w.setEnabled(enabled)
        self.gpu_check.setEnabled(True if self.state.env is not None else enabled)

    # ---- wizard hooks ---------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt API
        self.gpu_check.setText(self.tr("Then check the GPU with a short training run ({steps} steps)").format(
            steps=self.plan.gpu_steps))
        self._start_gpu_probe()
        self.create_button.setVisible(self.wizard() is None)  # in the wizard, its own Next button reads Create env and runs it
        self._set_inputs_enabled(not self.is_busy() and self.state.env is None)
        self.refresh()

    def is_done(self) -> bool:
        """True when the page's work is over: the env exists, or no env is wanted (and no worker runs)."""
        if self.is_busy():
            return False
        if not self.group.isChecked():
            return True
        return self.state.env is not None

    def isComplete(self) -> bool:  # noqa: N802 - Qt API: the wizard's Create env / Next button is enabled
        return self.is_done() or (not self.is_busy() and self.create_button.isEnabled())

    def validatePage(self) -> bool:  # noqa: N802 - Qt API: the user pressed Create env (or Next)
        """True when done (the wizard moves on); otherwise start creating the env and return False: the page moves
        on by itself when the env is made and every check passed (:meth:`handle_finished`)."""
        self.write_plan()
        if self.state.env is not None:
            self.plan.env_name = self.state.env.name
        if self.is_done():
            return True
        self.start_create()
        return False

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
        self.progress.setVisible(True)
        self.progress.set_busy(True)
        self.progress.detail.setText(self.tr("solving: conda is reading the channels; this takes a few minutes\u2026"))
        self.tabs.setCurrentWidget(self.log_view)
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
        data = getattr(result, "data", None) or {}
        verify = data.get("verify") or {}
        lines = list(verify.get("lines") or [])
        other = list(data.get("condarc_warnings") or [])
        ok = verify.get("ok", True) and not other
        self.progress.set_done(self.tr("Done."))
        detail = "\n".join([*lines, *(self.tr("Other conda settings in force: {w}").format(w=w) for w in other)])
        head = self.tr("Created the env {name} in {prefix}").format(name=env.name, prefix=env.prefix)
        if verify:
            head += self.tr("; checked:") if verify.get("ok", True) else self.tr("; some checks failed:")
        self.result.show_text("ok" if ok else "warning", head, detail)
        self._after()
        wizard = self.wizard()
        if ok and wizard is not None and wizard.currentPage() is self:
            wizard.next()  # made and checked: on to the GPU check; with a warning the page stays to be read

    def handle_failed(self, error) -> None:
        self.progress.reset(self.tr("Creating the env failed."))
        self.result.show_error(error)
        self._after()

    def handle_cancelled(self) -> None:
        self.progress.reset(self.tr("Cancelled."))
        self.result.show_text("warning", self.tr("Cancelled. Press Create env to try again."))
        self._after()
