"""The Quantize panel."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from widgets.panel import PlannedPanel


class QuantizePanel(PlannedPanel):
    PANEL_ID = "quantize"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "AWQ W4A16 quantization jobs with per-layer progress.")
    PLANNED = QT_TRANSLATE_NOOP("Panels", "Planned: pick a model folder and calibration data, validate the settings before Start, and follow each layer with an ETA.")
