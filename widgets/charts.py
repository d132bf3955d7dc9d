"""Reusable pyqtgraph charts: live time series fed from ring buffers, reference lines, export."""
from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from widgets import theme

pg.setConfigOptions(antialias=True, background=theme.colour("chart_bg"), foreground=theme.colour("chart_fg"))  # theme.apply updates it

PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"]


def plot(title: str = "", x_label: str = "", y_label: str = "", legend: bool = False) -> pg.PlotWidget:
    """A static chart in the house style (white, grid, no mouse zoom)."""
    w = pg.PlotWidget(title=title or None)
    if x_label:
        w.setLabel("bottom", x_label)
    if y_label:
        w.setLabel("left", y_label)
    for axis in ("left", "bottom"):
        w.getAxis(axis).enableAutoSIPrefix(False)
    w.showGrid(x=True, y=True, alpha=0.2)
    w.setMouseEnabled(x=False, y=False)
    if legend:
        w.addLegend(offset=(8, 8))
    return w


class TimeSeriesChart(pg.PlotWidget):
    """Named curves over time (seconds before now on the x axis), values scaled by `scale`."""

    def __init__(self, title: str, unit: str, scale: float = 1.0, window_s: float = 120.0,
                 y_max: float | None = None, parent: QWidget | None = None):
        super().__init__(parent=parent)
        self.unit_scale = scale
        self.setTitle(title)
        self.setLabel("left", unit)
        self.setLabel("bottom", "s")
        for axis in ("left", "bottom"):
            self.getAxis(axis).enableAutoSIPrefix(False)
        self.setXRange(-window_s, 0, padding=0)
        self.set_y_max(y_max)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.addLegend(offset=(8, 8))
        self.setMouseEnabled(x=False, y=False)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.refs: dict[str, pg.InfiniteLine] = {}

    def set_y_max(self, value: float | None) -> None:
        """Fix the y axis to [0, value] (unscaled); None lets it follow the data from 0."""
        self.y_limit = value or 0.0
        if value is None:
            self.enableAutoRange(axis="y")
            self.setLimits(yMin=0)
        else:
            self.setYRange(0, value / self.unit_scale, padding=0.05)

    def set_series(self, name: str, times: list[float], values: list[float], now: float) -> None:
        curve = self.curves.get(name)
        if curve is None:
            colour = PALETTE[len(self.curves) % len(PALETTE)]
            curve = self.curves[name] = self.plot([], [], name=name, pen=pg.mkPen(colour, width=2))
        curve.setData([t - now for t in times], [v / self.unit_scale for v in values])

    def set_reference(self, name: str, value: float | None, colour: str | None = None, label_at: float = 0.05) -> None:
        """A dashed horizontal line at `value` (unscaled); None removes it."""
        line = self.refs.get(name)
        if value is None:
            if line is not None:
                self.removeItem(line)
                del self.refs[name]
            return
        colour = colour or theme.colour("muted")
        if line is None:
            line = self.refs[name] = pg.InfiniteLine(
                angle=0, pen=pg.mkPen(colour, width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
                label=name, labelOpts={"position": label_at, "color": colour, "anchors": [(0, 1), (0, 1)]})
            self.addItem(line)
        line.setValue(value / self.unit_scale)


def export_png(widget: QWidget, path: Path | str) -> bool:
    """Save what `widget` shows as a PNG; return True when written."""
    return widget.grab().save(str(path), "PNG")
