"""The Targets panel."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from widgets.panel import PlannedPanel


class TargetsPanel(PlannedPanel):
    PANEL_ID = "targets"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Export and compile for vLLM, LMDeploy, transformers, GGUF and the Edge10 NPU toolchain.")
    PLANNED = QT_TRANSLATE_NOOP("Panels", "Planned: a ready command or compiled artifact for each serving engine, with its prerequisites checked.")
