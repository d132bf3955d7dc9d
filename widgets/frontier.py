"""The Evaluate panel's Frontier tab: every evaluated variant of a model at its serving bytes (weights + KV
cache at a chosen context) against its perplexity, the Pareto front highlighted; a click on a point names its
evaluation job; PNG and CSV export. The points come from services/evaluate/frontier.py."""
from __future__ import annotations

import html
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.context import AppContext
from services.evaluate import frontier
from widgets.charts import PALETTE, export_png, plot
from widgets.forms import spin
from widgets.i18n import translate
from widgets.jobtext import size_text
from widgets.theme import colour

GIB = 1024**3


class FrontierTab(QWidget):
    jobSelected = Signal(str)  # the eval job of a clicked point

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.service = context.jobs()
        self.all_points: list[frontier.Point] = []
        self.points: list[frontier.Point] = []  # the chosen model's
        self.front: list[int] = []
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.family = QComboBox()
        self.family.setMinimumContentsLength(30)
        self.family.currentIndexChanged.connect(self._render)
        self.kv_context = spin(1, 10_000_000, 4096, self.refresh)
        self.kv_context.setToolTip(translate("Frontier", "The KV cache is sized for one sequence of this many "
                                                         "tokens"))
        refresh = QPushButton(translate("Frontier", "Refresh"))
        refresh.clicked.connect(self.refresh)
        top.addWidget(QLabel(translate("Frontier", "Model")))
        top.addWidget(self.family, 1)
        top.addWidget(QLabel(translate("Frontier", "KV cache for (tokens)")))
        top.addWidget(self.kv_context)
        top.addWidget(refresh)
        layout.addLayout(top)
        self.chart = plot(translate("Frontier", "Quality against size"), translate("Frontier", "GiB (weights + KV cache)"),
                          translate("Frontier", "perplexity"))
        self.chart.getPlotItem().getViewBox().setDefaultPadding(0.12)  # room for the labels beside the points
        self.scatter = pg.ScatterPlotItem(hoverable=True)
        self.scatter.sigClicked.connect(self._clicked)
        self.front_line = pg.PlotDataItem(pen=pg.mkPen(PALETTE[1], width=2))
        self.chart.addItem(self.front_line)
        self.chart.addItem(self.scatter)
        layout.addWidget(self.chart, 1)
        bottom = QHBoxLayout()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.export_png_button = QPushButton(translate("Frontier", "Export PNG…"))
        self.export_png_button.clicked.connect(lambda: self._export("png"))
        self.export_csv_button = QPushButton(translate("Frontier", "Export CSV…"))
        self.export_csv_button.clicked.connect(lambda: self._export("csv"))
        # the keyboard's way to a point: pick it here and open it (the chart takes clicks only)
        self.point = QComboBox()
        self.point.setMinimumContentsLength(24)
        self.point.setToolTip(translate("Frontier", "A point of the chart (the front's first)"))
        self.open_point = QPushButton(translate("Frontier", "Open evaluation"))
        self.open_point.clicked.connect(lambda: self.point.currentIndex() >= 0 and self.select(self.point.currentData()))
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.point)
        bottom.addWidget(self.open_point)
        bottom.addWidget(self.export_png_button)
        bottom.addWidget(self.export_csv_button)
        layout.addLayout(bottom)
        self.refresh()

    def refresh(self, *_) -> None:
        """Read the finished evaluations again (kept: the chosen model, when it is still there)."""
        current = self.family.currentData()
        self.all_points, skipped = frontier.points_from_jobs(self.service.store.list(), self.kv_context.value())
        self.skipped = skipped
        self.family.blockSignals(True)
        self.family.clear()
        for fam in frontier.families(self.all_points):
            source, text, ctx = fam
            self.family.addItem(translate("Frontier", "%1 · %2 · context %3").replace("%1", Path(source).name)
                                .replace("%2", Path(text).name).replace("%3", str(ctx)), fam)
        index = self.family.findData(current) if current else 0
        self.family.setCurrentIndex(max(0, index))
        self.family.blockSignals(False)
        self._render()

    def _render(self, *_) -> None:
        fam = self.family.currentData()
        self.points = [p for p in self.all_points if p.family == fam] if fam else []
        self.front = frontier.front_of(self.points)
        on = set(self.front)
        spots = [{"pos": (p.total_bytes / GIB, p.perplexity), "data": i, "size": 12 if i in on else 8,
                  "brush": pg.mkBrush(PALETTE[1] if i in on else colour("muted")), "pen": pg.mkPen(colour("chart_fg") if i in on
                                                                                            else None),
                  "symbol": "o"} for i, p in enumerate(self.points)]
        self.scatter.setData(spots)
        for item in [i for i in self.chart.items() if isinstance(i, pg.TextItem)]:
            self.chart.removeItem(item)
        for i, p in enumerate(self.points):
            label = pg.TextItem(frontier.label(p), color=colour("chart_fg") if i in on else colour("muted"), anchor=(0, 1))
            label.setPos(p.total_bytes / GIB, p.perplexity)
            self.chart.addItem(label)
        ordered = sorted(self.front, key=lambda i: self.points[i].total_bytes)
        self.front_line.setData([self.points[i].total_bytes / GIB for i in ordered],
                                [self.points[i].perplexity for i in ordered])
        for b in (self.export_png_button, self.export_csv_button, self.open_point, self.point):
            b.setEnabled(bool(self.points))
        self.point.clear()
        for i in sorted(range(len(self.points)), key=lambda i: (i not in on, self.points[i].total_bytes)):
            p = self.points[i]
            self.point.addItem(f"{'★ ' if i in on else ''}{p.name} · {p.perplexity:.3f} · {size_text(p.total_bytes)}", i)
        if not self.points:
            self.status.setText(translate("Frontier", "No finished evaluation yet: run one in Compare models (add "
                                                      "simulated precisions and KV policies for more points)."))
            return
        text = translate("Frontier", "%1 variants, %2 on the front (red; nothing else is both smaller and better). "
                                     "Click a point, or pick it beside, to open its evaluation.") \
            .replace("%1", str(len(self.points))).replace("%2", str(len(self.front)))
        if self.skipped:
            text += "<br>" + html.escape(translate("Frontier", "Left out (model folder unreadable): %1")
                                         .replace("%1", "; ".join(self.skipped[:3])))
        self.status.setText(text)

    def _clicked(self, _item, spots, _event=None) -> None:
        if len(spots):
            self.select(int(spots[0].data()))

    def select(self, index: int) -> str:
        """Point `index` chosen: emit its evaluation job's id and return it."""
        p = self.points[index]
        self.status.setText(translate("Frontier", "%1: perplexity %2, %3 (weights %4 + KV %5), evaluation %6")
                            .replace("%1", p.name).replace("%2", f"{p.perplexity:.3f}")
                            .replace("%3", size_text(p.total_bytes)).replace("%4", size_text(p.weight_bytes))
                            .replace("%5", size_text(p.kv_bytes)).replace("%6", p.job))
        self.jobSelected.emit(p.job)
        return p.job

    def _export(self, kind: str) -> None:
        name = "frontier.png" if kind == "png" else "frontier.csv"
        path, _ = QFileDialog.getSaveFileName(self, translate("Frontier", "Export frontier"), name)
        if path:
            self.export(path, kind)

    def export(self, path: str, kind: str) -> bool:
        if kind == "png":
            ok = export_png(self.chart, path)
        else:
            Path(path).write_text(frontier.to_csv(self.points), encoding="utf-8-sig")  # BOM: Excel reads UTF-8
            ok = True
        self.status.setText(translate("Frontier", "Saved %1").replace("%1", path) if ok else
                            translate("Frontier", "Could not write %1").replace("%1", path))
        return ok
