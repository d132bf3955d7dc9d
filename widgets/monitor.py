"""The Monitor panel: live GPU and host charts, and the memory planner."""
from __future__ import annotations

import time

from PySide6.QtCore import QT_TRANSLATE_NOOP, QTimer
from PySide6.QtWidgets import QGridLayout, QLabel, QTabWidget, QWidget

from app.context import AppContext
from services.memory.planner import GIB
from widgets.charts import TimeSeriesChart
from widgets.i18n import translate
from widgets.memory_planner import MemoryPlanner
from widgets.panel import Panel


class MonitorPanel(Panel):
    PANEL_ID = "monitor"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Live GPU and host memory charts and a memory planner.")
    REFRESH_MS = 500

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(context, parent)
        self.sampler = sampler = context.sampler()
        self.tabs = QTabWidget()
        self._layout.addWidget(self.tabs, 1)

        live = QWidget()
        grid = QGridLayout(live)
        self.gpu_note = QLabel()
        self.gpu_note.setWordWrap(True)
        grid.addWidget(self.gpu_note, 0, 0, 1, 2)
        self.gpu_mem = TimeSeriesChart(translate("Monitor", "GPU memory"), "GiB", scale=GIB)
        self.gpu_util = TimeSeriesChart(translate("Monitor", "GPU utilisation"), "%", y_max=100)
        self.host_mem = TimeSeriesChart(translate("Monitor", "Host RAM and job memory"), "GiB", scale=GIB)
        self.host_cpu = TimeSeriesChart(translate("Monitor", "Host CPU"), "%", y_max=100)
        grid.addWidget(self.gpu_mem, 1, 0)
        grid.addWidget(self.gpu_util, 1, 1)
        grid.addWidget(self.host_mem, 2, 0)
        grid.addWidget(self.host_cpu, 2, 1)
        self.tabs.addTab(live, translate("Monitor", "Live"))

        gpus = [(g.name, g.memory_total) for g in sampler.gpu.devices()] if sampler.gpu.available else []
        self.planner = MemoryPlanner(gpus)
        self.planner.planChanged.connect(self._plan_changed)
        self.tabs.addTab(self.planner, translate("Monitor", "Memory planner"))

        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(self.REFRESH_MS)
        self.refresh()

    def shown(self) -> None:
        """Offer the outputs of finished quantization jobs to the planner."""
        from pathlib import Path

        outputs = [(f"{Path(r.out).name} ({r.id})", r.out) for r in self.context.jobs().store.list()
                   if r.kind == "quantize" and r.status == "succeeded" and r.out and Path(r.out).is_dir()]
        self.planner.set_saved_outputs(outputs)

    def refresh(self) -> None:
        """Redraw the live charts from the sampler's ring buffers (cheap; runs on the UI thread)."""
        s = self.sampler
        reason = s.gpu_reason
        self.gpu_note.setText(
            translate("Monitor", "No GPU charts: %1. Showing the host only.").replace("%1", reason) if reason
            else translate("Monitor", "Sampling %1 GPU(s) and the host at %2 Hz.")
            .replace("%1", str(len(s.gpus))).replace("%2", f"{s.rate_hz:g}"))
        self.gpu_mem.setVisible(not reason)
        self.gpu_util.setVisible(not reason)
        now = time.monotonic()
        for name in s.names():
            times, values = s.series(name).snapshot()
            if name.endswith(".mem_used") and name.startswith("gpu"):
                self.gpu_mem.set_series(name.split(".")[0], times, values, now)
            elif name.endswith(".util"):
                self.gpu_util.set_series(name.split(".")[0], times, values, now)
            elif name == "host.ram_total" and values:
                self.host_mem.set_y_max(values[-1])
            elif name.endswith(".mem_total") and values:
                self.gpu_mem.set_y_max(max(self.gpu_mem.y_limit, values[-1]))
            elif name == "host.ram_used":
                self.host_mem.set_series(translate("Monitor", "host used"), times, values, now)
            elif name == "job.rss":
                self.host_mem.set_series(translate("Monitor", "job"), times, values, now)
            elif name == "host.cpu":
                self.host_cpu.set_series(translate("Monitor", "CPU"), times, values, now)

    def _plan_changed(self, plan) -> None:
        """Draw the planned weights and weights + KV budget on the live GPU memory chart."""
        self.gpu_mem.set_reference(translate("Monitor", "planned weights"), plan.weight_bytes_per_gpu if plan else None)
        self.gpu_mem.set_reference(
            translate("Monitor", "weights + KV budget"),
            plan.weight_bytes_per_gpu + plan.kv_budget_bytes if plan else None, colour="#059669")

    def shutdown(self) -> None:
        self.timer.stop()
