"""Step 1 page: choose the Miniconda installer (mirror, list of installers for this platform, or a local file)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
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
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from app.core import catalog, mirrors, pipeline
from app.core.errors import Stage
from app.core.plan import MIRRORS
from app.gui.pages.base import WorkPage
from app.core.units import format_bytes
from app.gui.widgets.status_label import StatusLabelWidget

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
    """

    def __init__(self, plan, state, log=None, parent=None):
        super().__init__(plan, state, log, parent)
        self.setTitle(self.tr("Choose the Miniconda installer"))
        self.setSubTitle(self.tr("The wizard reads the list of installers from a mirror and picks the latest one "
                                 "for this computer. You can pick another one, or use an installer you already have."))
        self.entries: list[catalog.InstallerEntry] = []
        # every row of the index last read, and the URL it was read from (handed to catalog.resolve)
        self._index: tuple[str, list[catalog.InstallerEntry]] | None = None
        self._want_resolve = False

        self.platform_label = QLabel(f"<b>{plan.platform.describe()}</b>")
        self.platform_label.setObjectName("platform_label")

        self.mirror_combo = QComboBox()
        self.mirror_combo.setObjectName("mirror_combo")
        self.mirror_combo.setEditable(True)
        self.mirror_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for name, url in MIRRORS.items():
            self.mirror_combo.addItem(name, url)
            self.mirror_combo.setItemData(self.mirror_combo.count() - 1, url, Qt.ItemDataRole.ToolTipRole)
        self.mirror_combo.setToolTip(self.tr("A mirror name, or the URL of a folder that lists Miniconda installers."))
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
        mirror_row = QHBoxLayout()
        mirror_row.addWidget(self.mirror_combo, 1)
        mirror_row.addWidget(self.reload_button)

        form = QFormLayout()
        form.addRow(self.tr("This computer:"), self.platform_label)
        mirror_box = QVBoxLayout()
        mirror_box.setSpacing(2)
        mirror_box.addLayout(mirror_row)
        mirror_box.addWidget(self.mirror_url_label)
        mirror_box.addWidget(self.mirror_parts_label)
        form.addRow(self.tr("Mirror:"), mirror_box)

        self.table = QTreeWidget()
        self.table.setObjectName("installer_table")
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

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.table, 1)
        lay.addLayout(local_row)
        lay.addWidget(self.status)
        lay.addWidget(self.unverified_check)

        self._prefill_mirror()
        self.mirror_combo.activated.connect(lambda _i: self._mirror_edited())
        self.mirror_combo.lineEdit().editingFinished.connect(self._mirror_edited)
        self._update_local_widgets()
        self._update_unverified()

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
        url = MIRRORS.get(text.lower(), text)
        if (url if url.endswith("/") else url + "/") != self.plan.mirror_url:
            self.load_index()
        elif text != self.plan.mirror:
            self.plan.mirror = text  # the same mirror, spelled differently
            self._show_mirror_url()

    # ---- index --------------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt API
        if not self.entries and not self.is_busy() and self.plan.installer_file is None:
            self.load_index()
        elif self.plan.installer_file is not None and self.state.choice is None and not self.is_busy():
            self.resolve_choice()

    def load_index(self) -> None:
        """Read the mirror's index in a worker, then resolve the preselected installer."""
        self.plan.mirror = self.mirror_text()
        self._show_mirror_url()
        self.state.choice = None
        self.entries = []
        self._index = None
        self.table.clear()
        self.status.show_text("info", self.tr("Reading the list of installers from {url} …").format(
            url=self.plan.mirror_url))
        self.reload_button.setEnabled(False)
        plan, state = self.plan, self.state
        self._want_resolve = False

        def fetch(reporter, cancel):
            url = plan.mirror_url
            return url, catalog.fetch_index(url, state.http(), cancel)

        self.start_worker(fetch, name="catalog")

    def _fill_table(self, entries: list[catalog.InstallerEntry]) -> None:
        p = self.plan.platform
        exts = {"Linux": ("sh",), "MacOSX": ("sh", "pkg"), "Windows": ("exe",)}.get(p.os, ())
        mine = [e for e in entries if e.os == p.os and e.arch == p.arch and e.flavor == "Miniconda3"
                and (not exts or e.ext in exts)]
        mine.sort(key=_sort_key)
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

    # ---- worker hooks -------------------------------------------------------------------------
    def handle_finished(self, result) -> None:
        self.reload_button.setEnabled(True)
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
        size = format_bytes(c.size) if c.size else self.tr("size unknown")
        if c.sha256:
            source = {"user": self.tr("given by you"), "index": self.tr("published by the mirror"),
                      "pinned": self.tr("from the wizard's pinned hash table"),
                      "official-index": self.tr("published by repo.anaconda.com")}.get(c.hash_source or "", "")
            self.status.show_text("ok", self.tr("{name} ({size}). Expected SHA-256 {source}:").format(
                name=c.filename, size=size, source=source), c.sha256)
        else:
            self.status.show_text("warning", self.tr("{name} ({size}). No SHA-256 is published for it, so the "
                                                     "download cannot be verified.").format(name=c.filename, size=size),
                                  self.tr("Pick an installer whose SHA-256 is known, or tick the box below."))
        self._update_unverified()

    def handle_failed(self, error) -> None:
        self.reload_button.setEnabled(True)
        self.status.show_error(error)
        self._update_unverified()

    def handle_cancelled(self) -> None:
        self.reload_button.setEnabled(True)
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
        self.plan.mirror = self.mirror_text()
        return self.isComplete()
