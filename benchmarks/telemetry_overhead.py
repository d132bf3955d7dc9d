"""CPU cost of the telemetry sampler at its default rate, as a share of one core.

    python benchmarks/telemetry_overhead.py [--seconds 20] [--rate 2] [--job-pid PID]

Runs the real sampler (NVML when a GPU is present, psutil for the host) and reports the CPU time
its thread used over the wall time, side by side with the same process idling for as long.
Target: under 1% of one core at 2 Hz.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.telemetry.sampler import Sampler  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=2.0)
    ap.add_argument("--job-pid", type=int, default=os.getpid(), help="process tree to sample (default: this one)")
    args = ap.parse_args()

    cpu0, t0 = time.process_time(), time.monotonic()
    time.sleep(args.seconds / 4)
    idle_share = (time.process_time() - cpu0) / (time.monotonic() - t0)

    s = Sampler(rate_hz=args.rate)
    s.job_pid = args.job_pid
    cpu0, t0 = time.process_time(), time.monotonic()
    s.start()
    time.sleep(args.seconds)
    s.stop()
    wall = time.monotonic() - t0
    process_share = (time.process_time() - cpu0) / wall
    thread_share = s.cpu_seconds / wall
    gpus = "none (" + s.gpu_reason + ")" if s.gpu_reason else f"{len(s.gpus)} via NVML"
    print(f"sampled {s.samples} times in {wall:.1f} s at {args.rate:g} Hz; GPUs: {gpus}; job tree of pid {args.job_pid}")
    print(f"sampler thread CPU: {thread_share * 100:.3f}% of one core "
          f"({s.cpu_seconds / max(1, s.samples) * 1000:.2f} ms a sample)")
    print(f"whole process while sampling: {process_share * 100:.3f}%  vs idle: {idle_share * 100:.3f}%")
    print("target: < 1% of one core")
    return 0 if thread_share < 0.01 else 1


if __name__ == "__main__":
    sys.exit(main())
