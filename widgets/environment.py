"""The Environment panel."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from widgets.panel import PlannedPanel


class EnvironmentPanel(PlannedPanel):
    PANEL_ID = "environment"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Checks of CUDA, the driver, MSVC x64, ninja, the Windows SDK and flash-attn, with one-click fixes.")
    PLANNED = QT_TRANSLATE_NOOP("Panels", "Planned: every check in one screen, a Fix button where one applies, the captured MSVC x64 environment applied to every job, launcher scripts, and a Markdown report.")
