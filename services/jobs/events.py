"""The runner's side of the job protocol: one JSON object per line on the saved stdout."""
from __future__ import annotations

import json
import threading
import time
from typing import IO


class JobFailure(Exception):
    """A job failed for a reason the user can act on: message plus a hint."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


class Emitter:
    def __init__(self, stream: IO[str]):
        self._stream = stream
        self._lock = threading.Lock()

    def emit(self, event: dict) -> None:
        line = json.dumps(event, ensure_ascii=False, default=str)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def stage(self, name: str, message: str = "") -> None:
        self.emit({"type": "stage", "name": name, "message": message})

    def progress(self, done: int, total: int, unit: str = "", message: str = "", eta_s: float | None = None) -> None:
        self.emit({"type": "progress", "done": done, "total": total, "unit": unit, "message": message,
                   "eta_s": None if eta_s is None else round(eta_s, 1)})

    def log(self, message: str, level: str = "INFO") -> None:
        self.emit({"type": "log", "level": level, "message": message})

    def metric(self, name: str, value: float, **labels) -> None:
        self.emit({"type": "metric", "name": name, "value": value, "labels": labels})

    def artifact(self, path: str, kind: str) -> None:
        self.emit({"type": "artifact", "path": path, "kind": kind})

    def result(self, ok: bool, summary: dict) -> None:
        self.emit({"type": "result", "ok": ok, "summary": summary})

    def error(self, message: str, hint: str = "", traceback: str = "") -> None:
        self.emit({"type": "error", "message": message, "hint": hint, "traceback": traceback})


class Eta:
    """Remaining time from the mean duration of the steps done so far."""

    def __init__(self, total: int, clock=time.monotonic):
        self.total, self._clock = total, clock
        self.started = clock()

    def remaining(self, done: int) -> float | None:
        if done <= 0:
            return None
        return (self._clock() - self.started) / done * (self.total - done)
