"""The Monitor panel: live GPU and host charts, and the memory planner."""
from __future__ import annotations

import time

from PySide6.QtCore import QT_TRANSLATE_NOOP, QTimer
from PySide6.QtWidgets import QGridLayout, QLabel, QTabWidget, QWidget

from app.context import AppContext
from services.memory.planner import GIB
from services.serving.kvwatch import KvWatcher
from widgets.charts import TimeSeriesChart
from widgets.i18n import translate
from widgets.memory_planner import MemoryPlanner
from widgets.panel import Panel
from widgets.service_text import translate_service
from widgets.theme import colour


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
        self.kv = TimeSeriesChart(translate("Monitor", "Server KV cache in use"), translate("Monitor", "tokens"))
        self.kv_note = QLabel()
        self.kv_note.setWordWrap(True)
        grid.addWidget(self.kv, 3, 0, 1, 2)
        grid.addWidget(self.kv_note, 4, 0, 1, 2)
        self.kv.setVisible(False)
        self.kv_note.setVisible(False)
        self.kv_watch = KvWatcher()
        self.servers: dict[str, tuple[str, float | None]] = {}  # url -> (job id, the planned pool in tokens)
        self._ticks = 0
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
            translate("Monitor", "No GPU charts: %1. Showing the host only.").replace("%1", translate_service(reason))
            if reason
            else translate("Monitor", "Sampling %1 GPU(s) and the host at %2 Hz.")
            .replace("%1", str(len(s.gpus))).replace("%2", f"{s.rate_hz:g}"))
        self.gpu_mem.setVisible(not reason)
        self.gpu_util.setVisible(not reason)
        now = time.monotonic()
        if self._ticks % 4 == 0:
            self.refresh_servers()
        self._ticks += 1
        self.draw_kv(now)
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

    def find_servers(self) -> dict[str, tuple[str, float | None]]:
        """Running serve jobs whose engine answers: their URL, job id and the pool their export planned."""
        store = self.context.jobs().store
        found: dict[str, tuple[str, float | None]] = {}
        for r in store.list(50):
            if r.kind != "serve" or r.status != "running":
                continue
            url, pool = None, None
            for e in store.events(r.id):
                if e.get("type") == "artifact" and e.get("kind") == "server":
                    url = str(e.get("path"))
                elif e.get("type") == "metric" and e.get("name") == "kv_pool_tokens":
                    pool = float(e.get("value") or 0) or None
            if url:
                found[url] = (r.id, pool)
        return found

    def refresh_servers(self) -> None:
        self.servers = self.find_servers()
        self.kv_watch.watch(list(self.servers))

    def draw_kv(self, now: float) -> None:
        self.kv.setVisible(bool(self.servers))
        self.kv_note.setVisible(bool(self.servers))
        notes = []
        for url, (job_id, pool) in self.servers.items():
            times, values = self.kv_watch.series(url)
            self.kv.set_series(job_id, times, values, now)
            latest = self.kv_watch.latest(url)
            self.kv.set_reference(translate("Monitor", "engine pool"), latest.capacity_tokens if latest else None)
            self.kv.set_reference(translate("Monitor", "planned pool"), pool, colour=colour("ok"), label_at=0.5)
            if latest is None:
                notes.append(translate("Monitor", "%1: the engine reports no KV-cache metrics").replace("%1", url))
            elif latest.usage is not None:
                notes.append(translate("Monitor", "%1: %2 of the KV cache in use").replace("%1", url)
                             .replace("%2", f"{latest.usage:.0%}"))
        for gone in [n for n in self.kv.curves if n not in {j for j, _ in self.servers.values()}]:
            self.kv.removeItem(self.kv.curves.pop(gone))
        self.kv_note.setText("\n".join(notes))

    def _plan_changed(self, plan) -> None:
        """Draw the planned weights and weights + KV budget on the live GPU memory chart."""
        self.gpu_mem.set_reference(translate("Monitor", "planned weights"), plan.weight_bytes_per_gpu if plan else None)
        self.gpu_mem.set_reference(
            translate("Monitor", "weights + KV budget"),
            plan.weight_bytes_per_gpu + plan.kv_budget_bytes if plan else None, colour=colour("ok"))

    def open_with(self, model: str | None = None, **_) -> None:
        """From another panel: the memory planner on a model (a finished quantize output)."""
        if model:
            self.tabs.setCurrentWidget(self.planner)
            self.planner.load_model(model)

    def retheme(self) -> None:
        if self.planner.plan is not None:
            self.planner.replan()  # its headline and warnings carry the theme's colours

    def shutdown(self) -> None:
        self.timer.stop()
        self.kv_watch.close()
