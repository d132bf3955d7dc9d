"""JobManager: queue jobs, run each in a runner child process, store its events, cancel it.

Listeners get (job_id, event) from the reader threads; the GUI turns them into Qt signals.
A job's output is built in `<out>.partial/` by the runner; when the job does not succeed the
manager removes that folder, so nothing that looks like a finished model is left behind.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from services.childproc import kill_tree
from services.jobs.spec import JobSpec, partial_dir
from services.jobs.store import JobRecord, JobStore

log = logging.getLogger("quantdesk.jobs")

ROOT = Path(__file__).resolve().parents[2]
Listener = Callable[[str, dict], None]


def _describe_exit(code: int) -> str:
    if code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"the job process was killed by {name}{hint}"
    return f"the job process ended unexpectedly (exit status {code})"


class JobManager:
    def __init__(self, store: JobStore, jobs_dir: Path, env: Callable[[], dict] | None = None,
                 concurrency: int = 1, python: str = sys.executable):
        self.store = store
        self.jobs_dir = jobs_dir
        jobs_dir.mkdir(parents=True, exist_ok=True)
        self._env = env or (lambda: dict(os.environ))
        self.concurrency = concurrency
        self.python = python
        self._lock = threading.RLock()
        self._queue: list[str] = []
        self._procs: dict[str, subprocess.Popen] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._cancelled: set[str] = set()
        self._outcome: dict[str, dict] = {}
        self._listeners: list[Listener] = []

    # -- listeners
    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _notify(self, job_id: str, event: dict) -> None:
        for fn in list(self._listeners):
            try:
                fn(job_id, event)
            except Exception:
                log.exception("job listener failed")

    # -- submitting
    def submit(self, spec: JobSpec) -> JobRecord:
        spec_path = self.jobs_dir / f"{spec.id}.json"
        spec_path.write_text(spec.to_json(), encoding="utf-8")
        rec = self.store.add(spec, log_path=self.jobs_dir / f"{spec.id}.log")
        with self._lock:
            self._queue.append(spec.id)
        self._notify(spec.id, {"type": "status", "status": "queued"})
        self._pump()
        return rec

    def running(self) -> list[str]:
        with self._lock:
            return list(self._procs)

    def queued(self) -> list[str]:
        with self._lock:
            return list(self._queue)

    def _pump(self) -> None:
        with self._lock:
            while self._queue and len(self._procs) < self.concurrency:
                self._start(self._queue.pop(0))

    def _start(self, job_id: str) -> None:
        rec = self.store.get(job_id)
        env = self._env()
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONIOENCODING"] = "utf-8"
        if rec.spec.params.get("device") == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""
        flags = 0
        if os.name == "nt":
            flags = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW
        log_path = Path(rec.log_path)
        with open(log_path, "a", encoding="utf-8") as early_log:
            proc = subprocess.Popen(
                [self.python, "-m", "services.jobs.runner", str(self.jobs_dir / f"{job_id}.json"), str(log_path)],
                stdout=subprocess.PIPE, stderr=early_log, stdin=subprocess.DEVNULL, env=env, cwd=str(ROOT),
                creationflags=flags)
        self._procs[job_id] = proc
        self.store.set_status(job_id, "running", pid=proc.pid)
        self._notify(job_id, {"type": "status", "status": "running", "pid": proc.pid})
        t = threading.Thread(target=self._read, args=(job_id, proc), name=f"job-{job_id}", daemon=True)
        self._threads[job_id] = t
        t.start()

    # -- while it runs
    def _read(self, job_id: str, proc: subprocess.Popen) -> None:
        outcome: dict = {}
        for raw in proc.stdout:
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                event = {"type": "log", "level": "INFO", "message": line}
            self.store.add_event(job_id, event)
            kind = event.get("type")
            if kind == "progress":
                self.store.set_progress(job_id, int(event.get("done", 0)), int(event.get("total", 0)),
                                        str(event.get("unit", "")), str(event.get("message", "")), event.get("eta_s"))
            elif kind in ("result", "error"):
                outcome[kind] = event
            self._notify(job_id, event)
        code = proc.wait()
        self._finish(job_id, code, outcome)

    def _finish(self, job_id: str, code: int, outcome: dict) -> None:
        rec = self.store.get(job_id)
        if job_id in self._cancelled:
            status, error = "cancelled", None
        elif code == 0 and outcome.get("result", {}).get("ok"):
            status, error = "succeeded", None
        else:
            err = outcome.get("error")
            status = "failed"
            error = (err["message"] + (f" — {err['hint']}" if err.get("hint") else "")) if err else _describe_exit(code)
        if status != "succeeded" and rec.out:
            shutil.rmtree(partial_dir(rec.out), ignore_errors=True)
        result = outcome.get("result", {}).get("summary") if status == "succeeded" else None
        self.store.set_status(job_id, status, error=error, result=result, only_if_not_final=True)
        final = self.store.get(job_id)
        with self._lock:
            self._procs.pop(job_id, None)
            self._outcome[job_id] = {"status": final.status, "error": final.error}
        self._notify(job_id, {"type": "status", "status": final.status, "error": final.error})
        self._pump()

    # -- control
    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job (also one started by another QuantDesk process)."""
        rec = self.store.get(job_id)
        job_id = rec.id
        with self._lock:
            if job_id in self._queue:
                self._queue.remove(job_id)
                self.store.set_status(job_id, "cancelled", only_if_not_final=True)
                self._notify(job_id, {"type": "status", "status": "cancelled"})
                return True
            proc = self._procs.get(job_id)
            if proc is not None:
                self._cancelled.add(job_id)
        if proc is not None:
            self.store.set_status(job_id, "cancelled", only_if_not_final=True)
            kill_tree(proc.pid)
            if rec.out:
                shutil.rmtree(partial_dir(rec.out), ignore_errors=True)
            return True
        if rec.status == "running" and rec.pid:
            kill_tree(rec.pid)
            self.store.set_status(job_id, "cancelled", only_if_not_final=True)
            if rec.out:
                shutil.rmtree(partial_dir(rec.out), ignore_errors=True)
            return True
        return False

    def wait(self, job_id: str, timeout: float | None = None) -> JobRecord:
        t = self._threads.get(job_id)
        if t is not None:
            t.join(timeout)
        return self.store.get(job_id)

    def shutdown(self) -> None:
        """Cancel everything this manager started or queued."""
        for job_id in self.queued() + self.running():
            self.cancel(job_id)
        for t in list(self._threads.values()):
            t.join(5)
