"""Step 2 page: download the installer (or check the local one) and verify its SHA-256."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from app.core import pipeline
from app.core.errors import HashMismatchError, Stage
from app.core.events import Progress
from app.gui.pages.base import WorkPage
from app.gui.widgets.log_view import LogViewWidget
from app.gui.widgets.progress_panel import ProgressPanelWidget, describe_download
from app.gui.widgets.status_label import StatusLabelWidget


class DownloadPage(WorkPage):
    """Runs the download step as soon as the page opens; shows bytes, speed and time left.

    Cancel keeps the ``.part`` file, so Retry resumes where it stopped. The verified file's
    path goes to ``state.installer_path``; Next is enabled once it is there for the chosen
    installer.
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
        self.cancel_button = QPushButton(self.tr("&Cancel download"))
        self.cancel_button.setObjectName("cancel_download_button")
        self.cancel_button.clicked.connect(self.cancel_download)
        self.retry_button = QPushButton(self.tr("&Retry"))
        self.retry_button.setObjectName("retry_button")
        self.retry_button.clicked.connect(self.start_download)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.retry_button)
        self.result = StatusLabelWidget()
        self.result.setObjectName("download_result")
        self.log_view = LogViewWidget()
        self.log_view.setMinimumHeight(110)
        self.log_view.setMaximumHeight(220)

        lay = QVBoxLayout(self)
        lay.addWidget(self.what)
        lay.addSpacing(6)
        lay.addWidget(self.progress)
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

    def _set_buttons(self, running: bool, can_retry: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.cancel_button.setVisible(running)
        self.retry_button.setVisible(can_retry)
        self.retry_button.setEnabled(can_retry)

    # ---- wizard hooks ---------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt API
        c = self.state.choice
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
        self.result.clear_status()
        self.progress.reset(self.tr("Connecting…"))
        self._set_buttons(running=True, can_retry=False)
        self.start_worker(lambda r, c: pipeline.run_step(Stage.DOWNLOAD, plan, state, r, c), name="download")

    def cancel_download(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_worker()

    def handle_progress(self, p: Progress) -> None:
        self.progress.show_progress(p, describe_download(p))

    def handle_log(self, line: str, level: str) -> None:
        self.log_view.append_line(line, level)

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
        self._set_buttons(running=False, can_retry=True)
        self.progress.set_busy(False)
        if isinstance(error, HashMismatchError):
            self.result.show_error(error, prefix=self.tr("SHA-256 mismatch: "))
        else:
            self.result.show_error(error)

    def handle_cancelled(self) -> None:
        self._set_buttons(running=False, can_retry=True)
        self.progress.set_busy(False)
        self.result.show_text("warning", self.tr("Cancelled."),
                              self.tr("The partial download is kept; Retry continues where it stopped."))
