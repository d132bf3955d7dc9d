"""A read-only, bounded view of log lines, coloured by level."""
from __future__ import annotations

import html
import logging

from PySide6.QtWidgets import QPlainTextEdit, QWidget

_COLOURS = ((logging.ERROR, "#c62828"), (logging.WARNING, "#b26a00"))


class LogView(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None, max_lines: int = 5000):
        super().__init__(parent)
        self.setObjectName("logView")
        self.setReadOnly(True)
        self.setMaximumBlockCount(max_lines)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)

    def append_line(self, line: str, level: int = logging.INFO) -> None:
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        colour = next((c for lv, c in _COLOURS if level >= lv), None)
        text = html.escape(line).replace("\n", "<br>")
        self.appendHtml(f'<span style="color:{colour}">{text}</span>' if colour else f"<span>{text}</span>")
        if at_end:
            bar.setValue(bar.maximum())
