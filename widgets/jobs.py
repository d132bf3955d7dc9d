"""The Jobs panel."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from widgets.panel import PlannedPanel


class JobsPanel(PlannedPanel):
    PANEL_ID = "jobs"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "The job queue and history.")
    PLANNED = QT_TRANSLATE_NOOP("Panels", "Planned: every quantization, evaluation and export job with its status, progress, log, Cancel and Re-run.")
