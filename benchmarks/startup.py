"""Startup cost of the workbench against a bare Qt window, measured side by side.

    python benchmarks/startup.py [--runs 7]

Each run is a fresh process; the clock runs from spawning it to its first shown window (the
child prints one line from the event loop's first turn). Prints the medians and their ratio.
Target: ratio < 1.5, and no ML library imported by the GUI process.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE = (
    "import json\n"
    "from PySide6.QtCore import QTimer\n"
    "from PySide6.QtWidgets import QApplication, QMainWindow\n"
    "app = QApplication([]); w = QMainWindow(); w.resize(1200, 800); w.show()\n"
    "QTimer.singleShot(0, lambda: (print(json.dumps({'shown': True, 'ml_modules': []}), flush=True), app.quit()))\n"
    "app.exec()\n"
)


def time_to_window(cmd: list[str], env: dict) -> tuple[float, dict]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - t0
    proc.wait(timeout=60)
    if not line:
        raise RuntimeError(f"{cmd} printed nothing (exit {proc.returncode})")
    return elapsed, json.loads(line)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    home = tempfile.mkdtemp(prefix="qd-startup-")
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "QUANTDESK_HOME": home, "QUANTDESK_STARTUP_PROBE": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed app starts from compiled bytecode
    app_cmd = [sys.executable, "-m", "app", "gui"]
    bare_cmd = [sys.executable, "-c", BARE]
    time_to_window(app_cmd, env)  # warm the file cache and compile the translations once
    app_times, bare_times, ml = [], [], set()
    for _ in range(args.runs):  # interleaved, so drift affects both alike
        t, info = time_to_window(app_cmd, env)
        app_times.append(t)
        ml.update(info["ml_modules"])
        bare_times.append(time_to_window(bare_cmd, env)[0])
    a, b = statistics.median(app_times), statistics.median(bare_times)
    print(f"runs: {args.runs} each, interleaved, platform {env['QT_QPA_PLATFORM']}")
    print(f"quantdesk to first window:      median {a * 1000:7.1f} ms")
    print(f"bare QApplication+QMainWindow:  median {b * 1000:7.1f} ms")
    print(f"ratio: {a / b:.2f} (target < 1.5)")
    print(f"ML modules imported by the GUI: {sorted(ml) or 'none'}")
    return 0 if a / b < 1.5 and not ml else 1


if __name__ == "__main__":
    sys.exit(main())
