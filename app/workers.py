"""One way to run service calls off the UI thread.

    w = Worker(services.x.do_thing, arg, progress_every=0.05)
    w.progress.connect(bar.update); w.result.connect(show); w.error.connect(report)
    workers.start(w)

The callable is plain Python. It receives `progress=` (done, total, message) and `cancelled=`
(a function returning True once cancel was asked) when its signature takes them. It may raise
`services.progress.Cancelled` to stop early. Workers never touch widgets: they only emit signals,
which Qt queues to the receivers' (UI) thread.
"""
from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from services.progress import Cancelled

log = logging.getLogger("quantdesk.workers")


class Worker(QThread):
    progress = Signal(int, int, str)
    result = Signal(object)
    error = Signal(str, str)  # message, traceback
    cancelled = Signal()
    # QThread.finished is emitted when run() returns, after exactly one of result/error/cancelled.

    def __init__(self, fn: Callable[..., Any], *args: Any, name: str = "", **kwargs: Any):
        super().__init__()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._cancel = threading.Event()
        self._last_progress: tuple[int, str] | None = None
        self.name = name or getattr(fn, "__name__", "worker")
        self.setObjectName(self.name)

    # -- called from any thread
    def cancel(self) -> None:
        """Ask the callable to stop; it notices at its next `cancelled()` poll."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    # -- runs in the worker thread
    def _report(self, done: int, total: int, message: str = "") -> None:
        # Emit only when the whole percentage or the message changes, so the UI is not flooded.
        pct = int(100 * done / total) if total else -1
        key = (pct, message)
        if key != self._last_progress:
            self._last_progress = key
            self.progress.emit(int(done), int(total), message)

    def _call_kwargs(self) -> dict[str, Any]:
        import inspect

        kwargs = dict(self._kwargs)
        try:
            params = inspect.signature(self._fn).parameters
        except (TypeError, ValueError):
            params = {}
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        if "progress" in params or takes_any:
            kwargs.setdefault("progress", self._report)
        if "cancelled" in params or takes_any:
            kwargs.setdefault("cancelled", self.is_cancelled)
        return kwargs

    def run(self) -> None:
        try:
            value = self._fn(*self._args, **self._call_kwargs())
        except Cancelled:
            log.info("%s cancelled", self.name)
            self.cancelled.emit()
        except BaseException as exc:  # a job's failure must never take the GUI down
            tb = traceback.format_exc()
            log.error("%s failed: %s", self.name, exc)
            self.error.emit(str(exc) or type(exc).__name__, tb)
        else:
            if self.is_cancelled():
                self.cancelled.emit()
            else:
                self.result.emit(value)


class WorkerRegistry(QObject):
    """Tracks running workers so they can be cancelled and waited for at quit."""

    countChanged = Signal(int)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._running: list[Worker] = []

    def start(self, worker: Worker) -> Worker:
        self._running.append(worker)
        worker.finished.connect(lambda w=worker: self._done(w))
        worker.start()
        self.countChanged.emit(len(self._running))
        return worker

    def _done(self, worker: Worker) -> None:
        if worker in self._running:
            self._running.remove(worker)
            self.countChanged.emit(len(self._running))
        worker.deleteLater()

    def running(self) -> list[Worker]:
        """Workers whose thread has not finished (a finished one may await its queued cleanup)."""
        return [w for w in self._running if not w.isFinished()]

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel every worker and wait for each; return True when all stopped in time."""
        for w in self._running:
            w.cancel()
        ok = True
        for w in list(self._running):
            if not w.wait(timeout_ms):
                log.warning("worker %s did not stop within %d ms", w.name, timeout_ms)
                ok = False
        self._running = [w for w in self._running if not w.isFinished()]
        self.countChanged.emit(len(self._running))
        return ok


_registry: WorkerRegistry | None = None


def workers() -> WorkerRegistry:
    """The application-wide worker registry."""
    global _registry
    if _registry is None:
        _registry = WorkerRegistry()
        import atexit

        # a script or test that never quits the event loop still stops its workers before Qt is torn down
        # ("QThread: Destroyed while thread is still running" aborts the process)
        atexit.register(lambda: _registry is not None and _registry.shutdown(timeout_ms=3000))
    return _registry


def run_in_background(fn: Callable[..., Any], *args: Any, on_result=None, on_error=None,
                      on_progress=None, on_cancelled=None, name: str = "", **kwargs: Any) -> Worker:
    """Build a Worker, connect the given handlers and start it in the registry."""
    w = Worker(fn, *args, name=name, **kwargs)
    if on_result:
        w.result.connect(on_result)
    if on_error:
        w.error.connect(on_error)
    if on_progress:
        w.progress.connect(on_progress)
    if on_cancelled:
        w.cancelled.connect(on_cancelled)
    return workers().start(w)
