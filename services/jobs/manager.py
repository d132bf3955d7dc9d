"""JobManager: queue jobs, start each through an Executor when a machine-wide slot is free, store
its events, cancel it.

Listeners get (job_id, event) from the reader threads; the GUI turns them into Qt signals.
A job's output is built at `<out>.partial` by the runner; when the job does not succeed that
partial output is removed, so nothing that looks like a finished model is left behind.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from services.jobs import protocol as p
from services.jobs.kinds import run_cleanup, stop_grace, uses_slot
from services.jobs.outputs import discard_partial
from services.jobs.slots import NoSlot, Slot, SlotPool
from services.jobs.spec import JobSpec
from services.jobs.store import JobRecord, JobStore, StoreError
from services.messages import msg
from services.runtime import process
from services.runtime.executor import Executor, JobHandle, LocalExecutor, stop_by_pid
from services.runtime.parentwatch import cancel_file
from services.runtime.process import pid_alive

log = logging.getLogger("quantdesk.jobs")

Listener = Callable[[str, p.Event], None]
RemoteFactory = Callable[[str], Executor]  # "ray:<cluster>" -> its executor
EXIT_LOST = 75  # a remote job's follower lost contact with the cluster; the job may still run there
RETRY_S = 0.5  # how often queued jobs look for a free slot another process released


def describe_exit(code: int) -> str:
    if code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = msg("signal {number}", number=-code)
        if name == "SIGKILL":
            return msg("the job process was killed by {name} (out of memory?)", name=name)
        return msg("the job process was killed by {name}", name=name)
    return msg("the job process ended unexpectedly (exit status {code})", code=code)


def process_token(pid: int | None = None) -> str:
    """`pid:create_time` of a process: who owns a queued job (pids get reused)."""
    import os

    import psutil

    pid = os.getpid() if pid is None else pid
    return f"{pid}:{psutil.Process(pid).create_time():.3f}"


def token_alive(token: str) -> bool:
    try:
        pid, started = token.split(":")
        return pid_alive(int(pid), float(started))
    except ValueError:
        return False


def _cleanup(rec: JobRecord) -> None:
    try:
        run_cleanup(rec.kind, rec.id)
    except Exception:
        log.exception("job %s: its cleanup failed", rec.id)


class JobManager:
    def __init__(self, store: JobStore, jobs_dir: Path, env: Callable[[], dict] | None = None,
                 concurrency: int = 1, executor: Executor | None = None, slots: SlotPool | None = None,
                 remote: RemoteFactory | None = None):
        self.store = store
        self.jobs_dir = jobs_dir
        jobs_dir.mkdir(parents=True, exist_ok=True)
        self.executor: Executor = executor or LocalExecutor(env=env, cwd=jobs_dir)
        self._remote_factory = remote
        self._remote: dict[str, Executor] = {}
        self.slots = slots or SlotPool(jobs_dir / "slots", concurrency)
        self.owner = process_token()
        self._lock = threading.RLock()
        self._queue: list[str] = []
        self._handles: dict[str, JobHandle] = {}
        self._slots: dict[str, Slot | NoSlot] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._cancelled: set[str] = set()
        self._detached: set[str] = set()  # remote jobs left running on their cluster when this manager closed
        self._listeners: list[Listener] = []
        self._retry: threading.Timer | None = None
        self._closed = False

    @property
    def concurrency(self) -> int:
        return self.slots.size

    @concurrency.setter
    def concurrency(self, n: int) -> None:
        self.slots.size = max(1, int(n))
        self._pump()

    # -- listeners
    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _notify(self, job_id: str, event: p.Event) -> None:
        for fn in list(self._listeners):
            try:
                fn(job_id, event)
            except Exception:
                log.exception("job listener failed")

    def executor_for(self, label: str | None) -> Executor:
        """The executor of a job's `executor` label: local, or a cluster's (ValueError when unknown)."""
        if not label or label == "local":
            return self.executor
        with self._lock:
            if label not in self._remote:
                if self._remote_factory is None:
                    raise ValueError(msg("this QuantDesk cannot run jobs on {label}", label=label))
                self._remote[label] = self._remote_factory(label)
            return self._remote[label]

    # -- submitting
    def submit(self, spec: JobSpec) -> JobRecord:
        rec = self.store.add(spec, log_path=self.jobs_dir / f"{spec.id}.log", owner=self.owner)
        try:
            (self.jobs_dir / f"{spec.id}.json").write_text(spec.to_json(), encoding="utf-8")
        except OSError as exc:
            self.store.set_status(spec.id, "failed", error=msg("cannot write the job's files in {folder}: {reason}",
                                                                  folder=self.jobs_dir, reason=exc),
                                  error_kind="start")
            return self.store.get(spec.id)
        with self._lock:
            self._queue.append(spec.id)
        self._notify(spec.id, p.Status("queued"))
        self._pump()
        return rec

    def running(self) -> list[str]:
        with self._lock:
            return list(self._handles)

    def queued(self) -> list[str]:
        with self._lock:
            return list(self._queue)

    def _pump(self) -> None:
        """Start queued jobs in order: those that take a slot while one is free, the others (servers,
        engine installs) at once, even behind a job that waits for a slot."""
        with self._lock:
            i, blocked = 0, False
            while i < len(self._queue) and not self._closed:
                job_id = self._queue[i]
                try:
                    rec = self.store.get(job_id)
                except KeyError:  # deleted while queued
                    self._queue.pop(i)
                    continue
                if rec.status != "queued":  # cancelled from another process
                    self._queue.pop(i)
                    self._notify(job_id, p.Status(rec.status, rec.error))
                    continue
                slot: Slot | NoSlot | None = NoSlot()
                if uses_slot(rec.kind) and not rec.spec.remote:  # a cluster's job takes no slot here
                    slot = None if blocked else self.slots.try_acquire()
                    if slot is None:
                        if not blocked:
                            self._schedule_retry()
                        blocked = True
                        i += 1
                        continue
                self._queue.pop(i)
                assert slot is not None
                self._start(rec, slot)

    def _schedule_retry(self) -> None:
        if self._retry is None:
            self._retry = threading.Timer(RETRY_S, self._retry_pump)
            self._retry.daemon = True
            self._retry.start()

    def _retry_pump(self) -> None:
        with self._lock:
            self._retry = None
        self._pump()

    def _start(self, rec: JobRecord, slot: Slot | NoSlot) -> None:
        job_id = rec.id
        try:
            handle = self.executor_for(rec.spec.executor).start(
                job_id, self.jobs_dir / f"{job_id}.json", Path(rec.log_path or self.jobs_dir / f"{job_id}.log"))
        except Exception as exc:  # a bad job environment, a missing interpreter, ...
            slot.release()
            reason = msg("the job could not start: {reason}", reason=exc)
            log.error("job %s: %s", job_id, reason)
            kind = "bad_input" if isinstance(exc, ValueError) else "start"
            self.store.set_status(job_id, "failed", error=reason, error_kind=kind, only_if_not_final=True)
            self._notify(job_id, p.Status("failed", reason))
            return
        remote = rec.spec.remote
        self._handles[job_id] = handle
        self._slots[job_id] = slot
        # a remote job's pid is its follower's, not a runner's: other processes stop it through the cluster
        pid = None if remote else handle.pid
        self.store.set_status(job_id, "running", pid=pid, pid_started=None if remote else handle.started)
        self._notify(job_id, p.Status("running", pid=pid))
        self._follow(job_id, handle)

    def _follow(self, job_id: str, handle: JobHandle) -> None:
        t = threading.Thread(target=self._read, args=(job_id, handle), name=f"job-{job_id}", daemon=True)
        self._threads[job_id] = t
        t.start()

    def reattach(self, only: list[str] | None = None) -> list[str]:
        """Follow again the remote jobs still running whose owner is gone (an app restart), or just those in
        `only`: their events go on from where the store has them. Returns their ids."""
        out = []
        for rec in self.store.list(1000):
            if rec.status != "running" or not rec.spec.remote or rec.id in self._handles:
                continue
            if only is not None and rec.id not in only:
                continue
            if rec.owner and token_alive(rec.owner):
                continue
            try:
                executor = self.executor_for(rec.spec.executor)
            except ValueError as exc:
                log.warning("job %s: %s", rec.id, exc)
                continue
            if not self.store.claim(rec.id, self.owner, rec.owner):
                continue
            attach = getattr(executor, "attach", None)
            if attach is None:
                continue
            handle = attach(rec.id, Path(rec.log_path or self.jobs_dir / f"{rec.id}.log"),
                            len(self.store.events(rec.id)))
            with self._lock:
                self._handles[rec.id] = handle
                self._slots[rec.id] = NoSlot()
            self._notify(rec.id, p.Status("running"))
            self._follow(rec.id, handle)
            out.append(rec.id)
        return out

    # -- while it runs
    def _record_event(self, job_id: str, event: p.Event) -> None:
        try:
            self.store.add_event(job_id, p.to_dict(event))
            if isinstance(event, p.Progress):
                self.store.set_progress(job_id, event.done, event.total, event.unit, event.message, event.eta_s)
        except (sqlite3.Error, StoreError) as exc:  # the job goes on; its log file has everything
            log.warning("job %s: could not store an event: %s", job_id, exc)

    def _read(self, job_id: str, handle: JobHandle) -> None:
        outcome: dict[str, p.Event] = {}
        code = -1
        executor = self.executor
        try:
            executor = self.executor_for(self.store.get(job_id).spec.executor)
            for event in executor.events(handle):
                self._record_event(job_id, event)
                if isinstance(event, (p.Result, p.Error, p.Cancelled)):
                    outcome[event.TYPE] = event
                self._notify(job_id, event)
        except Exception:
            log.exception("job %s: reading its events failed", job_id)
        finally:
            try:
                code = executor.wait(handle)
            except Exception:
                log.exception("job %s: waiting for it failed", job_id)
            self._finish(job_id, code, outcome)

    def _finish(self, job_id: str, code: int, outcome: dict[str, p.Event]) -> None:
        status, error, kind, result = "failed", None, None, None
        try:
            rec = self.store.get(job_id)
            if job_id in self._detached:
                return
            if rec.spec.remote and code == EXIT_LOST and not rec.final:
                self._lose(rec)
                return
            cancelled = job_id in self._cancelled or bool(rec.cancel_requested) or "cancelled" in outcome
            res, err = outcome.get("result"), outcome.get("error")
            if code == p.EXIT_OK and isinstance(res, p.Result) and res.ok:
                status, result = "succeeded", res.summary  # a cancel that came too late: the output is in place
            elif cancelled:
                status = "cancelled"
            else:
                error = err.text() if isinstance(err, p.Error) else describe_exit(code)
                kind = "bad_input" if code == p.EXIT_BAD_INPUT or (isinstance(err, p.Error) and err.bad_input) \
                    else "job"
            if status != "succeeded" and not rec.spec.remote:  # a cluster's runner cleans up after itself there
                _cleanup(rec)
                if rec.out:
                    discard_partial(rec.out)
            self.store.set_status(job_id, status, error=error, result=result, exit_code=code, error_kind=kind,
                                  only_if_not_final=True)
            final = self.store.get(job_id)
            status, error = final.status, final.error
        except Exception:
            log.exception("job %s: recording its end failed", job_id)
        finally:
            with self._lock:
                self._handles.pop(job_id, None)
                slot = self._slots.pop(job_id, None)
            if slot is not None:
                slot.release()
            cf = cancel_file(self.jobs_dir / f"{job_id}.json")
            if cf.exists():
                cf.unlink()
        self._notify(job_id, p.Status(status, error))
        self._pump()

    def _lose(self, rec: JobRecord) -> None:
        """The cluster stopped answering: the job stays running there; a later reattach picks it up."""
        note = msg("lost contact with {executor}; the job may still run there (reopen QuantDesk to reattach)",
                   executor=rec.spec.executor)
        self.store.release(rec.id, self.owner, note)
        with self._lock:
            self._handles.pop(rec.id, None)
            self._slots.pop(rec.id, None)
        self._notify(rec.id, p.Status("running", note))

    # -- control
    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job (also one another QuantDesk process started or queued)."""
        rec = self.store.get(job_id)
        job_id = rec.id
        with self._lock:
            if job_id in self._queue:
                self._queue.remove(job_id)
            handle = self._handles.get(job_id)
            if handle is not None:
                self._cancelled.add(job_id)
        if self.store.cancel_queued(job_id):
            self._notify(job_id, p.Status("cancelled"))
            return True
        if rec.final:
            return False
        self.store.request_cancel(job_id)  # recorded first: the owner's reader then says "cancelled"
        grace = stop_grace(rec.kind)
        if handle is not None:
            self.executor_for(rec.spec.executor).cancel(handle, grace)
            return self.wait(job_id, 5 + grace).status in ("cancelled", "succeeded")
        if rec.spec.remote and rec.status == "running":
            return self._cancel_remote(rec)
        if not (rec.status == "running" and rec.pid):
            return False
        stop_by_pid(rec.pid, rec.pid_started, cancel_file(self.jobs_dir / f"{job_id}.json"), max(0.5, grace))
        if rec.owner and token_alive(rec.owner):  # its owner records how it ended
            deadline = time.monotonic() + 3
            while not self.store.get(job_id).final and time.monotonic() < deadline:
                time.sleep(0.05)
        if self.store.set_status(job_id, "cancelled", only_if_not_final=True):
            _cleanup(rec)
            if rec.out:
                discard_partial(rec.out)
        return self.store.get(job_id).status in ("cancelled", "succeeded")

    def _cancel_remote(self, rec: JobRecord) -> bool:
        """Stop a cluster's job that another process follows (or nobody does). RuntimeError says why it could
        not be stopped (the cluster does not answer)."""
        try:
            executor = self.executor_for(rec.spec.executor)
        except ValueError as exc:  # the cluster was removed from the settings: nobody can follow or stop it now
            note = msg("{reason}: QuantDesk can no longer follow or stop this job on {executor}", reason=exc,
                       executor=rec.spec.executor)
            self.store.set_status(rec.id, "interrupted", error=note, only_if_not_final=True)
            return False
        stop = getattr(executor, "stop", None)
        if stop is None:
            return False
        try:
            stop(rec.id)
        except Exception as exc:
            if "does not exist" in str(exc) or "status code 404" in str(exc):
                self.store.set_status(rec.id, "cancelled", error=msg("the cluster no longer has this job"),
                                      only_if_not_final=True)
                return True
            raise RuntimeError(msg("{job} could not be stopped on {executor}: {reason}; try again once the "
                                   "cluster answers (quantdesk cluster check)", job=rec.id,
                                   executor=rec.spec.executor, reason=exc)) from exc
        deadline = time.monotonic() + 30
        while rec.owner and token_alive(rec.owner) and time.monotonic() < deadline:
            if self.store.get(rec.id).final:  # its follower recorded the end
                break
            time.sleep(0.2)
        self.store.set_status(rec.id, "cancelled", only_if_not_final=True)
        return self.store.get(rec.id).status in ("cancelled", "succeeded")

    def _detach_remote(self) -> None:
        with self._lock:
            remote = [(i, h) for i, h in self._handles.items() if self.store.get(i).spec.remote]
        for job_id, handle in remote:
            self._detached.add(job_id)
            self.store.release(job_id, self.owner, msg("QuantDesk closed while this job ran on its cluster"))
            if handle.proc is not None:
                process.kill_tree(handle.proc.pid)
            t = self._threads.get(job_id)
            if t is not None:
                t.join(5)

    def delete(self, job_id: str) -> None:
        """Delete a finished (or queued) job's record and its files (spec, log); never its output."""
        rec = self.store.get(job_id)
        with self._lock:
            if rec.id in self._queue:
                self._queue.remove(rec.id)
        self.store.delete(rec.id)
        for suffix in (".json", ".log", ".cancel"):
            try:
                (self.jobs_dir / f"{rec.id}{suffix}").unlink()
            except OSError:
                pass


    def wait(self, job_id: str, timeout: float | None = None) -> JobRecord:
        """The job's record once it ended (queued ones are waited for too), or when `timeout` passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            t = self._threads.get(job_id)
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if t is not None:
                t.join(left)
                if not t.is_alive():
                    return self.store.get(job_id)
            rec = self.store.get(job_id)
            if rec.final or (deadline is not None and time.monotonic() >= deadline):
                return rec
            time.sleep(0.05)

    def shutdown(self, keep_remote: bool = True) -> None:
        """Cancel everything this manager started or queued, except jobs running on a cluster (with
        `keep_remote`): those go on there, and the next QuantDesk reattaches to them."""
        self._closed = True
        if self._retry is not None:
            self._retry.cancel()
        if keep_remote:
            self._detach_remote()
        for job_id in self.queued() + self.running():
            try:
                self.cancel(job_id)
            except KeyError:
                pass
        for t in list(self._threads.values()):
            t.join(5)
