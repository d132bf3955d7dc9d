"""The application's one telemetry sampler, started on first use and stopped at quit."""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from services.telemetry.sampler import Sampler

_sampler: Sampler | None = None


def shared_sampler(rate_hz: float = 2.0) -> Sampler:
    """The running sampler (GPUs through NVML, the host through psutil)."""
    global _sampler
    if _sampler is None:
        _sampler = Sampler(rate_hz=rate_hz)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(stop_shared_sampler)
    return _sampler.start()


def stop_shared_sampler() -> None:
    global _sampler
    if _sampler is not None:
        _sampler.stop()
        _sampler.gpu.close()
        _sampler = None


def follow_job(pid: int | None) -> None:
    """Chart this job's process tree memory (when the Monitor has started the sampler)."""
    if _sampler is not None:
        _sampler.job_pid = pid
