"""The application's job manager, with its events delivered to the UI thread as a Qt signal."""
from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QObject, Signal

from services.jobs.local import make_manager, open_store
from services.jobs.manager import JobManager
from services.settings import load_settings

log = logging.getLogger("quantdesk.jobs")


class JobService(QObject):
    """Owns the JobManager; `event(job_id, event)` arrives on the UI thread (queued connection)."""

    event = Signal(str, object)

    def __init__(self, manager: JobManager, parent: QObject | None = None):
        super().__init__(parent)
        self.manager = manager
        self.store = manager.store
        manager.add_listener(self._forward)
        self.event.connect(self._follow_in_monitor)

    def _follow_in_monitor(self, job_id: str, event: dict) -> None:
        if event.get("type") == "status":
            from app.telemetry import follow_job

            follow_job(event.get("pid") if event.get("status") == "running" else None)

    def _forward(self, job_id: str, event: dict) -> None:  # reader threads
        self.event.emit(job_id, event)

    def submit(self, spec):
        rec = self.manager.submit(spec)
        log.info("job %s (%s) submitted: %s", rec.id, rec.kind, rec.model)
        return rec

    def cancel(self, job_id: str) -> bool:
        ok = self.manager.cancel(job_id)
        log.info("job %s cancel requested: %s", job_id, "done" if ok else "not running")
        return ok

    def active(self) -> list[str]:
        return self.manager.running() + self.manager.queued()

    def shutdown(self) -> None:
        self.manager.remove_listener(self._forward)
        self.manager.shutdown()


_service: JobService | None = None


def job_service() -> JobService:
    """The application-wide job service (created on first use; jobs left by a crash become interrupted)."""
    global _service
    if _service is None:
        manager = make_manager(open_store(include_queued=True), concurrency=load_settings().job_concurrency)
        _service = JobService(manager)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(shutdown_job_service)
    return _service


def current_job_service() -> JobService | None:
    """The job service if one was started (without starting one)."""
    return _service


def set_job_service(service: JobService | None) -> None:
    """Use `service` instead (tests)."""
    global _service
    _service = service


def shutdown_job_service() -> None:
    global _service
    if _service is not None:
        _service.shutdown()
        _service = None
