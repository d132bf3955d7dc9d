"""A throwaway Ray head for tests and benchmarks (run them in a network namespace with only `lo`).

`ray stop` kills every Ray process of the machine; this stops only the head it started, by its
temp folder, which every one of the head's processes names on its command line.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

ADDRESS = "http://127.0.0.1:8265"


def start_head(num_cpus: int = 2) -> tuple[Path, float]:
    """Start a head; returns its temp folder (short: Ray's socket paths must fit 107 bytes) and seconds taken."""
    temp = Path(f"/tmp/qdray-{uuid.uuid4().hex[:6]}")
    ray = Path(sys.executable).with_name("ray")
    t0 = time.monotonic()
    proc = subprocess.run([str(ray), "start", "--head", "--num-cpus", str(num_cpus), "--dashboard-host", "127.0.0.1",
                           "--disable-usage-stats", "--include-dashboard=true", f"--temp-dir={temp}"],
                          capture_output=True, text=True, timeout=180)
    if proc.returncode != 0:
        stop_head(temp)
        raise RuntimeError(f"ray start failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return temp, time.monotonic() - t0


def stop_head(temp: Path, grace_s: float = 5.0) -> None:
    import psutil

    def ours() -> list[psutil.Process]:
        found = []
        for p in psutil.process_iter(["cmdline"]):
            try:
                if any(str(temp) in part for part in p.info["cmdline"] or []):
                    found.append(p)
            except psutil.Error:
                pass
        return found

    procs = ours()
    for p in procs:
        try:
            p.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for p in alive + ours():
        try:
            p.kill()
        except psutil.Error:
            pass
    shutil.rmtree(temp, ignore_errors=True)
