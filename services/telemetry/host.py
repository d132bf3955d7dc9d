"""The host: CPU, RAM, and the resident memory of a job's whole process tree (psutil)."""
from __future__ import annotations

from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class HostSample:
    cpu_percent: float
    ram_used: int
    ram_total: int


def host_sample() -> HostSample:
    vm = psutil.virtual_memory()
    return HostSample(psutil.cpu_percent(interval=None), int(vm.total - vm.available), int(vm.total))


class ProcessTree:
    """Resident memory of a process and its descendants; the (costly) search for descendants,
    which reads every process on the machine, runs only every `rescan_s` seconds."""

    def __init__(self, pid: int, rescan_s: float = 5.0, clock=None):
        import time

        self.pid = pid
        self.rescan_s = rescan_s
        self._clock = clock or time.monotonic
        self._procs: list[psutil.Process] = []
        self._scanned = float("-inf")

    def rss(self) -> int | None:
        """Bytes resident in the tree now, or None when the root process is gone."""
        now = self._clock()
        if now - self._scanned >= self.rescan_s:
            try:
                root = psutil.Process(self.pid)
                self._procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                return None
            self._scanned = now
        total, alive = 0, []
        for p in self._procs:
            try:
                total += p.memory_info().rss
                alive.append(p)
            except psutil.Error:
                pass
        if not alive or alive[0].pid != self.pid:
            return None
        self._procs = alive
        return total


def tree_rss(pid: int) -> int | None:
    """Resident bytes of `pid` and all its children now, or None when the process is gone."""
    return ProcessTree(pid).rss()
