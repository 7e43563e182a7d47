"""Step 6 page: train a tiny model in the new env and show the loss falling, live."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from app.core import pipeline
from app.core.errors import Stage
from app.core.events import Progress, TrainStep
from app.gui.pages.base import WorkPage
from app.gui.widgets.log_view import LogViewWidget
from app.gui.widgets.loss_curve import LossCurveWidget
from app.core.units import format_duration
from app.gui.widgets.progress_panel import ProgressPanelWidget
from app.gui.widgets.status_label import StatusLabelWidget


class GpuCheckPage(WorkPage):
    """Starts the GPU-check step when the page opens (the env's own Python runs the probe).

    Shows the device, a live loss curve, steps/s and samples/s, and the verdict: green for a
    GPU that trained, amber for a CPU that trained, red for a failure (with its fix). Cancel
    stops the probe; Run again starts over. Next is enabled whenever no run is going on: the
    check informs, it does not block finishing.
    """

    def __init__(self, plan, state, log=None, parent=None):
        super().__init__(plan, state, log, parent)
        self.setTitle(self.tr("Check the GPU"))
        self.setSubTitle(self.tr("A tiny language model trains for a few seconds in the new env. "
                                 "If its loss falls, PyTorch works there."))
        self._ran = False
        self.device_label = QLabel("—")
        self.device_label.setObjectName("device_label")
        self.device_label.setWordWrap(True)
        self.torch_label = QLabel("—")
        self.speed_label = QLabel("—")
        self.speed_label.setObjectName("speed_label")
        info = QFormLayout()
        info.addRow(self.tr("Device:"), self.device_label)
        info.addRow(self.tr("PyTorch:"), self.torch_label)
        info.addRow(self.tr("Speed:"), self.speed_label)

        self.curve = LossCurveWidget()
        self.progress = ProgressPanelWidget()
        self.cancel_button = QPushButton(self.tr("&Cancel"))
        self.cancel_button.setObjectName("cancel_gpu_button")
        self.cancel_button.clicked.connect(self.cancel_check)
        self.again_button = QPushButton(self.tr("Run &again"))
        self.again_button.setObjectName("again_button")
        self.again_button.clicked.connect(self.start_check)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.again_button)
        self.verdict = StatusLabelWidget()
        self.verdict.setObjectName("verdict_label")
        self.log_view = LogViewWidget(wrap=True)
        self.log_view.setMaximumHeight(90)

        lay = QVBoxLayout(self)
        lay.addLayout(info)
        lay.addWidget(self.curve, 1)
        lay.addLayout(row)
        lay.addWidget(self.verdict)
        lay.addWidget(self.log_view)
        self._set_buttons(False)

    def _set_buttons(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.again_button.setEnabled(not running)

    # ---- wizard hooks ---------------------------------------------------------------------------
    def initializePage(self) -> None:  # noqa: N802 - Qt API
        if self.state.gpu is None and not self.is_busy():
            self.start_check()

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        return self._ran and not self.is_busy()

    # ---- work -----------------------------------------------------------------------------------
    def start_check(self) -> None:
        """Run the GPU-check step in a worker (also the Run again button)."""
        if self.is_busy():
            return
        plan, state = self.plan, self.state
        state.gpu = None
        self.curve.clear()
        self.curve.set_total_steps(plan.gpu_steps)
        self.log_view.clear()
        self.verdict.show_text("info", self.tr("Starting Python and PyTorch in the env (a few seconds)…"))
        self.progress.reset("")
        self.progress.set_busy(True)
        self.speed_label.setText("—")
        self._set_buttons(True)
        self.start_worker(lambda r, c: pipeline.run_step(Stage.GPU_CHECK, plan, state, r, c), name="gpu-check")

    def cancel_check(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_worker()

    def handle_info(self, key: str, value: object) -> None:
        if key == "device":
            self.device_label.setText(str(value))
        elif key == "device_name":
            self.device_label.setText(f"{self.device_label.text()} \u2014 {value}")
        elif key == "torch_version":
            self.torch_label.setText(str(value))
        elif key == "fallback_reason" and value:
            self.verdict.show_text("warning", self.tr("The GPU failed; training on the CPU instead."), str(value))

    def handle_train_step(self, step: TrainStep) -> None:
        if step.step == 1 and self.verdict.kind == "info":
            self.verdict.show_text("info", self.tr("Training…"))
        self.curve.add_point(step.step, step.loss)
        parts = []
        if step.steps_per_second:
            parts.append(self.tr("{rate:.1f} steps/s").format(rate=step.steps_per_second))
        if step.samples_per_second:
            parts.append(self.tr("{rate:.0f} samples/s").format(rate=step.samples_per_second))
        parts.append(self.tr("loss {loss:.3f}").format(loss=step.loss))
        self.speed_label.setText(" · ".join(parts))

    def handle_progress(self, p: Progress) -> None:
        text = self.tr("step {done} of {total}").format(done=int(p.done), total=int(p.total or self.plan.gpu_steps))
        if p.eta is not None:
            text += " · " + self.tr("{time} left").format(time=format_duration(p.eta))
        self.progress.show_progress(p, text)

    def handle_log(self, line: str, level: str) -> None:
        self.log_view.append_line(line, level)

    def handle_finished(self, result) -> None:
        self._ran = True
        self._set_buttons(False)
        g = self.state.gpu
        self.progress.set_done()
        self.speed_label.setText(self.tr("{steps:.1f} steps/s · {samples:.0f} samples/s").format(
            steps=g.steps_per_second, samples=g.samples_per_second))
        head, sep, rest = g.verdict_text.partition(". ")
        self.verdict.show_text("ok" if g.ok and g.gpu else "warning", head + sep.strip(), rest)

    def handle_failed(self, error) -> None:
        self._ran = True
        self._set_buttons(False)
        self.progress.reset("")
        self.verdict.show_error(error)

    def handle_cancelled(self) -> None:
        self._ran = True
        self._set_buttons(False)
        self.progress.reset("")
        self.verdict.show_text("warning", self.tr("Cancelled. Run again to check the GPU, or finish without it."))
