"""Step 1 page: choose the Miniconda installer (mirror, list of installers that run on this machine, or a local
file), with why the others are hidden, and ``--mirror auto``'s probe table."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from app.core import mirrors, pipeline
from app.core.lazy import lazy_module
from app.core.errors import Stage
from app.core.plan import MIRRORS
from app.gui.pages.base import WorkPage
from app.core.units import format_bytes
from app.gui.widgets.distribution_choice import DistributionChoiceWidget
from app.gui.widgets.proxy_status import ProxyStatusWidget
from app.gui.widgets.language_choice import LanguageChoiceWidget
from app.gui.widgets.status_label import StatusLabelWidget

# imported by the worker that reads the index first (requests, urllib3): not before the page shows (issue 9)
catalog, mirror_probe = lazy_module("app.core.catalog"), lazy_module("app.core.mirror_probe")

_ROLE_ENTRY = Qt.ItemDataRole.UserRole


def _sort_key(e: catalog.InstallerEntry):
    # latest first, then newest conda version, python version, build
    return (0 if e.is_latest else 1, tuple(-x for x in _num_tuple(e.conda_version)),
            tuple(-x for x in _num_tuple((e.python_tag or "")[2:])), e.filename)


def _num_tuple(text: str | None) -> tuple[int, ...]:
    out = []
    for part in (text or "").split("."):
        out.append(int(part) if part.isdigit() else 0)
    return tuple(out)


class PackagePage(WorkPage):
    """Mirror choice, the installers the mirror lists for this platform, or a local installer file.

    The index is read in a worker (:func:`app.core.catalog.fetch_index`), then the chosen row
    is resolved with the catalog step (:func:`app.core.catalog.resolve`, given the rows already
    read so the index is fetched once), which also decides the expected SHA-256; the result goes
    to ``state.choice``. Writes ``plan.mirror``, ``plan.installer``, ``plan.installer_file`` and
    ``plan.allow_unverified``.
    Next is enabled once a choice is resolved (and it has a SHA-256, or unverified is allowed).

    Only installers that run here are listed (:func:`app.core.catalog.screen`: this architecture, a glibc /
    macOS the machine has); a line says why the chosen one, and "Why not the others?" lists what is hidden.
    "Find the fastest" (or ``plan.mirror == "auto"``) probes every named mirror in a worker
    (:func:`app.core.mirror_probe.probe_all`), shows the answers in a table and takes the fastest that has
    the file; clicking another row (or the mirror box) overrides it.
    """

    def __init__(self, plan, state, log=None, parent=None):
        super().__init__(plan, state, log, parent)
        self.setTitle(self.tr("Choose the Miniconda installer"))
        self.setSubTitle(self.tr("The wizard reads the list of installers from a mirror and picks the newest one "
                                 "that runs on this computer. You can pick another one, or use an installer you already have."))
        self.entries: list[catalog.InstallerEntry] = []
        # every row of the index last read, and the URL it was read from (handed to catalog.resolve)
        self._index: tuple[str, list[catalog.InstallerEntry]] | None = None
        self._want_resolve = False

        self.platform_label = QLabel(f"<b>{plan.platform.describe()}</b>")
        self.platform_label.setObjectName("platform_label")

        self.mirror_combo = QComboBox()
        self.mirror_combo.setObjectName("mirror_combo")
        self.mirror_combo.setAccessibleName(self.tr("Mirror"))
        self.mirror_combo.setEditable(True)
        self.mirror_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for name, url in MIRRORS.items():
            self.mirror_combo.addItem(name, url)
            self.mirror_combo.setItemData(self.mirror_combo.count() - 1, url, Qt.ItemDataRole.ToolTipRole)
        self.mirror_combo.addItem(mirror_probe.AUTO, "")
        self.mirror_combo.setItemData(self.mirror_combo.count() - 1,
                                      self.tr("Ask every mirror at once and use the fastest that has the installer"),
                                      Qt.ItemDataRole.ToolTipRole)
        self.mirror_combo.setToolTip(self.tr("A mirror name, auto, or the URL of a folder that lists Miniconda installers."))
        self.mirror_combo.setMinimumContentsLength(28)
        self.mirror_url_label = QLabel()
        self.mirror_url_label.setObjectName("mirror_url_label")
        self.mirror_url_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The one mirror choice applies to every download of the run (app.core.mirrors): one line per part.
        self.mirror_parts_label = QLabel()
        self.mirror_parts_label.setObjectName("mirror_parts_label")
        self.mirror_parts_label.setWordWrap(True)
        self.mirror_parts_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reload_button = QPushButton(self.tr("&Reload list"))
        self.reload_button.clicked.connect(self.load_index)
        self.probe_button = QPushButton(self.tr("Find the &fastest"))
        self.probe_button.setObjectName("probe_button")
        self.probe_button.setToolTip(self.tr("Ask every mirror for the first 64 KiB of the installer at once and "
                                             "use the fastest that has it"))
        self.probe_button.clicked.connect(self.probe_mirrors)
        mirror_row = QHBoxLayout()
        mirror_row.addWidget(self.mirror_combo, 1)
        mirror_row.addWidget(self.reload_button)
        mirror_row.addWidget(self.probe_button)
        # the probe's answers, one row per mirror (hidden until a probe ran); a click picks that mirror
        self.probe_table = QTableWidget(0, 5)
        self.probe_table.setObjectName("probe_table")
        self.probe_table.setAccessibleName(self.tr("Mirror probe results"))
        self.probe_table.setHorizontalHeaderLabels([self.tr("Mirror"), self.tr("Has the file"), self.tr("Time"),
                                                    self.tr("Speed"), self.tr("Answer")])
        self.probe_table.verticalHeader().setVisible(False)
        self.probe_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.probe_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.probe_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        ph = self.probe_table.horizontalHeader()
        for col in range(4):
            ph.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        ph.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.probe_table.setMaximumHeight(190)
        self.probe_table.setVisible(False)
        self.probe_table.cellClicked.connect(self._probe_row_clicked)
        self.probe_results: list[mirror_probe.ProbeResult] = []
        self._probing = False

        form = QFormLayout()
        self.language_choice = LanguageChoiceWidget()  # switches the wizard's language (app.i18n)
        form.addRow(self.language_choice)
        form.addRow(self.tr("This computer:"), self.platform_label)
        self.distribution_choice = DistributionChoiceWidget(plan.distribution)  # issue 7: Miniconda or Miniforge
        self.distribution_choice.changed.connect(self._distribution_changed)
        form.addRow(self.tr("Distribution:"), self.distribution_choice)
        mirror_box = QVBoxLayout()
        mirror_box.setSpacing(2)
        mirror_box.addLayout(mirror_row)
        mirror_box.addWidget(self.mirror_url_label)
        mirror_box.addWidget(self.mirror_parts_label)
        mirror_box.addWidget(self.probe_table)
        form.addRow(self.tr("Mirror:"), mirror_box)
        # the proxy in use and whether it answers; on a Chinese system, a one-click faster mirror (issue 7)
        self.proxy_status = ProxyStatusWidget(plan, log)
        self.proxy_status.use_mirror.connect(self._use_mirror)
        form.addRow(self.tr("Proxy:"), self.proxy_status)

        self.table = QTreeWidget()
        self.table.setObjectName("installer_table")
        self.table.setAccessibleName(self.tr("Installers"))
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setHeaderLabels([self.tr("Installer"), self.tr("Size"), self.tr("Date"), self.tr("SHA-256")])
        header = self.table.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.local_button = QPushButton(self.tr("Use a &local file…"))
        self.local_button.setObjectName("local_button")
        self.local_button.clicked.connect(self._choose_local)
        self.list_button = QPushButton(self.tr("Use the &list instead"))
        self.list_button.clicked.connect(self.clear_local_file)
        self.local_label = QLabel()
        self.local_label.setWordWrap(True)
        local_row = QHBoxLayout()
        local_row.addWidget(self.local_button)
        local_row.addWidget(self.list_button)
        local_row.addWidget(self.local_label, 1)

        self.status = StatusLabelWidget()
        self.status.setObjectName("package_status")
        self.unverified_check = QCheckBox(self.tr("Use this installer even though its SHA-256 cannot be checked"))
        self.unverified_check.setChecked(plan.allow_unverified)
        self.unverified_check.toggled.connect(self._unverified_toggled)

        # why this installer (the machine's glibc / macOS), and an expander with the hidden ones
        self.why_label = QLabel()
        self.why_label.setObjectName("why_label")
        self.why_label.setWordWrap(True)
        self.why_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hidden_button = QToolButton()
        self.hidden_button.setObjectName("hidden_button")
        self.hidden_button.setText(self.tr("Why not the others?"))
        self.hidden_button.setCheckable(True)
        self.hidden_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.hidden_button.setArrowType(Qt.ArrowType.RightArrow)
        self.hidden_button.toggled.connect(self._hidden_toggled)
        self.hidden_label = QLabel()
        self.hidden_label.setObjectName("hidden_label")
        self.hidden_label.setWordWrap(True)
        self.hidden_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hidden_label.setVisible(False)
        self.hidden_lines: list[str] = []

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.why_label)
        lay.addWidget(self.hidden_button)
        lay.addWidget(self.hidden_label)
        lay.addLayout(local_row)
        lay.addWidget(self.status)
        lay.addWidget(self.unverified_check)

        self._prefill_mirror()
        self.mirror_combo.activated.connect(lambda _i: self._mirror_edited())
        self.mirror_combo.lineEdit().editingFinished.connect(self._mirror_edited)
        self._update_local_widgets()
        self._update_unverified()
        self._show_hidden([])

    # ---- mirror -------------------------------------------------------------------------------
    def _prefill_mirror(self) -> None:
        name = self.plan.mirror
        idx = self.mirror_combo.findText(name.lower(), Qt.MatchFlag.MatchFixedString)
        if idx >= 0:
            self.mirror_combo.setCurrentIndex(idx)
        else:
            self.mirror_combo.setEditText(name)
        self.mirror_combo.lineEdit().deselect()
        self._show_mirror_url()

    def mirror_text(self) -> str:
        return self.mirror_combo.currentText().strip() or "official"

    def _show_mirror_url(self) -> None:
        # a named mirror shows its URL; a typed URL is already on screen
        if mirror_probe.is_auto(self.plan.mirror):
            self.mirror_url_label.setVisible(False)
            self.mirror_parts_label.setText(self.tr("Every mirror is asked at once; the fastest that has the "
                                                    "installer is used for everything the run downloads."))
            return
        named = self.plan.mirror.lower() in MIRRORS
        self.mirror_url_label.setText(self.plan.mirror_url if named else "")
        self.mirror_url_label.setVisible(named)
        head = (self.tr("This mirror choice applies to everything the run downloads:") if mirrors.find(self.plan.mirror)
                else self.tr("A mirror URL gives only the installer; the rest of the run downloads from:"))
        self.mirror_parts_label.setText("\n".join(
            [head]
            + [f"\u2022 {line}" for line in self.mirror_parts()]))

    def mirror_parts(self) -> list[str]:
        """Where the rest of the run downloads from with this mirror, one line per part (conda channels, pip,
        PyTorch wheels; :meth:`app.core.mirrors.Sources.lines`): the mirror choice applies to all of them."""
        try:
            src = mirrors.sources(self.plan)
            return [line for (label, _t), line in zip(src.parts(), src.lines()) if label != "Installer from"]
        except mirrors.MirrorTableError as exc:
            return [str(exc)]

    def _mirror_edited(self) -> None:
        """Read the list again only for another mirror (Return on the same one goes on to Next)."""
        text = self.mirror_text()
        if mirror_probe.is_auto(text):
            self.probe_mirrors()
            return
        url = MIRRORS.get(text.lower(), text)
        if (url if url.endswith("/") else url + "/") != self.plan.mirror_url:
            self.load_index()
        elif text != self.plan.mirror:
            self.plan.mirror = text  # the same mirror, spelled differently
            self._show_mirror_url()

    # ---- index --------------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt API
        if not self.entries and not self.is_busy() and self.plan.installer_file is None:
            if mirror_probe.is_auto(self.plan.mirror):
                self.probe_mirrors()
            else:
                self.load_index()
        elif self.plan.installer_file is not None and self.state.choice is None and not self.is_busy():
            self.resolve_choice()

    @Slot(str)
    def _distribution_changed(self, name: str) -> None:
        """Another distribution: its default prefix and installer folder, then its list (issue 7)."""
        self.plan.apply({"distribution": name})
        self.plan.installer = None
        self.load_index()

    def load_index(self) -> None:
        """Read the mirror's index in a worker, then resolve the preselected installer."""
        self.plan.mirror = self.mirror_text()
        self._show_mirror_url()
        self.state.choice = None
        self.entries = []
        self._index = None
        self.table.clear()
        self.why_label.clear()
        self.why_label.setVisible(False)
        self._show_hidden([])
        self.status.show_text("info", self.tr("Reading the list of installers from {url} …").format(
            url=self.plan.mirror_url))
        self.reload_button.setEnabled(False)
        plan, state = self.plan, self.state
        self._want_resolve = False
        self._probing = False

        def fetch(reporter, cancel):
            url = plan.mirror_url
            if plan.distribution == "miniforge":  # a release folder: one asset and its .sha256 (issue 7)
                return url, catalog.release_entries(plan, state.http(), cancel)
            return url, catalog.fetch_index(url, state.http(), cancel)

        self.start_worker(fetch, name="catalog")

    def _fill_table(self, entries: list[catalog.InstallerEntry]) -> None:
        p = self.plan.platform
        screening = catalog.screen(entries, p)  # only installers that run here; the rest are explained
        mine = list(screening.runnable)
        mine.sort(key=_sort_key)
        self._show_hidden(screening.lines())
        self.entries = mine
        self.table.blockSignals(True)
        self.table.clear()
        for e in mine:
            if e.sha256:
                sha = self.tr("published")
            elif catalog.pinned_sha256(e.filename):
                sha = self.tr("pinned")
            else:
                sha = self.tr("not listed")
            item = QTreeWidgetItem([e.filename, format_bytes(e.size) if e.size else "—",
                                    e.last_modified or "—", sha])
            item.setData(0, _ROLE_ENTRY, e.filename)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if e.sha256:
                item.setToolTip(3, e.sha256)
            self.table.addTopLevelItem(item)
        self.table.blockSignals(False)
        # preselect: the plan's installer, else what catalog.choose picks (latest)
        wanted = self.plan.installer
        if wanted not in {e.filename for e in mine}:
            try:
                wanted = catalog.choose(entries, p).filename
            except Exception:  # noqa: BLE001 - no installer for this platform; shown below
                wanted = None
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            if item.data(0, _ROLE_ENTRY) == wanted:
                self.table.setCurrentItem(item)
                self.table.scrollToItem(item)
                break
        self.mirror_combo.lineEdit().deselect()
        self.table.setFocus()

    def selected_filename(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(0, _ROLE_ENTRY) if items else None

    def _selection_changed(self) -> None:
        if self.plan.installer_file is not None:
            return
        name = self.selected_filename()
        if name and (self.state.choice is None or self.state.choice.filename != name):
            self.resolve_choice()
        self.completeChanged.emit()

    def resolve_choice(self) -> None:
        """Run the catalog step for the selected row (or the local file): sets ``state.choice``."""
        if self.plan.installer_file is None:
            name = self.selected_filename()
            if not name:
                return
            self.plan.installer = name
        self.state.choice = None
        plan, state = self.plan, self.state
        state.index = self._index  # rows already read: the catalog step does not fetch them again
        self._want_resolve = True
        self._probing = False
        self.status.show_text("info", self.tr("Checking the installer and its SHA-256 …"))
        self.start_worker(lambda r, c: pipeline.run_step(Stage.CATALOG, plan, state, r, c), name="catalog")
        self._update_unverified()

    # ---- local file ---------------------------------------------------------------------------
    def _choose_local(self) -> None:
        start = str(Path(self.plan.installer_file).parent) if self.plan.installer_file else str(Path.home())
        filters = self.tr("Miniconda installers (*.sh *.pkg *.exe);;All files (*)")
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a Miniconda installer"), start, filters)
        if path:
            self.use_local_file(Path(path))

    def use_local_file(self, path: Path) -> None:
        """Use ``path`` instead of downloading (the list is ignored)."""
        self.plan.installer_file = Path(path)
        self._update_local_widgets()
        self.resolve_choice()

    def clear_local_file(self) -> None:
        self.plan.installer_file = None
        self.state.choice = None
        self._update_local_widgets()
        if self.entries:
            self.resolve_choice()
        else:
            self.load_index()
        self.completeChanged.emit()

    def _update_local_widgets(self) -> None:
        local = self.plan.installer_file is not None
        self.list_button.setVisible(local)
        self.table.setEnabled(not local)
        self.local_label.setText(self.tr("Using {path}").format(path=self.plan.installer_file) if local else "")

    # ---- unverified ---------------------------------------------------------------------------
    def _update_unverified(self) -> None:
        c = self.state.choice
        self.unverified_check.setVisible(c is not None and not c.sha256)

    def _unverified_toggled(self, on: bool) -> None:
        self.plan.allow_unverified = on
        self.completeChanged.emit()

    # ---- why / hidden installers --------------------------------------------------------------
    def _show_hidden(self, lines: list[str]) -> None:
        self.hidden_lines = list(lines)
        self.hidden_label.setText("\n".join(f"\u2022 {line}" for line in lines))
        self.hidden_button.setVisible(bool(lines))
        self.hidden_label.setVisible(bool(lines) and self.hidden_button.isChecked())

    def _hidden_toggled(self, on: bool) -> None:
        self.hidden_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.hidden_label.setVisible(on and bool(self.hidden_lines))

    # ---- mirror probe (--mirror auto) ---------------------------------------------------------
    def probe_mirrors(self) -> None:
        """Ask every named mirror for the first 64 KiB of the installer in a worker; the answers fill the
        probe table and the fastest mirror that has the file is taken (:meth:`_show_probe`)."""
        filename = mirror_probe.probe_file_name(self.plan)
        self.state.choice = None
        self.entries = []
        self._index = None
        self.table.clear()
        self.probe_table.setRowCount(0)
        self.probe_table.setVisible(False)
        self.status.show_text("info", self.tr("Asking every mirror for the first 64 KiB of {name} …").format(
            name=filename))
        self.reload_button.setEnabled(False)
        self.probe_button.setEnabled(False)
        self._want_resolve = False
        self._probing = True
        self.start_worker(lambda r, c: mirror_probe.probe_all(filename, c), name="mirror-probe")

    def _show_probe(self, results: list[mirror_probe.ProbeResult]) -> None:
        self.probe_results = list(results)
        self.probe_table.setRowCount(len(results))
        for row, r in enumerate(results):
            cells = [r.name, self.tr("yes") if r.ok else self.tr("no"),
                     f"{r.seconds:.2f} s" if r.ok and r.seconds is not None else "—",
                     f"{format_bytes(int(r.speed))}/s" if r.ok and r.speed else "—",
                     (f"HTTP {r.status}, " + self.tr("file {size}").format(size=format_bytes(r.total))
                      if r.ok and r.total else f"HTTP {r.status}") if r.ok else (r.error or "")]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(r.describe())
                self.probe_table.setItem(row, col, item)
        self.probe_table.setVisible(True)
        best = results[0] if results and results[0].ok else None
        if best is None:
            self.status.show_text("error", self.tr("No mirror answered with the installer."),
                                  self.tr("Check the network connection (or the proxy), or choose a mirror by name."))
            return
        self.probe_table.selectRow(0)
        self._use_mirror(best.name)

    def _probe_row_clicked(self, row: int, _col: int) -> None:
        """The user overrides the probe's choice: use the mirror of this row."""
        if 0 <= row < len(self.probe_results) and not self.is_busy():
            self._use_mirror(self.probe_results[row].name)

    def _use_mirror(self, name: str) -> None:
        idx = self.mirror_combo.findText(name, Qt.MatchFlag.MatchFixedString)
        if idx >= 0:
            self.mirror_combo.setCurrentIndex(idx)
        else:
            self.mirror_combo.setEditText(name)
        self.load_index()

    # ---- worker hooks -------------------------------------------------------------------------
    def handle_finished(self, result) -> None:
        self.reload_button.setEnabled(True)
        self.probe_button.setEnabled(True)
        if self._probing:
            self._probing = False
            self._show_probe(result)
            return
        if not self._want_resolve:
            self._index = result
            self._fill_table(result[1])
            if not self.entries:
                self.status.show_text("error", self.tr("The mirror lists no Miniconda installer for {platform}.").format(
                    platform=self.plan.platform.describe()),
                    self.tr("Choose another mirror, or use a local file."))
            return
        c = self.state.choice
        if c is None:
            return
        why = [n for n in c.notes if not isinstance(n, catalog.HiddenNote)]
        self.why_label.setText("\n".join(why))
        self.why_label.setVisible(bool(why))
        self._show_hidden([n for n in c.notes if isinstance(n, catalog.HiddenNote)] or self.hidden_lines)
        size = format_bytes(c.size) if c.size else self.tr("size unknown")
        if c.sha256:
            source = {"user": self.tr("given by you"), "index": self.tr("published by the mirror"),
                      "pinned": self.tr("from the wizard's pinned hash table"),
                      "official-index": self.tr("published by repo.anaconda.com"),
                      "sha256-file": self.tr("from the .sha256 file beside it"),
                      "official-sha256-file": self.tr("from the .sha256 file on GitHub Releases")}.get(c.hash_source or "", "")
            self.status.show_text("ok", self.tr("{name} ({size}). Expected SHA-256 {source}:").format(
                name=c.filename, size=size, source=source), c.sha256)
        else:
            self.status.show_text("warning", self.tr("{name} ({size}). No SHA-256 is published for it, so the "
                                                     "download cannot be verified.").format(name=c.filename, size=size),
                                  self.tr("Pick an installer whose SHA-256 is known, or tick the box below."))
        self._update_unverified()

    def handle_failed(self, error) -> None:
        self.reload_button.setEnabled(True)
        self.probe_button.setEnabled(True)
        self._probing = False
        self.status.show_error(error)
        self._update_unverified()

    def handle_cancelled(self) -> None:
        self.reload_button.setEnabled(True)
        self.probe_button.setEnabled(True)
        self._probing = False
        self.status.show_text("warning", self.tr("Stopped."))

    # ---- wizard hooks -------------------------------------------------------------------------
    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        c = self.state.choice
        if self.is_busy() or c is None:
            return False
        if self.plan.installer_file is not None:
            if c.local_path is None or Path(c.local_path) != Path(self.plan.installer_file).expanduser():
                return False
        elif c.filename != self.selected_filename():
            return False
        return bool(c.sha256) or self.plan.allow_unverified

    def validatePage(self) -> bool:  # noqa: N802 - Qt API
        if mirror_probe.is_auto(self.mirror_text()):
            return False  # the probe has not chosen yet
        self.plan.mirror = self.mirror_text()
        return self.isComplete()
