"""Executors start a job on a runtime and give back its events: the local subprocess one first.

An executor is what the job manager talks to; a remote one (Ray's Jobs API) implements the same
five calls. Cancel is a protocol: a stop request the runner honours at its next step, then
terminate, then kill.
"""
from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from services.jobs import protocol as p
from services.messages import msg
from services.runtime import process
from services.runtime.runtime import Runtime, job_runtime

RUNNER = "services.jobs.runner"


@dataclass
class JobHandle:
    job_id: str
    pid: int | None = None
    started: float | None = None  # the process's create time (pid reuse guard)
    proc: subprocess.Popen | None = field(default=None, repr=False)
    log_path: Path | None = None  # where a remote job's log lines go (a local runner writes its own)


class Executor(Protocol):
    name: str

    def start(self, job_id: str, spec_path: Path, log_path: Path) -> JobHandle: ...
    def events(self, handle: JobHandle) -> Iterator[p.Event]: ...
    def wait(self, handle: JobHandle) -> int: ...
    def cancel(self, handle: JobHandle, grace_s: float | None = None) -> None: ...
    def alive(self, handle: JobHandle) -> bool: ...


class LocalExecutor:
    """The runner in a child process of this one, on `runtime`; it dies when this process does."""

    name = "local"

    def __init__(self, runtime: Runtime | None = None, env: Callable[[], dict[str, str]] | None = None,
                 cwd: Path | None = None, request_grace_s: float = 0.5):
        self.runtime = runtime or job_runtime()
        self._env = env
        self._cwd = cwd
        self._grace = request_grace_s

    def start(self, job_id: str, spec_path: Path, log_path: Path) -> JobHandle:
        import os

        import psutil

        env = self._env() if self._env else None
        bad = sorted(str(k) for k, v in (env or {}).items()
                     if not isinstance(k, str) or not isinstance(v, str) or "\0" in v)
        if bad:
            raise ValueError(msg("the job environment has non-text values for {names}: fix them "
                                 "in job_env.json (every value must be a string)", names=", ".join(map(str, bad))))
        cmd = self.runtime.module_command(RUNNER, str(spec_path), str(log_path), "--watch-stdin",
                                          "--parent", str(os.getpid()))
        with open(log_path, "a", encoding="utf-8") as early_log:
            proc = process.start(cmd, env=self.runtime.environment(env), cwd=self._cwd or spec_path.parent,
                                 stdin=process.PIPE, stdout=process.PIPE, stderr=early_log, own_group=True)
        try:
            started = psutil.Process(proc.pid).create_time()
        except psutil.Error:
            started = None
        return JobHandle(job_id, proc.pid, started, proc)

    def events(self, handle: JobHandle) -> Iterator[p.Event]:
        assert handle.proc is not None and handle.proc.stdout is not None
        for raw in handle.proc.stdout:
            line = raw.decode("utf-8", errors="replace").strip()
            if line:
                yield p.parse_line(line)

    def wait(self, handle: JobHandle) -> int:
        assert handle.proc is not None
        code = handle.proc.wait()
        if handle.pid:
            process.kill_group(handle.pid)  # a tool the runner started must not outlive it (kill -9 of the runner)
        process.close_stdin(handle.proc)
        return code

    def request_stop(self, handle: JobHandle) -> None:
        if handle.proc is not None and handle.proc.stdin:
            try:
                handle.proc.stdin.write(b"cancel\n")
                handle.proc.stdin.flush()
            except (OSError, ValueError):
                pass

    def cancel(self, handle: JobHandle, grace_s: float | None = None) -> None:
        self.request_stop(handle)
        if handle.proc is not None:
            try:
                handle.proc.wait(self._grace if grace_s is None else max(grace_s, self._grace))
                return
            except subprocess.TimeoutExpired:
                pass
        if handle.pid:
            process.kill_tree(handle.pid)

    def alive(self, handle: JobHandle) -> bool:
        if handle.proc is not None:
            return handle.proc.poll() is None
        return handle.pid is not None and process.pid_alive(handle.pid, handle.started)


def stop_by_pid(pid: int, started: float | None, cancel_path: Path, grace_s: float = 0.5) -> None:
    """Cancel a local job another process started: the cancel file, then terminate, then kill."""
    import time

    cancel_path.touch()
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and process.pid_alive(pid, started):
        time.sleep(0.05)
    if process.pid_alive(pid, started):
        process.kill_tree(pid)
