"""The panels of the main window, in navigation order.

Panel modules are imported only when a panel is first shown, so startup pays for one panel,
not eight (and heavy ones such as the live charts load on demand).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP

from widgets.i18n import translate

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext


@dataclass(frozen=True)
class PanelInfo:
    id: str
    title_source: str  # English; translated through the "Panels" context
    target: str  # "module:Class"

    @property
    def title(self) -> str:
        return translate("Panels", self.title_source)

    def load(self) -> type:
        module, cls = self.target.split(":")
        return getattr(importlib.import_module(module), cls)

    def build(self, context: AppContext) -> QWidget:
        """Import the panel's module and build the panel over `context`."""
        return self.load()(context)


PANELS: list[PanelInfo] = [
    PanelInfo("overview", QT_TRANSLATE_NOOP("Panels", "Overview"), "widgets.overview:OverviewPanel"),
    PanelInfo("environment", QT_TRANSLATE_NOOP("Panels", "Environment"), "widgets.environment:EnvironmentPanel"),
    PanelInfo("datasets", QT_TRANSLATE_NOOP("Panels", "Datasets"), "widgets.datasets:DatasetsPanel"),
    PanelInfo("quantize", QT_TRANSLATE_NOOP("Panels", "Quantize"), "widgets.quantize:QuantizePanel"),
    PanelInfo("evaluate", QT_TRANSLATE_NOOP("Panels", "Evaluate"), "widgets.evaluate:EvaluatePanel"),
    PanelInfo("targets", QT_TRANSLATE_NOOP("Panels", "Targets"), "widgets.targets:TargetsPanel"),
    PanelInfo("monitor", QT_TRANSLATE_NOOP("Panels", "Monitor"), "widgets.monitor:MonitorPanel"),
    PanelInfo("jobs", QT_TRANSLATE_NOOP("Panels", "Jobs"), "widgets.jobs:JobsPanel"),
]
PANEL_IDS = [p.id for p in PANELS]
BY_ID = {p.id: p for p in PANELS}
