"""Step 2 page: download the installer (or check the local one) and verify its SHA-256.

Shows what a throttled, flaky link needs the user to see (issue 5): the bar, bytes, speed and time left,
the connections in use, the retries so far and the mirror; with Pause/Resume and Cancel. Pause is a
cancel that keeps the resumable state (the ``.part``); Resume starts the download step again, which
continues from it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from app.core import pipeline
from app.core.errors import HashMismatchError, Stage
from app.core.events import Progress
from app.core.lazy import lazy_module
from app.core.units import format_bytes
from app.gui.pages.base import WorkPage
from app.gui.widgets.log_view import LogViewWidget
from app.gui.widgets.progress_panel import ProgressPanelWidget, describe_download
from app.gui.widgets.status_label import StatusLabelWidget

download = lazy_module("app.core.download")  # requests, urllib3: imported by the download worker (issue 9)


#: A downloader log line that announces a retry: "... retrying (1/4)." or "... resuming (2/4).".
#: A retry line of the downloader: ``retry 2/5: ...`` (app.core.download / segments / net), or the older
#: ``... retrying (2/5)`` wording.
_RETRY_RE = re.compile(r"^retry \d+/\d+\b|\b(retrying|resuming|reconnecting)\b.*\(\d+/\d+\)", re.IGNORECASE)


def download_stats(connections: int | None, retries: int, mirror: str) -> str:
    """``"2 connections · 1 retry · mirror tuna (mirrors.tuna.tsinghua.edu.cn)"`` (connections left out when unknown)."""
    # literal QCoreApplication.translate calls: lupdate does not follow an alias such as tr = ...translate
    parts = []
    if connections is not None:
        parts.append(QCoreApplication.translate("DownloadPage", "1 connection") if connections == 1 else
                     QCoreApplication.translate("DownloadPage", "{n} connections").format(n=connections))
    parts.append(QCoreApplication.translate("DownloadPage", "1 retry") if retries == 1 else
                 QCoreApplication.translate("DownloadPage", "{n} retries").format(n=retries))
    if mirror:
        parts.append(QCoreApplication.translate("DownloadPage", "mirror {mirror}").format(mirror=mirror))
    return " · ".join(parts)


def mirror_text(mirror: str, url: str | None) -> str:
    """How the page names the source: ``"tuna (mirrors.tuna.tsinghua.edu.cn)"``, or just the host for a URL."""
    host = urlsplit(url).hostname if url else None
    host = f"{host}:{urlsplit(url).port}" if host and urlsplit(url).port else host
    name = (mirror or "").strip()
    if not name or "/" in name or ":" in name:  # a URL or a folder: the host says it
        return host or name
    return f"{name} ({host})" if host else name


class DownloadPage(WorkPage):
    """Runs the download step as soon as the page opens; shows bytes, speed, time left, connections,
    retries and the mirror.

    Pause stops the worker and keeps the ``.part`` file; Resume (and Retry after Cancel or a failure)
    starts the step again, which continues where it stopped. The verified file's path goes to
    ``state.installer_path``; Next is enabled once it is there for the chosen installer.

    Progress fields ``connections`` and ``retries`` are read when the downloader reports them
    (segmented download); otherwise one connection, and the retries are counted from its log lines.
    """

    def __init__(self, plan, state, log=None, parent=None):
        super().__init__(plan, state, log, parent)
        self.setTitle(self.tr("Download the installer"))
        self.setSubTitle(self.tr("The installer is saved next to a partial file first and used only after its "
                                 "SHA-256 matches the published one."))
        self.what = QLabel()
        self.what.setObjectName("download_what")
        self.what.setWordWrap(True)
        self.progress = ProgressPanelWidget()
        self.stats = QLabel()
        self.stats.setObjectName("download_stats")
        self.stats.setWordWrap(True)
        self._connections: int | None = None
        self._retries = 0
        self._logged_retries = 0
        self._last: Progress | None = None
        self._pausing = False
        self._paused = False
        self.pause_button = QPushButton(self.tr("&Pause"))
        self.pause_button.setObjectName("pause_download_button")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.cancel_button = QPushButton(self.tr("&Cancel download"))
        self.cancel_button.setObjectName("cancel_download_button")
        self.cancel_button.clicked.connect(self.cancel_download)
        self.retry_button = QPushButton(self.tr("&Retry"))
        self.retry_button.setObjectName("retry_button")
        self.retry_button.clicked.connect(self.start_download)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.retry_button)
        self.result = StatusLabelWidget()
        self.result.setObjectName("download_result")
        self.log_view = LogViewWidget()
        self.log_view.setAccessibleName(self.tr("Download log"))
        self.log_view.setMinimumHeight(110)
        self.log_view.setMaximumHeight(220)

        lay = QVBoxLayout(self)
        lay.addWidget(self.what)
        lay.addSpacing(6)
        lay.addWidget(self.progress)
        lay.addWidget(self.stats)
        lay.addLayout(buttons)
        lay.addWidget(self.result)
        lay.addWidget(QLabel(self.tr("Details:")))
        lay.addWidget(self.log_view)
        lay.addStretch(1)
        self._set_buttons(running=False, can_retry=False)

    # ---- helpers --------------------------------------------------------------------------------
    def _is_done(self) -> bool:
        c, p = self.state.choice, self.state.installer_path
        return c is not None and p is not None and Path(p).name == c.filename and Path(p).is_file()

    def _set_buttons(self, running: bool, can_retry: bool, paused: bool = False) -> None:
        remote = self.state.choice is not None and self.state.choice.url is not None
        self.cancel_button.setEnabled(running)
        self.cancel_button.setVisible(running)
        self.pause_button.setText(self.tr("&Resume") if paused else self.tr("&Pause"))
        self.pause_button.setVisible(remote and (running or paused))
        self.pause_button.setEnabled(remote and (running or paused))
        self.retry_button.setVisible(can_retry)
        self.retry_button.setEnabled(can_retry)

    def _show_stats(self) -> None:
        c = self.state.choice
        self.stats.setText(download_stats(self._connections, max(self._retries, self._logged_retries),
                                          mirror_text(self.plan.mirror, c.url if c else None)))

    def is_paused(self) -> bool:
        """True while the download is paused (the worker has stopped; the ``.part`` is kept)."""
        return self._paused

    # ---- wizard hooks ---------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt API
        c = self.state.choice
        self.stats.setVisible(c is not None and c.url is not None)
        if c is not None and c.local_path is not None:
            self.setTitle(self.tr("Check the installer"))
            self.what.setText(self.tr("Checking the local file {path}").format(path=c.local_path))
        elif c is not None:
            self.setTitle(self.tr("Download the installer"))
            self.what.setText(self.tr("Downloading {name}\nfrom {url}").format(name=c.filename, url=c.url))
        if self._is_done():
            self._show_verified()
            self._set_buttons(running=False, can_retry=False)
        elif not self.is_busy():
            self.state.installer_path = None
            self.start_download()

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        return not self.is_busy() and self._is_done()

    # ---- work -----------------------------------------------------------------------------------
    def start_download(self) -> None:
        """Start (or resume) the download step in a worker."""
        if self.is_busy():
            return
        plan, state = self.plan, self.state
        self._pausing = self._paused = False
        self._connections, self._retries, self._logged_retries = None, 0, 0
        self.result.clear_status()
        if self._last is not None and self._last.total:
            self.progress.show_progress(self._last, self.tr("Resuming from {done}…").format(
                done=format_bytes(self._last.done)))
        else:
            self.progress.reset(self.tr("Connecting…"))
        self._show_stats()
        self._set_buttons(running=True, can_retry=False)
        self.start_worker(lambda r, c: pipeline.run_step(Stage.DOWNLOAD, plan, state, r, c), name="download")

    def cancel_download(self) -> None:
        self.cancel_button.setEnabled(False)
        self.pause_button.setEnabled(False)
        self.cancel_worker()

    def toggle_pause(self) -> None:
        """Pause a running download (stop the worker, keep the ``.part``), or resume a paused one."""
        if self._paused:
            self.start_download()
        elif self.is_busy() and not self._pausing:
            self._pausing = True
            self.pause_button.setEnabled(False)
            self.pause_button.setText(self.tr("Pausing…"))
            self.cancel_button.setEnabled(False)
            self.cancel_worker()

    def handle_progress(self, p: Progress) -> None:
        connections = getattr(p, "connections", None)  # the segmented downloader reports these
        retries = getattr(p, "retries", None)
        if connections:  # 0: the final, forced update, which does not say; keep what was shown
            self._connections = int(connections)
        elif self._connections is None and p.text.startswith(download.DOWNLOADING_TEXT):
            self._connections = 1  # the single-stream downloader
        if retries:
            self._retries = max(self._retries, int(retries))
        if p.text.startswith(download.DOWNLOADING_TEXT) or p.total:
            self._last = p
        self.progress.show_progress(p, describe_download(p))
        self._show_stats()

    def handle_log(self, line: str, level: str) -> None:
        self.log_view.append_line(line, level)
        if level == "warning" and _RETRY_RE.search(line):
            self._logged_retries += 1
            self._show_stats()

    def _show_verified(self) -> None:
        c = self.state.choice
        path = self.state.installer_path
        self.progress.set_done(self.tr("Saved as {path}").format(path=path))
        if c is not None and c.sha256:
            self.result.show_text("ok", self.tr("SHA-256 verified."), c.sha256)
        else:
            self.result.show_text("warning", self.tr("Not verified: no SHA-256 is published for this installer."))

    def handle_finished(self, result) -> None:
        self._set_buttons(running=False, can_retry=False)
        c = self.state.choice
        if c is not None and c.url:
            self.what.setText(self.tr("Downloaded {name}\nfrom {url}").format(name=c.filename, url=c.url))
        self._show_verified()

    def handle_failed(self, error) -> None:
        self._pausing = False
        self._set_buttons(running=False, can_retry=True)
        self.progress.set_busy(False)
        if isinstance(error, HashMismatchError):
            self.result.show_error(error, prefix=self.tr("SHA-256 mismatch: "))
        else:
            self.result.show_error(error)

    def handle_cancelled(self) -> None:
        self.progress.set_busy(False)
        if self._pausing:
            self._pausing, self._paused = False, True
            self._set_buttons(running=False, can_retry=False, paused=True)
            p = self._last
            where = (self.tr("Paused at {done} of {total}.").format(done=format_bytes(p.done),
                                                                     total=format_bytes(p.total))
                     if p is not None and p.total else self.tr("Paused."))
            self.progress.detail.setText(where)
            self.result.show_text("info", self.tr("Paused."), self.tr("No data is downloaded while paused; Resume "
                                                                    "continues where it stopped."))
            self.completeChanged.emit()
            return
        self._set_buttons(running=False, can_retry=True)
        self.result.show_text("warning", self.tr("Cancelled."),
                              self.tr("The partial download is kept; Retry continues where it stopped."))
