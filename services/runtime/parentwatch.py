"""Runner side: notice a stop request or that the parent is gone, and stop within 2 s.

A stop is requested by a `cancel` line on stdin (the local executor), or a cancel file (another
QuantDesk process, a remote executor). The parent is gone when stdin reaches end of file (the
pipe's other end closed: the parent exited or was killed) or, without a stdin pipe, when the
parent pid is no longer alive. Then the job gets `grace_s` to stop at its next step before
`on_orphan` ends the process.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

PARENT_GONE = "the QuantDesk process that started this job is gone"
CANCELLED = "cancelled by the user"


def cancel_file(spec_path: Path) -> Path:
    """The file whose appearance asks the job of `spec_path` to stop."""
    return spec_path.with_suffix(".cancel")


class StopWatch:
    def __init__(self, *, stdin_fd: int | None = None, cancel_file: Path | None = None,
                 parent_pid: int | None = None, on_orphan: Callable[[], None] | None = None,
                 grace_s: float = 1.0, poll_s: float = 0.2, ancestor: tuple[int, float] | None = None):
        self.reason: str | None = None
        self._ancestor = ancestor  # (pid, create time) of a process further up that must outlive the job
        self._cancel_file = cancel_file
        self._parent = parent_pid
        self._on_orphan = on_orphan
        self._grace = grace_s
        self._poll = poll_s
        self._stopped = threading.Event()
        if stdin_fd is not None:
            threading.Thread(target=self._read_stdin, args=(stdin_fd,), name="stdin-watch", daemon=True).start()
        threading.Thread(target=self._poll_loop, name="parent-watch", daemon=True).start()

    def requested(self) -> str | None:
        return self.reason

    def request(self, reason: str = CANCELLED) -> None:
        """Ask the job to stop at its next step (a signal handler's way in)."""
        self._request(reason)

    def close(self) -> None:
        self._stopped.set()

    def _request(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
            if reason == PARENT_GONE and self._on_orphan is not None:
                timer = threading.Timer(self._grace, self._orphan)
                timer.daemon = True
                timer.start()

    def _orphan(self) -> None:
        if not self._stopped.is_set() and self._on_orphan is not None:
            self._on_orphan()

    def _read_stdin(self, fd: int) -> None:
        # os.read, not sys.stdin: a daemon thread blocked in a buffered reader aborts interpreter shutdown
        pending = b""
        try:
            while chunk := os.read(fd, 256):
                pending += chunk
                if b"cancel" in pending:
                    self._request(CANCELLED)
                pending = pending[-16:]
        except OSError:
            pass
        self._request(PARENT_GONE)

    def _poll_loop(self) -> None:
        while not self._stopped.wait(self._poll):
            if self._cancel_file is not None and self._cancel_file.exists():
                self._request(CANCELLED)
            if self._parent is not None and not _alive(self._parent):
                self._request(PARENT_GONE)
            if self._ancestor is not None and not _same_process(*self._ancestor):
                self._request(PARENT_GONE)


def _same_process(pid: int, started: float) -> bool:
    import psutil

    try:
        p = psutil.Process(pid)
        return abs(p.create_time() - started) < 1.0 and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def ray_supervisor() -> tuple[int, float] | None:
    """(pid, create time) of the Ray job supervisor above this process (ray::JobSupervisor), if there is one:
    when the cluster's node dies, the job must not go on as an orphan."""
    import psutil

    try:
        for p in psutil.Process().parents():
            if p.name().startswith("ray::") or " ".join(p.cmdline()[:1]).startswith("ray::"):
                return p.pid, p.create_time()
    except psutil.Error:
        return None
    return None


def _alive(pid: int) -> bool:
    if os.name != "nt" and os.getppid() != pid:
        return False  # re-parented: the parent died
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False

