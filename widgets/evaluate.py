"""The Evaluate panel."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from widgets.panel import PlannedPanel


class EvaluatePanel(PlannedPanel):
    PANEL_ID = "evaluate"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Perplexity, answer comparison and KV-cache int8/int4/fp8 quality.")
    PLANNED = QT_TRANSLATE_NOOP("Panels", "Planned: compare the original model, the quantized model and each KV-cache policy on the same text and prompts.")
