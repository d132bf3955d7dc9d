"""Carries log records from any thread to the UI thread as a Qt signal."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from services.applog import ram_handler


class LogBridge(QObject):
    line = Signal(str, int)  # formatted record, level

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._handler = ram_handler()
        self._handler.add_listener(self._emit)
        self.destroyed.connect(lambda *_: self._handler.remove_listener(self._emit))

    def _emit(self, line: str, level: int) -> None:
        self.line.emit(line, level)

    def detach(self) -> None:
        self._handler.remove_listener(self._emit)

    def recent(self) -> list[str]:
        return self._handler.recent(500)
