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


def tree_rss(pid: int) -> int | None:
    """Resident bytes of `pid` and all its children, or None when the process is gone."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total
