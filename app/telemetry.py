"""The application's telemetry sampler: built when a panel first asks for one, closed at quit."""
from __future__ import annotations

from services.telemetry.sampler import Sampler


def make_sampler(rate_hz: float = 2.0) -> Sampler:
    """A sampler of the GPUs (through NVML) and the host (through psutil), not started yet."""
    return Sampler(rate_hz=rate_hz)


def close_sampler(sampler: Sampler) -> None:
    sampler.stop()
    sampler.gpu.close()
