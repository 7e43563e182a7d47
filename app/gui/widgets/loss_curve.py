"""The GPU-check loss curve: a QPainter polyline with axes, no chart library.

QtCharts lives in PySide6-Addons (a 59 MB wheel); a polyline in ``paintEvent`` is all
this page needs (``research/ecosystem.md`` §1.3).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

LINE_COLOR = QColor("#1f6feb")


class LossCurveWidget(QWidget):
    """Plots ``(step, loss)`` points as they arrive.

    The x axis runs from 1 to ``total_steps`` (or the last step seen, if more); the y axis
    from 0 to the largest loss seen, so a falling loss is visibly falling. GUI thread only.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._points: list[tuple[int, float]] = []
        self._total = 0
        self.setMinimumSize(320, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setObjectName("loss_curve")
        self.setAccessibleName(self.tr("Training loss curve"))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(520, 220)

    # ---- data ----------------------------------------------------------------------------------
    def set_total_steps(self, total: int) -> None:
        """The planned number of steps (sets the x range before the points arrive)."""
        self._total = max(0, int(total))
        self.update()

    def add_point(self, step: int, loss: float) -> None:
        """Append one step's loss (non-finite losses are kept out of the plot)."""
        if math.isfinite(loss):
            self._points.append((int(step), float(loss)))
            self.update()

    def clear(self) -> None:
        self._points.clear()
        self.update()

    def points(self) -> list[tuple[int, float]]:
        return list(self._points)

    # ---- drawing -------------------------------------------------------------------------------
    def _plot_rect(self, fm: QFontMetrics) -> QRectF:
        left = fm.horizontalAdvance("00.00") + 12
        bottom = fm.height() + 10
        return QRectF(left, 8, max(10, self.width() - left - 12), max(10, self.height() - bottom - 8 - fm.height()))

    def _ranges(self) -> tuple[float, float, float]:
        x_max = max([self._total, *(s for s, _ in self._points), 2])
        y_max = max([loss for _, loss in self._points] or [1.0])
        y_max = y_max * 1.05 if y_max > 0 else 1.0
        return 1.0, float(x_max), y_max

    def map_point(self, step: float, loss: float) -> QPointF:
        """Widget coordinates of a data point (used by the tests, too)."""
        rect = self._plot_rect(self.fontMetrics())
        x_min, x_max, y_max = self._ranges()
        x = rect.left() + (step - x_min) / max(1e-9, x_max - x_min) * rect.width()
        y = rect.bottom() - max(0.0, min(loss, y_max)) / y_max * rect.height()
        return QPointF(x, y)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        fm = self.fontMetrics()
        rect = self._plot_rect(fm)
        x_min, x_max, y_max = self._ranges()
        text_color = pal.color(QPalette.ColorRole.Text)
        grid = QColor(text_color)
        grid.setAlpha(40)

        # grid lines and y labels at 0, 1/4 ... 1 of the range
        p.setPen(QPen(grid, 1))
        for i in range(5):
            y = rect.bottom() - i / 4 * rect.height()
            p.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
        p.setPen(text_color)
        for i in range(5):
            y = rect.bottom() - i / 4 * rect.height()
            label = f"{y_max * i / 4:.2f}"
            p.drawText(QRectF(0, y - fm.height() / 2, rect.left() - 6, fm.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        # axes
        p.setPen(QPen(text_color, 1))
        p.drawLine(rect.bottomLeft(), rect.bottomRight())
        p.drawLine(rect.bottomLeft(), rect.topLeft())
        # x labels: first and last step, and the axis name
        p.drawText(QRectF(rect.left() - 20, rect.bottom() + 4, 40, fm.height()), Qt.AlignmentFlag.AlignHCenter, "1")
        p.drawText(QRectF(rect.right() - 40, rect.bottom() + 4, 60, fm.height()),
                   Qt.AlignmentFlag.AlignHCenter, f"{int(x_max)}")
        p.drawText(QRectF(rect.left(), rect.bottom() + 4, rect.width(), fm.height()),
                   Qt.AlignmentFlag.AlignHCenter, self.tr("step"))
        p.drawText(QRectF(rect.left() + 6, rect.top(), rect.width(), fm.height()),
                   Qt.AlignmentFlag.AlignLeft, self.tr("loss"))

        if not self._points:
            p.setPen(grid.darker(200))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.tr("The loss appears here as training runs."))
            p.end()
            return
        poly = QPolygonF([self.map_point(s, loss) for s, loss in self._points])
        pen = QPen(LINE_COLOR, 2)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        if len(self._points) == 1:
            p.setBrush(LINE_COLOR)
            p.drawEllipse(poly[0], 3, 3)
        else:
            p.drawPolyline(poly)
        p.end()
