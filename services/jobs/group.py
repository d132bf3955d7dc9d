"""A job group: member jobs through the ordinary queue, then one final job made from those that succeeded.

The group is not a new kind of job: every member and the final job is a plain job with `spec.group` set,
so the store, the Jobs panel and `quantdesk jobs` see them as usual, and `group_records` finds them later.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from services.jobs import protocol as p
from services.jobs.manager import JobManager
from services.jobs.spec import JobSpec
from services.jobs.store import FINAL, JobRecord, JobStore

# Builds the final job from the members that succeeded (never empty); None means there is nothing to run.
FinalFactory = Callable[[list[JobRecord]], JobSpec | None]


def new_group_id(prefix: str) -> str:
    return f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"


def group_records(store: JobStore, group: str, limit: int = 1000) -> list[JobRecord]:
    """The group's jobs, oldest first."""
    return sorted((r for r in store.list(limit) if r.spec.group == group), key=lambda r: r.created)


class JobGroup:
    """Run `members`, then `final(succeeded members)`; `status` is running, succeeded, failed or cancelled."""

    def __init__(self, manager: JobManager, members: list[JobSpec], final: FinalFactory, group: str):
        if not members:
            raise ValueError("a job group needs at least one job")
        self.manager, self.group, self._final = manager, group, final
        self.members = members
        for spec in members:
            spec.group = group
        self.final_id: str | None = None
        self.status = "running"
        self.error: str | None = None
        self._cancelled = False
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.on_done: Callable[[JobGroup], None] | None = None

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.members] + ([self.final_id] if self.final_id else [])

    def start(self) -> JobGroup:
        self.manager.add_listener(self._on_event)
        for spec in self.members:
            self.manager.submit(spec)
        self._check()  # members may have failed at submission already
        return self

    def cancel(self) -> None:
        """Cancel every job of the group that has not ended; the final job is not started."""
        with self._lock:
            self._cancelled = True
        for job_id in self.ids:
            if not self.manager.store.get(job_id).final:
                self.manager.cancel(job_id)
        self._check()

    def wait(self, timeout: float | None = None) -> str:
        self._done.wait(timeout)
        return self.status

    def _on_event(self, job_id: str, event: p.Event) -> None:
        if isinstance(event, p.Status) and event.status in FINAL and job_id in self.ids:
            self._check()

    def _check(self) -> None:
        store = self.manager.store
        with self._lock:
            if self._done.is_set():
                return
            if self.final_id is not None:
                rec = store.get(self.final_id)
                if not rec.final:
                    return
                self._end(rec.status, rec.error)
                return
            recs = [store.get(s.id) for s in self.members]
            if not all(r.final for r in recs):
                return
            ok = [r for r in recs if r.status == "succeeded"]
            if self._cancelled:
                self._end("cancelled", None)
                return
            if not ok:
                self._end("failed", "; ".join(f"{r.id}: {r.error or r.status}" for r in recs))
                return
            try:
                spec = self._final(ok)
            except Exception as exc:  # a bug in the factory must not leave the group running for ever
                self._end("failed", f"could not build the group's last job: {exc}")
                return
            if spec is None:
                self._end("succeeded", None)
                return
            spec.group = self.group
            self.final_id = spec.id
        self.manager.submit(spec)
        self._check()

    def _end(self, status: str, error: str | None) -> None:
        self.status, self.error = status, error
        self.manager.remove_listener(self._on_event)
        self._done.set()
        if self.on_done is not None:
            self.on_done(self)
