"""The application's job manager, with its events delivered to the UI thread as a Qt signal."""
from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal

from services.jobs import protocol as p
from services.jobs.group import FinalFactory, JobGroup
from services.jobs.local import make_manager, open_store
from services.jobs.manager import JobManager
from services.jobs.spec import JobSpec

log = logging.getLogger("quantdesk.jobs")


class JobService(QObject):
    """Owns the JobManager; `event(job_id, event)` arrives on the UI thread (queued connection)."""

    event = Signal(str, object)
    groupEnded = Signal(str)  # a job group's id, once its last job ended (or it was cancelled)

    def __init__(self, manager: JobManager, parent: QObject | None = None):
        super().__init__(parent)
        self.manager = manager
        self.store = manager.store
        if manager.store.notice:
            log.warning("%s", manager.store.notice)
        manager.add_listener(self._forward)
        self.groups: dict[str, JobGroup] = {}

    @property
    def notice(self) -> str | None:
        """Set when the job store was damaged and replaced by a fresh one (say so in the panel)."""
        return self.store.notice

    def _forward(self, job_id: str, event: p.Event) -> None:  # reader threads
        self.event.emit(job_id, event)

    def submit(self, spec: JobSpec):
        rec = self.manager.submit(spec)
        log.info("job %s (%s) submitted: %s", rec.id, rec.kind, rec.model)
        return rec

    def cancel(self, job_id: str) -> None:
        """Cancel off the UI thread (stopping a process tree takes up to 2 s); the outcome arrives as events."""
        def cancel() -> None:
            ok = self.manager.cancel(job_id)
            log.info("job %s cancel requested: %s", job_id, "done" if ok else "not running")

        threading.Thread(target=cancel, name=f"cancel-{job_id}", daemon=True).start()

    def submit_group(self, members: list[JobSpec], final: FinalFactory, group_id: str) -> JobGroup:
        """Start a job group; `groups[group_id]` follows it while this process runs."""
        group = JobGroup(self.manager, members, final, group_id)
        group.on_done = lambda g: self.groupEnded.emit(g.group)
        self.groups[group_id] = group
        group.start()
        log.info("job group %s submitted: %d jobs", group_id, len(members))
        return group

    def cancel_group(self, group_id: str) -> None:
        group = self.groups.get(group_id)
        if group is not None:
            threading.Thread(target=group.cancel, name=f"cancel-{group_id}", daemon=True).start()

    def active(self) -> list[str]:
        return self.manager.running() + self.manager.queued()

    def shutdown(self) -> None:
        self.manager.remove_listener(self._forward)
        self.manager.shutdown()


def make_job_service(concurrency: int = 1) -> JobService:
    """A job service over the user's job store (jobs left by a crash become interrupted); cluster jobs still
    running that no QuantDesk follows are followed again, off the UI thread."""
    service = JobService(make_manager(open_store(), concurrency=concurrency))

    def reattach() -> None:
        try:
            if ids := service.manager.reattach():
                log.info("following again the cluster jobs %s", ", ".join(ids))
        except Exception:
            log.exception("reattaching to cluster jobs failed")

    threading.Thread(target=reattach, name="reattach", daemon=True).start()
    return service
