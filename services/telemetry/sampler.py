"""A background thread that samples GPUs and the host into named ring buffers.

Series: gpu{i}.mem_used / gpu{i}.mem_total (bytes), gpu{i}.util (%), gpu{i}.temp (C),
gpu{i}.power (W), host.cpu (%), host.ram_used / host.ram_total (bytes), job.rss (bytes, while a
job pid is set). Readers poll `series(name)`; the sampler never calls back into the GUI.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from services.messages import msg
from services.telemetry.gpu import GpuSample, NvmlReader
from services.telemetry.host import HostSample, ProcessTree, host_sample
from services.telemetry.ring import Ring

log = logging.getLogger("quantdesk.telemetry")


class Sampler:
    def __init__(self, rate_hz: float = 2.0, capacity: int = 600, gpu: NvmlReader | None = None,
                 host: Callable[[], HostSample] = host_sample, clock: Callable[[], float] = time.monotonic):
        if rate_hz <= 0:
            raise ValueError(msg("sampling rate must be above 0 Hz"))
        self.rate_hz = rate_hz
        self.capacity = capacity
        self.gpu = gpu if gpu is not None else NvmlReader()
        self._host = host
        self._clock = clock
        self._series: dict[str, Ring] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._job: ProcessTree | None = None
        self.gpus: list[GpuSample] = []  # the latest reading, for names and processes
        self.cpu_seconds = 0.0  # CPU time the sampling itself used (for the overhead figure)
        self.samples = 0

    @property
    def job_pid(self) -> int | None:
        return self._job.pid if self._job else None

    @job_pid.setter
    def job_pid(self, pid: int | None) -> None:
        """Follow the memory of this process tree (a running job's runner), or none."""
        self._job = ProcessTree(pid) if pid is not None else None

    # -- reading
    def series(self, name: str) -> Ring:
        with self._lock:
            ring = self._series.get(name)
            if ring is None:
                ring = self._series[name] = Ring(self.capacity)
            return ring

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._series)

    @property
    def gpu_reason(self) -> str:
        """Why there are no GPU series ('' when there are)."""
        return "" if self.gpu.available else self.gpu.reason

    # -- sampling
    def sample_once(self) -> None:
        t0 = time.thread_time()
        now = self._clock()
        try:
            gpus = self.gpu.devices()
        except Exception as exc:  # a GPU that falls off the bus must not stop host sampling
            log.warning("GPU sampling failed: %s", exc)
            gpus = []
        self.gpus = gpus
        for g in gpus:
            p = f"gpu{g.index}."
            self.series(p + "mem_used").append(now, g.memory_used)
            self.series(p + "mem_total").append(now, g.memory_total)
            for key, value in (("util", g.utilization), ("temp", g.temperature), ("power", g.power_w)):
                if value is not None:
                    self.series(p + key).append(now, value)
        h = self._host()
        self.series("host.cpu").append(now, h.cpu_percent)
        self.series("host.ram_used").append(now, h.ram_used)
        self.series("host.ram_total").append(now, h.ram_total)
        job = self._job
        if job is not None:
            rss = job.rss()
            if rss is not None:
                self.series("job.rss").append(now, rss)
        self.samples += 1
        self.cpu_seconds += time.thread_time() - t0

    def _run(self) -> None:
        period = 1.0 / self.rate_hz
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.sample_once()
            except Exception as exc:
                log.warning("sampling failed: %s", exc)
            self._stop.wait(max(0.0, period - (time.monotonic() - started)))

    def start(self) -> Sampler:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="telemetry-sampler", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
