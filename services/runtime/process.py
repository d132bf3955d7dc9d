"""The one place QuantDesk starts child processes, and stops whole process trees.

A child started here dies with its parent: on Windows through a kill-on-close Job Object; on
every system the job runner also watches its stdin and parent pid (services/runtime/parentwatch.py).
"""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from services.runtime.runtime import Runtime, current_runtime

PIPE, DEVNULL, STDOUT = subprocess.PIPE, subprocess.DEVNULL, subprocess.STDOUT
TimeoutExpired = subprocess.TimeoutExpired
Popen = subprocess.Popen


def start(argv: Sequence[str] | str, *, env: dict[str, str] | None = None, cwd: str | Path | None = None,
          stdin: int | IO[Any] | None = DEVNULL, stdout: int | IO[Any] | None = None,
          stderr: int | IO[Any] | None = None, text: bool = False, own_group: bool = False) -> subprocess.Popen:
    """Start `argv` (no console window on Windows; tied to this process there). A str is a ready
    Windows command line."""
    flags = 0
    if sys.platform == "win32":
        flags = subprocess.CREATE_NO_WINDOW | (subprocess.CREATE_NEW_PROCESS_GROUP if own_group else 0)
    kwargs: dict[str, Any] = {"encoding": "utf-8", "errors": "replace"} if text else {}
    # own_group on POSIX: a session of its own, so what it starts can be stopped with it (kill_group)
    proc = subprocess.Popen(argv if isinstance(argv, str) else list(argv), env=env, cwd=None if cwd is None else str(cwd), stdin=stdin, stdout=stdout,
                            stderr=stderr, creationflags=flags, start_new_session=own_group and sys.platform != "win32",
                            **kwargs)
    if sys.platform == "win32":
        from services.runtime.winjob import tie_to_this_process

        tie_to_this_process(proc.pid)
    return proc


def run(argv: Sequence[str] | str, *, timeout: float | None = None, env: dict[str, str] | None = None,
        cwd: str | Path | None = None, text: bool = True, input: str | None = None,
        cancelled: Callable[[], bool] | None = None) -> subprocess.CompletedProcess:
    """Run `argv` to completion with captured output (`input` on its stdin); the tree is killed on timeout
    (TimeoutExpired) and, when `cancelled()` turns true, within 0.1 s (services.progress.Cancelled)."""
    proc = start(argv, env=env, cwd=cwd, stdin=DEVNULL if input is None else PIPE, stdout=PIPE, stderr=PIPE, text=text)
    deadline = None if timeout is None else time.monotonic() + timeout
    step = None if cancelled is None else 0.1
    while True:
        left = None if deadline is None else max(deadline - time.monotonic(), 0.01)
        try:
            out, err = proc.communicate(input=input, timeout=left if step is None else min(step, left or step))
            return subprocess.CompletedProcess(argv, proc.returncode, out, err)
        except subprocess.TimeoutExpired:
            input = None  # written by the first communicate()
            stop = cancelled is not None and cancelled()
            if stop or (deadline is not None and time.monotonic() >= deadline):
                kill_tree(proc.pid, grace_s=0.2 if stop else 1.0)
                proc.communicate()
                if stop:
                    from services.progress import Cancelled

                    raise Cancelled() from None
                raise


def close_stdin(proc: subprocess.Popen) -> None:
    """Close a child's stdin pipe (it reads end of file); an already broken pipe is fine."""
    if proc.stdin:
        try:
            proc.stdin.close()
        except OSError:
            pass


def start_detached(argv: Sequence[str], *, env: dict[str, str] | None = None,
                   cwd: str | Path | None = None) -> int:
    """Start a process that outlives this one (the app restarting itself): its own session, not tied to
    this process, no console. Returns its pid."""
    kwargs: dict[str, Any] = {}
    if sys.platform == "win32":
        kwargs["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        kwargs["start_new_session"] = True
    proc = subprocess.Popen(list(argv), env=env, cwd=None if cwd is None else str(cwd), stdin=DEVNULL, stdout=DEVNULL,
                            stderr=DEVNULL, **kwargs)
    return proc.pid


def start_module(module: str, *args: str, runtime: Runtime | None = None, env: dict[str, str] | None = None,
                 **kwargs: Any) -> subprocess.Popen:
    """`python -m module args` on `runtime` (default: this interpreter)."""
    rt = runtime or current_runtime()
    return start(rt.module_command(module, *args), env=rt.environment(env), **kwargs)


def kill_group(pid: int) -> None:
    """Kill what is left of the process group `pid` leads (POSIX; a child started with own_group)."""
    if sys.platform == "win32":
        return
    import os
    import signal

    try:
        if os.getpgid(pid) != pid:
            return  # not a group leader (or already reaped and the pid reused): nothing of ours
    except ProcessLookupError:
        pass  # the leader is gone; its group may live on
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_tree(pid: int, grace_s: float = 1.0) -> None:
    """Terminate `pid` and all its descendants; kill what is left after `grace_s`."""
    import psutil

    try:
        parent = psutil.Process(pid)
        procs = [*parent.children(recursive=True), parent]
    except psutil.Error:
        return
    for p in procs:
        try:
            p.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=1)


def pid_alive(pid: int, started: float | None = None) -> bool:
    """True when `pid` runs (and, given its start time, is the same process, not a recycled pid)."""
    import psutil

    try:
        p = psutil.Process(pid)
        if p.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(p.create_time() - started) < 1.0
    except psutil.Error:
        return False


def follow(proc: subprocess.Popen, on_line: Callable[[str], None], check: Callable[[], None],
           poll_s: float = 0.25) -> int:
    """Wait for `proc`, passing each line of its (text) stdout to `on_line` and calling `check` between
    lines; when `check` raises (a cancel), the process tree is stopped and the exception goes on."""
    import queue
    import threading

    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\r\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        while True:
            check()
            try:
                line = lines.get(timeout=poll_s)
            except queue.Empty:
                continue
            if line is None:
                return proc.wait()
            on_line(line)
    except BaseException:
        kill_tree(proc.pid)
        raise
