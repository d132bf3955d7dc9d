"""The runner's side of the job protocol: typed events, one JSON object per line on the saved stdout."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import IO

from services.jobs import protocol as p


class JobFailure(Exception):
    """A job failed for a reason the user can act on: message plus a hint.

    `bad_input`: the input was wrong (the runner exits 2, like the CLI), not the job.
    """

    def __init__(self, message: str, hint: str = "", bad_input: bool = False):
        super().__init__(message)
        self.hint = hint
        self.bad_input = bad_input


class JobCancelled(Exception):
    """Raised at the next step after a stop was requested (cancel, or the parent is gone)."""


class Emitter:
    """Writes events; `stage` and `progress` are also the points where a requested stop is honoured."""

    def __init__(self, stream: IO[str], stop_requested: Callable[[], str | None] = lambda: None):
        self._stream = stream
        self._lock = threading.Lock()
        self._stop = stop_requested
        self._closed = False

    def send(self, event: p.Event) -> None:
        line = p.to_line(event)
        with self._lock:
            if self._closed:
                return
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (OSError, ValueError):  # the reader is gone (its process died): the job stops at its next step
                self._closed = True

    def check(self) -> None:
        """Raise JobCancelled when a stop was requested; call it between steps."""
        reason = self._stop()
        if reason:
            raise JobCancelled(reason)

    def stage(self, name: str, message: str = "") -> None:
        self.check()
        self.send(p.Stage(name, message))

    def progress(self, done: int, total: int, unit: str = "", message: str = "", eta_s: float | None = None) -> None:
        self.send(p.Progress(int(done), int(total), unit, message, None if eta_s is None else round(eta_s, 1)))
        self.check()

    def log(self, message: str, level: str = "INFO") -> None:
        self.send(p.Log(message, level))

    def metric(self, name: str, value: float, **labels) -> None:
        self.send(p.Metric(name, value, labels))

    def artifact(self, path: str, kind: str) -> None:
        self.send(p.Artifact(str(path), kind))

    def result(self, ok: bool, summary: dict) -> None:
        self.send(p.Result(ok, summary))

    def error(self, message: str, hint: str = "", traceback: str = "", bad_input: bool = False) -> None:
        self.send(p.Error(message, hint, traceback, bad_input))

    def cancelled(self, reason: str) -> None:
        self.send(p.Cancelled(reason))


class Eta:
    """Remaining time from the mean duration of the steps done so far."""

    def __init__(self, total: int, clock=time.monotonic):
        self.total, self._clock = total, clock
        self.started = clock()

    def remaining(self, done: int) -> float | None:
        if done <= 0:
            return None
        return (self._clock() - self.started) / done * (self.total - done)
