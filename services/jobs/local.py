"""This user's job store and a manager wired to the environment jobs should get."""
from __future__ import annotations

import psutil

from services.envcheck.jobenv import job_environment
from services.jobs.manager import JobManager
from services.jobs.store import JobStore
from services.paths import user_dirs


def runner_alive(pid: int) -> bool:
    """True when `pid` is a live QuantDesk job runner (not a recycled pid)."""
    try:
        return "services.jobs.runner" in " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return False


def open_store(include_queued: bool = False) -> JobStore:
    """The job store in the user data dir; jobs orphaned by a crash are marked interrupted."""
    store = JobStore(user_dirs().data / "jobs.db")
    store.mark_interrupted(runner_alive, include_queued=include_queued)
    return store


def make_manager(store: JobStore | None = None, concurrency: int = 1) -> JobManager:
    dirs = user_dirs()
    return JobManager(store or open_store(), dirs.data / "jobs", env=lambda: job_environment(dirs.config),
                      concurrency=concurrency)
