"""NVIDIA GPUs through NVML (nvidia-ml-py's `pynvml`), injectable for tests.

No driver, no GPU or no library: `available` is False and `reason` says why; nothing raises.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from services.messages import msg

log = logging.getLogger("quantdesk.telemetry")


@dataclass(frozen=True)
class GpuProcess:
    pid: int
    used_bytes: int


@dataclass(frozen=True)
class GpuSample:
    index: int
    name: str
    memory_used: int
    memory_total: int
    utilization: float | None  # percent
    temperature: float | None  # Celsius
    power_w: float | None
    compute_capability: tuple[int, int] | None = None
    processes: list[GpuProcess] = field(default_factory=list)


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


class NvmlReader:
    """Reads every GPU once per call to `devices()`; `nvml` is the pynvml module or a fake."""

    def __init__(self, nvml=None):
        self.available = False
        self.reason = ""
        self.driver = ""
        self._handles: list = []
        try:
            if nvml is None:
                import pynvml as nvml
            self._nvml = nvml
            nvml.nvmlInit()
            self.driver = _text(nvml.nvmlSystemGetDriverVersion())
            count = nvml.nvmlDeviceGetCount()
            self._handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self.available = count > 0
            self.reason = "" if count else "NVML found no NVIDIA GPU"
        except ImportError:
            self.reason = "nvidia-ml-py is not installed"
        except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
            self.reason = msg("no NVIDIA driver or GPU ({reason})", reason=exc)

    def _try(self, fn, *args):
        try:
            return fn(*args)
        except Exception:
            return None

    def devices(self) -> list[GpuSample]:
        if not self.available:
            return []
        nv = self._nvml
        out = []
        for i, h in enumerate(self._handles):
            mem = nv.nvmlDeviceGetMemoryInfo(h)
            util = self._try(nv.nvmlDeviceGetUtilizationRates, h)
            temp = self._try(nv.nvmlDeviceGetTemperature, h, 0)  # NVML_TEMPERATURE_GPU
            power = self._try(nv.nvmlDeviceGetPowerUsage, h)
            cc = self._try(nv.nvmlDeviceGetCudaComputeCapability, h)
            procs = self._try(nv.nvmlDeviceGetComputeRunningProcesses, h) or []
            out.append(GpuSample(
                index=i, name=_text(nv.nvmlDeviceGetName(h)), memory_used=int(mem.used), memory_total=int(mem.total),
                utilization=float(util.gpu) if util is not None else None,
                temperature=float(temp) if temp is not None else None,
                power_w=power / 1000.0 if power is not None else None,
                compute_capability=tuple(cc) if cc else None,
                processes=[GpuProcess(int(p.pid), int(p.usedGpuMemory or 0)) for p in procs],
            ))
        return out

    def close(self) -> None:
        if self.available:
            self._try(self._nvml.nvmlShutdown)
            self.available = False
