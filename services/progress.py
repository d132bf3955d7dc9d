"""The progress and cancel contract every long service function takes (Qt-free).

Service functions accept `progress: ProgressFn` and call it as progress(done, total, message).
They poll `cancelled()` between steps and raise `Cancelled` when it is true.
"""
from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[int, int, str], None]


class Cancelled(Exception):
    """Raised by a service function that stopped because the user cancelled."""


def no_progress(done: int, total: int, message: str = "") -> None:
    """A progress callback that ignores everything."""


def never_cancelled() -> bool:
    return False
