"""Poll running servers' /metrics for KV-cache use, off the caller's thread, into ring buffers."""
from __future__ import annotations

import threading
import time

from services.serving import client
from services.serving.metrics import KvSample, kv_sample
from services.telemetry.ring import Ring


class KvWatcher:
    """`watch(urls)` sets the servers to follow; `series(url)` gives (times, used tokens); `latest(url)` the last sample."""

    def __init__(self, interval_s: float = 1.0, clock=time.monotonic):
        self.interval_s = interval_s
        self._clock = clock
        self._urls: set[str] = set()
        self._rings: dict[str, Ring] = {}
        self._latest: dict[str, KvSample] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, urls: list[str]) -> None:
        with self._lock:
            self._urls = set(urls)
            for gone in [u for u in self._rings if u not in self._urls]:
                self._rings.pop(gone, None)
                self._latest.pop(gone, None)
        if urls and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kv-watch", daemon=True)
            self._thread.start()

    def poll_once(self) -> None:
        with self._lock:
            urls = list(self._urls)
        for url in urls:
            status, body = client.get(url.rstrip("/") + "/metrics", timeout=2)
            sample = kv_sample(body) if status == 200 else None
            if sample is None:
                continue
            with self._lock:
                if url not in self._urls:
                    continue
                self._latest[url] = sample
                if sample.used_tokens is not None:  # engines that report only a share: latest() has it
                    self._rings.setdefault(url, Ring()).append(self._clock(), sample.used_tokens)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.poll_once()

    def series(self, url: str) -> tuple[list[float], list[float]]:
        with self._lock:
            ring = self._rings.get(url)
            return ring.snapshot() if ring else ([], [])

    def latest(self, url: str) -> KvSample | None:
        with self._lock:
            return self._latest.get(url)

    def close(self) -> None:
        self._stop.set()
