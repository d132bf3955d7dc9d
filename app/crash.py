"""One crash path: excepthooks show a dialog with the recent log; faulthandler catches hard crashes.

Unhandled Python exceptions (main thread or any other) are logged with their traceback to the
log file and shown in a crash dialog with the last log lines. Hard crashes (segfaults in Qt or a
native library) are written by faulthandler to crash.log; when that file is non-empty at the
next start, it is moved aside and offered to the user.
"""
from __future__ import annotations

import faulthandler
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from services.applog import ram_handler

log = logging.getLogger("quantdesk.crash")

CRASH_FILE = "crash.log"


class _Bridge(QObject):
    """Carries a crash report from any thread to the UI thread."""

    report = Signal(str, str, str)  # title, traceback, recent log


class CrashHandler:
    def __init__(self, log_dir: Path, show: Callable[[str, str, str], None] | None = None):
        self.log_dir = log_dir
        self._show = show
        self._bridge = _Bridge()
        if show:
            self._bridge.report.connect(show)
        self._fault_file = None
        self.previous_crash: Path | None = None
        self.reports: list[tuple[str, str]] = []  # (title, traceback) of every handled crash

    def install(self) -> None:
        ram_handler()  # start keeping recent records for the dialog
        self.previous_crash = self._take_previous_crash()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._fault_file = open(self.log_dir / CRASH_FILE, "w", encoding="utf-8")
        faulthandler.enable(file=self._fault_file, all_threads=True)
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook

    def uninstall(self) -> None:
        """Restore the default hooks and leave an empty crash.log (a clean exit)."""
        sys.excepthook = sys.__excepthook__
        threading.excepthook = threading.__excepthook__
        if self._fault_file:
            faulthandler.disable()
            self._fault_file.close()
            self._fault_file = None

    def _take_previous_crash(self) -> Path | None:
        """Move a non-empty crash.log from the last run aside and return its new path."""
        path = self.log_dir / CRASH_FILE
        try:
            if path.exists() and path.stat().st_size > 0:
                kept = self.log_dir / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.log"
                path.replace(kept)
                return kept
        except OSError as exc:
            log.warning("could not read the previous crash file: %s", exc)
        return None

    def handle(self, exc_type, exc, tb, where: str = "main thread") -> None:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        title = f"{exc_type.__name__} in {where}: {exc}"
        log.critical("unhandled exception in %s\n%s", where, text)
        self.reports.append((title, text))
        recent = "\n".join(ram_handler().recent(100))
        self._bridge.report.emit(title, text, recent)

    def _excepthook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.handle(exc_type, exc, tb)

    def _thread_excepthook(self, args) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread else "a thread"
        self.handle(args.exc_type, args.exc_value, args.exc_traceback, where=f"thread {name}")
