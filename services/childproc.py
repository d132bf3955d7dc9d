"""Run a headless `quantdesk` command in a child process and get its JSON answer.

The GUI uses this for quick work that needs the ML stack (a dataset preview with a tokenizer):
the child prints progress as JSON lines on stderr and one JSON document on stdout. Cancel kills
the child's whole process tree.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable

from services.progress import Cancelled, ProgressFn, never_cancelled, no_progress


class ChildError(RuntimeError):
    """The child failed; `usage` is True for bad input (exit status 2)."""

    def __init__(self, message: str, usage: bool):
        super().__init__(message)
        self.usage = usage


def kill_tree(pid: int) -> None:
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
    _, alive = psutil.wait_procs(procs, timeout=1.5)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            pass


def run_quantdesk(args: list[str], progress: ProgressFn = no_progress,
                  cancelled: Callable[[], bool] = never_cancelled, env: dict | None = None) -> dict:
    """Run `python -m app <args> --json --progress json`; return the parsed stdout document."""
    cmd = [sys.executable, "-m", "app", *args, "--json", "--progress", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, encoding="utf-8", env=env)
    other: list[str] = []

    def read_stderr() -> None:
        for line in proc.stderr:
            try:
                ev = json.loads(line)
            except ValueError:
                other.append(line.rstrip())
                continue
            if isinstance(ev, dict) and ev.get("type") == "progress":
                progress(int(ev.get("done", 0)), int(ev.get("total", 0)), str(ev.get("message", "")))
            else:
                other.append(line.rstrip())

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    out_chunks: list[str] = []
    out_reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True)
    out_reader.start()
    while proc.poll() is None:
        if cancelled():
            kill_tree(proc.pid)
            proc.wait()
            raise Cancelled()
        try:
            proc.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            pass
    reader.join(5)
    out_reader.join(5)
    if proc.returncode != 0:
        lines = [ln for ln in other if ln.strip()]
        msg = lines[-1] if lines else f"exited with status {proc.returncode}"
        raise ChildError(msg.removeprefix("quantdesk: error: "), usage=proc.returncode == 2)
    return json.loads("".join(out_chunks))
