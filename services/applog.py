"""Logging set-up: rotating files in the user log dir and a RAM buffer of recent records.

One named logger per subsystem under "quantdesk". The RAM handler feeds the crash dialog, the
support bundle and the GUI's log dock (through listeners, so this module stays Qt-free).
"""
from __future__ import annotations

import collections
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_FILE = "quantdesk.log"


class RamHandler(logging.Handler):
    """Keeps the last `capacity` formatted records and tells listeners about each new one."""

    def __init__(self, capacity: int = 2000):
        super().__init__()
        self.records: collections.deque[str] = collections.deque(maxlen=capacity)
        self._listeners: list[Callable[[str, int], None]] = []
        self._lock_listeners = threading.Lock()
        self.setFormatter(logging.Formatter(FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a broken format argument must not break logging
            line = f"{record.levelname} {record.name}: {record.msg!r}"
        self.records.append(line)
        with self._lock_listeners:
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(line, record.levelno)
            except Exception:
                pass

    def add_listener(self, fn: Callable[[str, int], None]) -> None:
        with self._lock_listeners:
            self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[str, int], None]) -> None:
        with self._lock_listeners:
            if fn in self._listeners:
                self._listeners.remove(fn)

    def recent(self, n: int = 200) -> list[str]:
        return list(self.records)[-n:]


class RotatingFile(logging.FileHandler):
    """A size-rotated log file (quantdesk.log, .1 ... .N), like logging.handlers.RotatingFileHandler
    but without importing logging.handlers (sockets, pickle), which costs startup time."""

    def __init__(self, path: Path, max_bytes: int = 2_000_000, backups: int = 5):
        self.max_bytes, self.backups = max_bytes, backups
        super().__init__(path, encoding="utf-8", delay=True)

    def _rotate(self) -> None:
        if self.stream:
            self.stream.close()
            self.stream = None
        base = self.baseFilename
        for i in range(self.backups - 1, 0, -1):
            if os.path.exists(f"{base}.{i}"):
                os.replace(f"{base}.{i}", f"{base}.{i + 1}")
        if os.path.exists(base):
            os.replace(base, f"{base}.1")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.stream is None and os.path.exists(self.baseFilename):
                size = os.path.getsize(self.baseFilename)
            else:
                size = self.stream.tell() if self.stream else 0
            if size >= self.max_bytes:
                self._rotate()
        except OSError:
            pass  # a log file we cannot rotate must not stop the app; keep appending
        super().emit(record)


_ram: RamHandler | None = None


def ram_handler() -> RamHandler:
    """The process-wide RAM handler (installed on the "quantdesk" logger on first call)."""
    global _ram
    if _ram is None:
        _ram = RamHandler()
        logging.getLogger("quantdesk").addHandler(_ram)
    return _ram


def setup_logging(log_dir: Path, level: int = logging.INFO) -> Path:
    """Install the rotating file handler and the RAM handler; return the log file path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger("quantdesk")
    root.setLevel(level)
    path = log_dir / LOG_FILE
    for h in [h for h in root.handlers if isinstance(h, RotatingFile)]:
        if Path(h.baseFilename) == path.resolve():
            break
        root.removeHandler(h)  # a new log dir (tests, a changed QUANTDESK_HOME) replaces the old file
        h.close()
    else:
        fh = RotatingFile(path)
        fh.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(fh)
    ram_handler()
    return path
