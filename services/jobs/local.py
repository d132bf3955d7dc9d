"""This user's job store and a manager wired to the environment jobs should get."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import psutil

from services.envcheck.jobenv import job_environment
from services.jobs.kinds import run_cleanup
from services.jobs.manager import JobManager, token_alive
from services.jobs.outputs import MARKER, discard_partial
from services.jobs.store import JobRecord, JobStore
from services.paths import user_dirs

log = logging.getLogger("quantdesk.jobs")


def runner_alive(rec: JobRecord) -> bool:
    """True when the job's runner process still runs (not a recycled pid); remote jobs are not judged here."""
    if rec.executor not in (None, "local"):
        return True
    if not rec.pid:
        return False
    try:
        proc = psutil.Process(rec.pid)
        if rec.pid_started is not None and abs(proc.create_time() - rec.pid_started) > 1.0:
            return False
        return "services.jobs.runner" in " ".join(proc.cmdline()) and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def open_store() -> JobStore:
    """The job store in the user data dir. Jobs orphaned by a crash (running with no runner, queued by a
    process that is gone) are marked interrupted and their partial outputs removed."""
    store = JobStore(user_dirs().data / "jobs.db")
    for rec in store.mark_interrupted(runner_alive, token_alive):
        try:
            run_cleanup(rec.kind, rec.id)
        except Exception:
            log.exception("job %s: its cleanup failed", rec.id)
        if rec.out:
            discard_partial(rec.out)
            if finished_output(rec):
                store.mark_recovered(rec.id, "finished while no QuantDesk process was watching it")
    return store


def finished_output(rec: JobRecord) -> bool:
    """True when the job's output is in place and its quantdesk.json names this job (it finished)."""
    try:
        record = json.loads((Path(str(rec.out)) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("job_id") == rec.id


def make_manager(store: JobStore | None = None, concurrency: int = 1) -> JobManager:
    dirs = user_dirs()

    def remote(label: str):
        from services.clusters.executor import executor_for

        return executor_for(label, stage_root=dirs.data / "jobs", env=lambda: job_environment(dirs.config))

    return JobManager(store or open_store(), dirs.data / "jobs", env=lambda: job_environment(dirs.config),
                      concurrency=concurrency, remote=remote)
