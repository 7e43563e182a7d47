"""Shared widgets: loss curve painting, log view, progress text, status label, step list."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage

from app.core.errors import DownloadError, Stage
from app.core.events import Progress
from app.gui.widgets.log_view import LogViewWidget
from app.gui.widgets.loss_curve import LINE_COLOR, LossCurveWidget
from app.core.units import format_bytes, format_duration
from app.gui.widgets.progress_panel import ProgressPanelWidget, describe_download
from app.gui.widgets.status_label import StatusLabelWidget
from app.gui.widgets.step_list import StepListWidget


def _line_pixels(image: QImage) -> list[tuple[int, int]]:
    """Pixels close to the curve's colour."""
    want = QColor(LINE_COLOR)
    out = []
    for y in range(0, image.height()):
        for x in range(0, image.width()):
            c = image.pixelColor(x, y)
            if abs(c.red() - want.red()) < 40 and abs(c.green() - want.green()) < 40 and abs(c.blue() - want.blue()) < 40:
                out.append((x, y))
    return out


def test_loss_curve_paints_a_falling_line(qtbot):
    curve = LossCurveWidget()
    qtbot.addWidget(curve)
    curve.resize(400, 200)
    curve.set_total_steps(10)
    for step in range(1, 11):
        curve.add_point(step, 4.0 / step)
    image = curve.grab().toImage()
    pixels = _line_pixels(image)
    assert len(pixels) > 100
    # the curve falls: the leftmost line pixels sit higher (smaller y) than the rightmost ones
    xs = sorted(pixels)
    left = [y for x, y in xs[:20]]
    right = [y for x, y in xs[-20:]]
    assert min(left) < min(right)
    # and lies where map_point says
    first = curve.map_point(1, 4.0)
    assert any(abs(x - first.x()) <= 3 and abs(y - first.y()) <= 3 for x, y in pixels)


def test_loss_curve_empty_single_and_non_finite_points(qtbot):
    curve = LossCurveWidget()
    qtbot.addWidget(curve)
    curve.resize(300, 160)
    assert _line_pixels(curve.grab().toImage()) == []  # nothing but axes and the hint
    curve.add_point(1, 2.0)
    curve.add_point(2, float("nan"))
    curve.add_point(3, float("inf"))
    assert curve.points() == [(1, 2.0)]
    assert _line_pixels(curve.grab().toImage())  # one dot
    curve.clear()
    assert curve.points() == []


def test_loss_curve_x_range_follows_total_then_steps(qtbot):
    curve = LossCurveWidget()
    qtbot.addWidget(curve)
    curve.resize(400, 200)
    curve.set_total_steps(100)
    curve.add_point(1, 1.0)
    curve.add_point(50, 0.5)
    half = curve.map_point(50, 0.5).x()
    left, right = curve.map_point(1, 0).x(), curve.map_point(100, 0).x()
    assert left < half < right
    assert abs((half - left) / (right - left) - 49 / 99) < 0.01


def test_log_view_keeps_last_lines_and_colours_levels(qtbot):
    view = LogViewWidget(max_lines=50)
    qtbot.addWidget(view)
    for i in range(120):
        view.append_line(f"line {i}", "error" if i == 119 else "info")
    lines = view.lines()
    assert len(lines) == 50
    assert lines[-1] == "line 119"
    assert view.isReadOnly()


def test_log_view_follows_only_at_bottom(qtbot):
    view = LogViewWidget()
    qtbot.addWidget(view)
    view.resize(300, 100)
    view.show()
    for i in range(200):
        view.append_line(f"line {i}")
    bar = view.verticalScrollBar()
    assert bar.value() == bar.maximum()
    bar.setValue(0)  # the user scrolls up to read
    view.append_line("new")
    assert bar.value() == 0


def test_progress_text():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(103197056) == "98.4 MiB"
    assert format_duration(5) == "5 s"
    assert format_duration(75) == "1 min 15 s"
    assert format_duration(3725) == "1 h 2 min"
    p = Progress(Stage.DOWNLOAD, 12.3 * 2**20, 98.4 * 2**20, rate=45.6 * 2**20, eta=2)
    assert describe_download(p) == "12.3 MiB of 98.4 MiB · 45.6 MiB/s · 2 s left"
    assert describe_download(Progress(Stage.DOWNLOAD, 2048)) == "2.0 KiB"


def test_progress_panel_busy_and_determinate(qtbot):
    panel = ProgressPanelWidget()
    qtbot.addWidget(panel)
    panel.show_progress(Progress(Stage.ENV, 3, None, text="3 linked"))
    assert panel.bar.maximum() == 0 and panel.detail.text() == "3 linked"
    panel.show_progress(Progress(Stage.DOWNLOAD, 50, 200), "quarter")
    assert panel.bar.maximum() == 1000 and panel.bar.value() == 250
    panel.set_done("done")
    assert panel.bar.value() == 1000


def test_status_label_shows_error_with_fix(qtbot):
    label = StatusLabelWidget()
    qtbot.addWidget(label)
    label.show_error(DownloadError("The mirror said <404>.", fix="Pick another mirror."))
    assert label.kind == "error"
    assert label.plain == "The mirror said <404>.\nPick another mirror."
    assert "&lt;404&gt;" in label.text()  # escaped, not parsed as a tag
    label.clear_status()
    assert label.kind == "info" and label.text() == ""


def test_step_list_marks(qtbot):
    steps = StepListWidget(["a", "b", "c"])
    qtbot.addWidget(steps)
    steps.set_current(1)
    assert [t[0] for t in steps.texts()] == ["\u2713", "\u25b6", "\u2022"]
    steps.set_skipped({2})
    steps.set_current(2)
    assert steps.texts()[2].startswith("\u25b6")


def test_download_detail_names_the_checking_phase():
    from app.core import download
    from app.core.errors import Stage
    from app.core.events import Progress

    checking = Progress(Stage.DOWNLOAD, 1 << 20, 11 << 20, text=f"{download.CHECKING_PART_TEXT}: 1.0 MiB of 11.0 MiB")
    assert describe_download(checking).startswith("Checking the partial download")
    fetching = Progress(Stage.DOWNLOAD, 1 << 20, 11 << 20, rate=2 << 20, eta=5, text="Downloaded 1.0 MiB")
    assert describe_download(fetching) == "1.0 MiB of 11.0 MiB · 2.0 MiB/s · 5 s left"
