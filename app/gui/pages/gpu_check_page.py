"""Step 6 page: train a tiny model in the new env and show the loss falling, live."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import (QApplication, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QPlainTextEdit,
                               QPushButton, QVBoxLayout)

from app.core import pipeline
from app.core.errors import Stage
from app.core.events import Progress, TrainStep
from app.core.lazy import lazy_module
from app.gui.pages.base import WorkPage
from app.gui.widgets.log_view import LogViewWidget
from app.gui.widgets.loss_curve import LossCurveWidget
from app.core.units import format_duration
from app.gui.widgets.progress_panel import ProgressPanelWidget
from app.gui.widgets.status_label import StatusLabelWidget

gpu_check = lazy_module("app.core.gpu_check")  # needed for the report only: not before the first page (issue 9)


class GpuCheckPage(WorkPage):
    """Starts the GPU-check step when the page opens (the env's own Python runs the probe).

    Shows a device card (the hardware detected before training, then the device torch trains on), a
    live loss curve, tokens/s and TFLOP/s, the sample the model writes, and the verdict once, as a
    banner with its fix: green "GPU works", amber "CPU only", red "GPU present but broken" or a
    failure. The log shows the details. Save report writes Markdown and JSON; Copy diagnostics puts the
    Markdown on the clipboard. Cancel stops the probe within a second; Run again starts over. Next is
    enabled whenever no run is going on: the check informs, it does not block finishing.
    """

    def __init__(self, plan, state, log=None, parent=None):
        super().__init__(plan, state, log, parent)
        self.setTitle(self.tr("Check the GPU"))
        self.setSubTitle(self.tr("A tiny language model trains for a few seconds in the new env. "
                                 "If its loss falls, PyTorch works there."))
        self._ran = False
        self._hardware: dict = {}
        self._error = None
        self._log_lines: list[str] = []
        self.hardware_label = QLabel("—")
        self.hardware_label.setObjectName("hardware_label")
        self.hardware_label.setWordWrap(True)
        self.device_label = QLabel("—")
        self.device_label.setObjectName("device_label")
        self.device_label.setWordWrap(True)
        self.torch_label = QLabel("—")
        self.speed_label = QLabel("—")
        self.speed_label.setObjectName("speed_label")
        self.torch_label.setObjectName("torch_label")
        self.tflops_label = QLabel("—")
        self.tflops_label.setObjectName("tflops_label")
        info = QFormLayout()
        info.addRow(self.tr("Hardware:"), self.hardware_label)
        info.addRow(self.tr("Trains on:"), self.device_label)
        info.addRow(self.tr("PyTorch:"), self.torch_label)
        info.addRow(self.tr("Speed:"), self.speed_label)
        info.addRow(self.tr("Matmul:"), self.tflops_label)

        self.curve = LossCurveWidget()
        self.progress = ProgressPanelWidget()
        self.cancel_button = QPushButton(self.tr("&Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel the GPU check"))
        self.cancel_button.setObjectName("cancel_gpu_button")
        self.cancel_button.clicked.connect(self.cancel_check)
        self.again_button = QPushButton(self.tr("Run &again"))
        self.again_button.setObjectName("again_button")
        self.again_button.clicked.connect(self.start_check)
        self.save_button = QPushButton(self.tr("&Save report…"))
        self.save_button.setObjectName("save_report_button")
        self.save_button.clicked.connect(self._ask_save_report)
        self.copy_button = QPushButton(self.tr("Cop&y diagnostics"))
        self.copy_button.setObjectName("copy_diagnostics_button")
        self.copy_button.clicked.connect(self.copy_diagnostics)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.again_button)
        row.addWidget(self.save_button)
        row.addWidget(self.copy_button)
        self.verdict = StatusLabelWidget()
        self.verdict.setObjectName("verdict_label")
        self.sample_view = QPlainTextEdit()
        self.sample_view.setObjectName("sample_view")
        self.sample_view.setAccessibleName(self.tr("Sample from the trained model"))
        self.sample_view.setReadOnly(True)
        self.sample_view.setMaximumHeight(44)
        self.sample_view.setPlaceholderText(self.tr("The trained model's sample appears here."))
        self.log_view = LogViewWidget(wrap=True)
        self.log_view.setAccessibleName(self.tr("GPU check log"))
        self.log_view.setMaximumHeight(80)

        lay = QVBoxLayout(self)
        lay.addLayout(info)
        lay.addWidget(self.curve, 1)
        lay.addLayout(row)
        lay.addWidget(self.verdict)
        lay.addWidget(self.sample_view)
        lay.addWidget(self.log_view)
        self._set_buttons(False)

    def _set_buttons(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.again_button.setEnabled(not running)
        self.save_button.setEnabled(not running and self._ran)
        self.copy_button.setEnabled(not running and self._ran)

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
        self._error = None
        self._log_lines = []
        self._ran = False
        self.sample_view.clear()
        self.tflops_label.setText("—")
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
        if key == "hardware" and isinstance(value, dict):
            self._hardware = value
            text = str(value.get("description") or "—")
            self.hardware_label.setText(text[0].upper() + text[1:] if text else "—")
        elif key == "matmul" and isinstance(value, dict):
            parts = []
            if value.get("tflops_fp32"):
                parts.append(self.tr("{v:.2f} TFLOP/s fp32").format(v=value["tflops_fp32"]))
            if value.get("tflops_bf16"):
                parts.append(self.tr("{v:.1f} TFLOP/s bf16").format(v=value["tflops_bf16"]))
            self.tflops_label.setText(" · ".join(parts) or "—")
        elif key == "sample" and value:
            self.sample_view.setPlainText(str(value))
        elif key == "device_card" and isinstance(value, dict):
            extra = []
            if value.get("compute_capability"):
                extra.append(self.tr("compute capability {cc}").format(cc=value["compute_capability"]))
            if value.get("memory_bytes"):
                extra.append(f"{value['memory_bytes'] / 1024 ** 3:.1f} GiB")
            extra.append(f"{value.get('model') or 'torch.nn'}, {value.get('precision') or 'fp32'}")
            self.device_label.setText(self.tr("{device} — {name} ({details})").format(
                device=value.get('device'), name=value.get('device_name'), details=self.tr(", ").join(extra)))
            cuda = value.get('cuda_version') or self.tr("none", "no CUDA in this torch build")
            self.torch_label.setText(self.tr("{torch} (CUDA {cuda}), Python {python}").format(
                torch=value.get('torch'), cuda=cuda, python=value.get('python')))
        elif key == "device":
            self.device_label.setText(str(value))
        elif key == "device_name":
            self.device_label.setText(f"{self.device_label.text()} \u2014 {value}")
        elif key == "torch_version":
            self.torch_label.setText(str(value))
        elif key == "fallback_reason" and value:
            # the verdict itself comes once, at the end; this line only says what is going on now
            self.verdict.show_text("info", self.tr("The GPU failed; training on the CPU instead…"))

    def handle_train_step(self, step: TrainStep) -> None:
        if step.step == 1 and self.verdict.kind == "info":
            self.verdict.show_text("info", self.tr("Training…"))
        self.curve.add_point(step.step, step.loss)
        parts = []
        if step.steps_per_second:
            parts.append(self.tr("{rate:.1f} steps/s").format(rate=step.steps_per_second))
        if step.samples_per_second:
            tokens = step.samples_per_second * 64  # the probe's windows are 64 tokens (characters)
            parts.append(self.tr("{rate:,.0f} tokens/s").format(rate=tokens))
        parts.append(self.tr("loss {loss:.3f}").format(loss=step.loss))
        self.speed_label.setText(" · ".join(parts))

    def handle_progress(self, p: Progress) -> None:
        text = self.tr("step {done} of {total}").format(done=int(p.done), total=int(p.total or self.plan.gpu_steps))
        if p.eta is not None:
            text += " · " + self.tr("{time} left").format(time=format_duration(p.eta))
        self.progress.show_progress(p, text)

    def handle_log(self, line: str, level: str) -> None:
        self._log_lines.append(line)
        if level != "debug":
            self.log_view.append_line(line, level)

    def handle_finished(self, result) -> None:
        self._ran = True
        self._set_buttons(False)
        g = self.state.gpu
        self.progress.set_done()
        self.speed_label.setText(self.tr("{steps:.1f} steps/s · {tokens:,.0f} tokens/s").format(
            steps=g.steps_per_second, tokens=g.tokens_per_second))
        kind = {"gpu_works": "ok", "cpu_only": "warning", "gpu_broken": "error"}.get(g.status, "warning")
        if g.status == "gpu_works":
            self.verdict.show_text(kind, g.verdict_text)
        else:
            fix_label = self.tr("Fix:")  # outside the f-string, where lupdate finds it
            self.verdict.show_text(kind, f"{g.title}: {g.reason}", f"{fix_label} {g.fix}" if g.fix else "")
        self._set_buttons(False)

    def handle_failed(self, error) -> None:
        self._ran = True
        self._error = error
        self._set_buttons(False)
        self.progress.reset("")
        self.verdict.show_error(error)

    def handle_cancelled(self) -> None:
        self._ran = True
        self._set_buttons(False)
        self.progress.reset("")
        self.verdict.show_text("warning", self.tr("Cancelled. Run again to check the GPU, or finish without it."))

    # ---- report ---------------------------------------------------------------------------------
    def report(self) -> dict:
        """The report of the last run (:func:`app.core.gpu_check.report_json`)."""
        env = getattr(self.state, "env", None)
        return gpu_check.report_json(self.state.gpu, self._error, self._hardware, self._log_lines,
                                     env.python if env is not None else None)

    def diagnostics_text(self) -> str:
        """The Markdown report (what Copy diagnostics puts on the clipboard)."""
        return gpu_check.report_markdown(self.report())

    def copy_diagnostics(self) -> None:
        QApplication.clipboard().setText(self.diagnostics_text())
        self.log_view.append_line(self.tr("Diagnostics copied to the clipboard."), "info")

    def save_report(self, path: Path) -> tuple[Path, Path]:
        """Write the report as ``path`` with ``.md`` and ``.json`` suffixes; returns both paths.

        Raises:
            OSError: a file cannot be written.
        """
        path = Path(path)
        md, js = path.with_suffix(".md"), path.with_suffix(".json")
        doc = self.report()
        md.write_text(gpu_check.report_markdown(doc), encoding="utf-8")
        js.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return md, js

    def _ask_save_report(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, self.tr("Save the GPU check report"),
                                              str(Path.home() / "gpu-check-report.md"),
                                              self.tr("Markdown (*.md)"))
        if not name:
            return
        try:
            md, js = self.save_report(Path(name))
        except OSError as exc:
            self.log_view.append_line(self.tr("Could not save the report: {e}").format(e=exc.strerror or exc), "error")
            return
        self.log_view.append_line(self.tr("Saved {md} and {js}.").format(md=md, js=js), "info")
