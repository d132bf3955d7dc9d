"""A fake of the pynvml module: GPUs described by plain dicts, memory that can change."""
from __future__ import annotations

from types import SimpleNamespace

GIB = 1024**3


class NVMLError(Exception):
    pass


class FakeNvml:
    def __init__(self, gpus: list[dict] | None = None, driver: str = "560.94", fail_init: str | None = None):
        self.gpus = gpus or []
        self.driver = driver
        self.fail_init = fail_init
        self.calls = 0

    def nvmlInit(self):
        if self.fail_init:
            raise NVMLError(self.fail_init)

    def nvmlShutdown(self):
        pass

    def nvmlSystemGetDriverVersion(self):
        return self.driver

    def nvmlDeviceGetCount(self):
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetName(self, h):
        return self.gpus[h]["name"].encode()

    def nvmlDeviceGetMemoryInfo(self, h):
        self.calls += 1
        g = self.gpus[h]
        return SimpleNamespace(total=g["total"], used=g.get("used", 0), free=g["total"] - g.get("used", 0))

    def nvmlDeviceGetUtilizationRates(self, h):
        return SimpleNamespace(gpu=self.gpus[h].get("util", 0), memory=0)

    def nvmlDeviceGetTemperature(self, h, sensor):
        return self.gpus[h].get("temp", 40)

    def nvmlDeviceGetPowerUsage(self, h):
        if "power_mw" not in self.gpus[h]:
            raise NVMLError("Not Supported")
        return self.gpus[h]["power_mw"]

    def nvmlDeviceGetCudaComputeCapability(self, h):
        return self.gpus[h].get("cc", (8, 9))

    def nvmlDeviceGetComputeRunningProcesses(self, h):
        return [SimpleNamespace(pid=p, usedGpuMemory=m) for p, m in self.gpus[h].get("procs", [])]


def rtx4090(**kw) -> dict:
    return {"name": "NVIDIA GeForce RTX 4090", "total": 24 * GIB, "used": 2 * GIB, "util": 35, "temp": 51,
            "power_mw": 120_000, "cc": (8, 9), **kw}


def rtx2080ti(**kw) -> dict:
    return {"name": "NVIDIA GeForce RTX 2080 Ti", "total": 11 * GIB, "used": 1 * GIB, "util": 5, "cc": (7, 5), **kw}
