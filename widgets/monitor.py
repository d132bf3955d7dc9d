"""The Monitor panel."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from widgets.panel import PlannedPanel


class MonitorPanel(PlannedPanel):
    PANEL_ID = "monitor"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Live GPU and host memory charts and a memory planner.")
    PLANNED = QT_TRANSLATE_NOOP("Panels", "Planned: what fits on your card before you load it (weights, KV cache per policy and engine) and live VRAM charts while jobs run.")
