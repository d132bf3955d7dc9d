"""A read-only, bounded view of log lines, coloured by level."""
from __future__ import annotations

import html
import logging

from PySide6.QtWidgets import QPlainTextEdit, QWidget

from widgets import theme


class LogView(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None, max_lines: int = 5000):
        super().__init__(parent)
        self.setObjectName("logView")
        self.setReadOnly(True)
        self.setMaximumBlockCount(max_lines)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)  # a long line wraps, never hides

    def append_line(self, line: str, level: int = logging.INFO) -> None:
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        colour = theme.colour("error") if level >= logging.ERROR else theme.colour("warn") if level >= logging.WARNING \
            else None
        text = html.escape(line).replace("\n", "<br>")
        self.appendHtml(f'<span style="color:{colour}">{text}</span>' if colour else f"<span>{text}</span>")
        if at_end:
            bar.setValue(bar.maximum())
