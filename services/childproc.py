"""Run a headless `quantdesk` command in a child process and get its JSON answer.

The GUI uses this for quick work that needs the ML stack (a dataset preview with a tokenizer):
the child prints progress as JSON lines on stderr and one JSON document on stdout. Cancel kills
the child's whole process tree.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable

from services.progress import Cancelled, ProgressFn, never_cancelled, no_progress
from services.runtime import process


class ChildError(RuntimeError):
    """The child failed; `usage` is True for bad input (exit status 2)."""

    def __init__(self, message: str, usage: bool):
        super().__init__(message)
        self.usage = usage


def run_quantdesk(args: list[str], progress: ProgressFn = no_progress,
                  cancelled: Callable[[], bool] = never_cancelled, env: dict | None = None) -> dict:
    """Run `quantdesk <args> --json --progress json` on this runtime; return the parsed stdout document."""
    proc = process.start_module("app", *args, "--json", "--progress", "json", env=env, stdout=process.PIPE,
                                stderr=process.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    stdout, stderr = proc.stdout, proc.stderr
    other: list[str] = []

    def read_stderr() -> None:
        for line in stderr:
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
    out_reader = threading.Thread(target=lambda: out_chunks.append(stdout.read()), daemon=True)
    out_reader.start()
    while proc.poll() is None:
        if cancelled():
            process.kill_tree(proc.pid)
            proc.wait()
            raise Cancelled()
        try:
            proc.wait(timeout=0.1)
        except process.TimeoutExpired:
            pass
    reader.join(5)
    out_reader.join(5)
    if proc.returncode != 0:
        lines = [ln for ln in other if ln.strip()]
        msg = lines[-1] if lines else f"exited with status {proc.returncode}"
        raise ChildError(msg.removeprefix("quantdesk: error: "), usage=proc.returncode == 2)
    return json.loads("".join(out_chunks))
