"""Machine-wide job slots: file locks, so "jobs at once" holds across the app and CLI processes.

A slot is held by the process that started the job while the job runs; the OS releases the lock
when that process ends, however it ends.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import IO


class Slot:
    def __init__(self, path: Path, handle: IO[bytes]):
        self.path, self._handle = path, handle

    def release(self) -> None:
        if self._handle.closed:
            return
        try:
            _unlock(self._handle)
        finally:
            self._handle.close()


class NoSlot:
    """What a job that takes no slot holds (a server, an engine install)."""

    def release(self) -> None:
        pass


def try_lock(path: Path) -> Slot | None:
    """An exclusive lock on `path` for as long as this process holds it (None: another one does)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")
    if _try_lock(handle):
        return Slot(path, handle)
    handle.close()
    return None


class SlotPool:
    def __init__(self, folder: Path, size: int = 1):
        self.folder, self.size = folder, max(1, int(size))
        folder.mkdir(parents=True, exist_ok=True)

    def try_acquire(self) -> Slot | None:
        """A free slot, or None when `size` jobs already run on this machine."""
        for i in range(self.size):
            path = self.folder / f"slot-{i}.lock"
            handle = open(path, "a+b")
            if _try_lock(handle):
                return Slot(path, handle)
            handle.close()
        return None


if os.name == "nt":
    import msvcrt

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
            return True
        except OSError:
            return False

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
else:
    import fcntl

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
