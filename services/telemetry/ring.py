"""A fixed-size, thread-safe buffer of (time, value) samples."""
from __future__ import annotations

import collections
import threading


class Ring:
    def __init__(self, capacity: int = 600):
        self._data: collections.deque[tuple[float, float]] = collections.deque(maxlen=capacity)
        self._lock = threading.Lock()

    def append(self, t: float, value: float) -> None:
        with self._lock:
            self._data.append((t, value))

    def snapshot(self) -> tuple[list[float], list[float]]:
        """(times, values), oldest first; a copy the caller may keep."""
        with self._lock:
            data = list(self._data)
        return [t for t, _ in data], [v for _, v in data]

    def last(self) -> float | None:
        with self._lock:
            return self._data[-1][1] if self._data else None

    def __len__(self) -> int:
        return len(self._data)
