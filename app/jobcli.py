"""Run a job from the command line: submit it, stream its events to stderr, cancel on Ctrl-C."""
from __future__ import annotations

import json
import signal
import sys
import threading

from services.jobs import protocol as p
from services.jobs.group import FinalFactory, JobGroup
from services.jobs.local import make_manager
from services.jobs.manager import JobManager
from services.jobs.spec import JobSpec
from services.jobs.store import JobRecord


def print_event(event: p.Event) -> None:
    if isinstance(event, p.Stage):
        print(f"\n[{event.name}] {event.message}", file=sys.stderr, flush=True)
    elif isinstance(event, p.Progress):
        eta = f", ETA {event.eta_s:.0f} s" if event.eta_s is not None else ""
        print(f"  {event.message} ({event.done}/{event.total}{eta})", file=sys.stderr, flush=True)
    elif isinstance(event, p.Log):
        prefix = f"{event.level.lower()}: " if event.level in ("WARNING", "ERROR") else ""
        print(f"  {prefix}{event.message}", file=sys.stderr, flush=True)
    elif isinstance(event, p.Error):
        print(f"error: {event.message}" + (f"\n  hint: {event.hint}" if event.hint else ""), file=sys.stderr, flush=True)


def _manager() -> JobManager:
    from services.settings import load_settings

    manager = make_manager(concurrency=load_settings().job_concurrency)
    if manager.store.notice:
        print(f"notice: {manager.store.notice}", file=sys.stderr, flush=True)
    return manager


def follow_job(spec: JobSpec) -> JobRecord:
    """Submit `spec` and wait for it, printing its events; Ctrl-C cancels it. Returns the final record."""
    manager = _manager()
    manager.add_listener(lambda job_id, ev: print_event(ev) if job_id == spec.id else None)
    rec = manager.submit(spec)
    print(f"job {rec.id}; log: {rec.log_path}", file=sys.stderr, flush=True)
    if rec.id in manager.queued():
        print("waiting for a free job slot: another QuantDesk job runs on this machine (Settings: jobs at once)",
              file=sys.stderr, flush=True)
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda *a: manager.cancel(rec.id))
    try:
        return manager.wait(rec.id)
    finally:
        signal.signal(signal.SIGINT, previous)


def follow_existing(job_id: str) -> JobRecord:
    """Reattach to a cluster job no QuantDesk process follows and wait for it; Ctrl-C cancels it."""
    manager = _manager()
    manager.add_listener(lambda jid, ev: print_event(ev) if jid == job_id else None)
    try:
        manager.executor_for(manager.store.get(job_id).spec.executor)
    except ValueError as exc:
        name = manager.store.get(job_id).spec.executor.partition(":")[2]
        raise RuntimeError(f"{exc}: add cluster {name} again (quantdesk cluster add {name} --address ...) to follow "
                           "this job") from exc
    if job_id not in manager.reattach(only=[job_id]):
        rec = manager.store.get(job_id)
        if not rec.final:
            raise RuntimeError(f"{job_id} is followed by another QuantDesk process")
        return rec
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda *a: manager.cancel(job_id))
    try:
        return manager.wait(job_id)
    finally:
        signal.signal(signal.SIGINT, previous)


def follow_group(members: list[JobSpec], final: FinalFactory, group_id: str) -> JobGroup:
    """Run a job group, printing each job's events under its name; Ctrl-C cancels the whole group."""
    manager = _manager()
    names: dict[str, str] = {}

    def show(job_id: str, ev: p.Event) -> None:
        if job_id not in names:
            rec = manager.store.get(job_id)
            if rec.spec.group != group_id:
                return
            names[job_id] = rec.spec.params.get("method") or rec.kind
            print(f"\n== {names[job_id]}: job {job_id}; log: {rec.log_path}", file=sys.stderr, flush=True)
        print_event(ev)

    manager.add_listener(show)
    group = JobGroup(manager, members, final, group_id)
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda *a: threading.Thread(target=group.cancel, daemon=True).start())
    try:
        group.start()
        group.wait()
        return group
    finally:
        signal.signal(signal.SIGINT, previous)


def exit_status(rec: JobRecord) -> int:
    """0 succeeded, 2 the input was wrong (found inside the job), 1 any other failure or a cancel."""
    if rec.status == "succeeded":
        return 0
    return 2 if rec.error_kind == "bad_input" else 1


def run_job(spec: JobSpec, as_json: bool) -> int:
    """follow_job, then a one-line outcome (or a JSON document with --json); 0 when it succeeded."""
    return report_job(follow_job(spec), as_json)


def report_job(final: JobRecord, as_json: bool) -> int:
    """A finished job's one-line outcome (or a JSON document with --json); 0 when it succeeded."""
    if as_json:
        print(json.dumps({"id": final.id, "status": final.status, "error": final.error, "summary": final.result,
                          "log": final.log_path}, ensure_ascii=False))
    if final.status == "running" and final.spec.remote:  # contact with its cluster was lost
        print(f"\njob {final.id} may still run on {final.spec.executor}: follow it again with "
              f"quantdesk jobs follow {final.id}", file=sys.stderr)
        return 1
    if final.status != "succeeded":
        print(f"\njob {final.status}" + (f": {final.error}" if final.error else ""), file=sys.stderr)
        return exit_status(final)
    r = final.result or {}
    if not as_json and r.get("out") and r.get("output_bytes"):
        print(f"\ndone: {r['out']} ({r['output_bytes'] / 1e6:.1f} MB, {r['ratio']}x smaller than "
              f"{r['input_bytes'] / 1e6:.1f} MB, {r['duration_s']} s)", file=sys.stderr)
    return 0
