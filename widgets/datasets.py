"""The Datasets panel."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from widgets.panel import PlannedPanel


class DatasetsPanel(PlannedPanel):
    PANEL_ID = "datasets"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Calibration text from hub names, local files and folders, with preview and token statistics.")
    PLANNED = QT_TRANSLATE_NOOP("Panels", "Planned: pileval, wikitext2, c4, ptb, cnn_dailymail and local .txt/.jsonl/.parquet/.csv files (UTF-8, UTF-16, GBK), preview, a token-length histogram and reproducible sampling.")
