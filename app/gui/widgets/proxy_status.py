"""The first page's proxy line (the proxy in use, and whether it answers) and the one-click Chinese mirror proposal.

The proxy is read at once (:func:`app.core.proxy.current`: environment first, then the system setting); whether
it answers (:func:`app.core.proxy.check_before_download`) and, on a Chinese system using the official mirror,
whether the official host is slow (:func:`app.core.mirrors.propose_for_locale`) are asked on an
:class:`~app.gui.worker.EngineWorker`, never on the GUI thread. A proposed mirror is never taken silently: the
button emits :attr:`ProxyStatusWidget.use_mirror` and the page switches only then.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.core import mirrors, proxy
from app.core.errors import DownloadError
from app.gui.widgets.status_label import StatusLabelWidget
from app.gui.worker import EngineWorker

# Workers still running: held here until they end, so that closing the page never destroys a running QThread.
_running: set[EngineWorker] = set()


class ProxyStatusWidget(QWidget):
    """``http://127.0.0.1:7890 (from the Windows system proxy setting; ...)`` (or ``none (direct connection)``), then, when the check ends,
    the same line in green, or a red line "The system proxy 127.0.0.1:7890 is not answering; start it or turn it
    off"; below it, when proposed, the Chinese mirror line with a "Use TUNA" button.

    Signals:
        use_mirror(str): the user clicked the proposal's button (the mirror's table name).
        checked(): the background check ended (tests wait for it).
    """

    use_mirror = Signal(str)
    checked = Signal()

    def __init__(self, plan, log=None, parent: QWidget | None = None, check: bool = True) -> None:
        super().__init__(parent)
        self.plan = plan
        self.log = log  # the wizard's file log: gets the "Proxy: ..." line
        self.settings = proxy.current()
        self.suggestion: mirrors.MirrorSuggestion | None = None
        self.problem: DownloadError | None = None
        self.status = StatusLabelWidget()
        self.status.setObjectName("proxy_status")
        self.status.show_text("info", self.settings.describe())
        self.suggest_label = StatusLabelWidget()
        self.suggest_label.setObjectName("mirror_suggestion")
        self.suggest_label.hide()
        self.suggest_button = QPushButton()
        self.suggest_button.setObjectName("use_suggested_mirror")
        self.suggest_button.setAccessibleName(self.tr("Use the suggested mirror"))
        self.suggest_button.hide()
        self.suggest_button.clicked.connect(self._use)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.suggest_label, 1)
        row.addWidget(self.suggest_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.status)
        lay.addLayout(row)
        self._worker: EngineWorker | None = None
        if check:
            self.start_check()

    def start_check(self) -> None:
        """Check the proxy and (Chinese system) the official host on a worker; :meth:`_on_checked` shows it."""
        plan, settings = self.plan, self.settings

        def work(reporter, cancel):
            try:
                proxy.check_before_download(plan, reporter, settings)
            except DownloadError as exc:
                return exc, None
            return None, mirrors.propose_for_locale(plan, reporter, cancel)

        w = EngineWorker(work, extra_reporter=self.log, name="proxy-check")
        w.finished.connect(self._on_checked)
        w.failed.connect(self._on_failed)
        self._worker = w
        _running.add(w)
        w.start()

    def _release(self) -> None:
        w, self._worker = self._worker, None
        if w is not None and w.wait(2000):  # its thread quits right after the end signal
            _running.discard(w)
        self.checked.emit()

    @Slot(object)
    def _on_checked(self, result) -> None:
        self.problem, self.suggestion = result
        if self.problem is not None:
            self.status.show_text("error", self.problem.message, self.problem.fix)
        elif self.settings.active:
            self.status.show_text("ok", self.tr("{text}; it answers.").format(text=self.settings.describe()))
        if self.suggestion is not None:
            self.suggest_label.show_text("warning", self.suggestion.line())
            self.suggest_button.setText(self.tr("Use {title}").format(title=self.suggestion.title))
            self.suggest_label.show()
            self.suggest_button.show()
        self._release()

    @Slot(object)
    def _on_failed(self, exc) -> None:
        self._release()

    def _use(self) -> None:
        if self.suggestion is not None:
            self.suggest_button.hide()
            self.suggest_label.hide()
            self.use_mirror.emit(self.suggestion.name)
