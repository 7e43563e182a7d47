"""A progress bar with a one-line detail (bytes, speed, time left), fed with engine ``Progress``."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from app.core.lazy import lazy_module
from app.core.events import Progress
from app.core.units import format_bytes, format_duration

download = lazy_module("app.core.download")  # requests, urllib3: not before the first page shows (issue 9)

_MIB = 1024 * 1024


def describe_download(p: Progress) -> str:
    """``"12.3 MiB of 98.4 MiB · 45.6 MiB/s · 2 s left"`` (parts left out when unknown).

    While the downloader checks a partial or finished file rather than downloading, its own
    text says so, and that text is shown instead.
    """
    if p.text.startswith((download.CHECKING_PART_TEXT, download.CHECKING_FILE_TEXT)):
        return p.text
    if p.total:
        parts = [QCoreApplication.translate("ProgressPanelWidget", "{done} of {total}").format(
            done=format_bytes(p.done), total=format_bytes(p.total))]
    else:
        parts = [format_bytes(p.done)]
    if p.rate:
        parts.append(f"{p.rate / _MIB:.1f} MiB/s")
    if p.eta is not None and p.total:
        parts.append(QCoreApplication.translate("ProgressPanelWidget", "{time} left").format(
            time=format_duration(p.eta)))
    return " · ".join(parts)


class ProgressPanelWidget(QWidget):
    """A determinate or busy bar plus a detail line. GUI thread only.

    ``show_progress(p)`` sets the bar from ``p.fraction`` (busy when the total is unknown)
    and the detail from ``p.text`` or a caller-supplied formatter.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(True)
        self.bar.setFormat("%p%")
        self.detail = QLabel(self)
        self.detail.setObjectName("progress_detail")
        self.detail.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.bar)
        lay.addWidget(self.detail)

    def reset(self, text: str = "") -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.detail.setText(text)

    def set_busy(self, busy: bool) -> None:
        """An indeterminate (busy) bar, or back to a determinate one."""
        if busy:
            self.bar.setRange(0, 0)
        elif self.bar.maximum() == 0:
            self.bar.setRange(0, 1000)

    def set_done(self, text: str = "") -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(1000)
        if text:
            self.detail.setText(text)

    def show_progress(self, p: Progress, text: str | None = None) -> None:
        fraction = p.fraction
        if fraction is None:
            self.set_busy(True)
        else:
            self.set_busy(False)
            self.bar.setValue(int(fraction * 1000))
        self.detail.setText(text if text is not None else p.text)
