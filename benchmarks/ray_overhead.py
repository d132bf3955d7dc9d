"""What the cluster path costs: the same job run here and through a local Ray head, side by side.

    python benchmarks/ray_overhead.py [--runs 3] [--steps 20] [--step-s 0.1] [--model DIR --calib FILE]

Without --model the job is the runner's selftest (a fixed amount of work); with --model (a small HF
model) it is a real AWQ quantize of it. Run as root: it re-runs itself in a network namespace that has
only `lo` (`unshare --net`), starts `ray start --head` there and stops it at the end. Prints the medians
of submit-to-result times, the ratio, and the fixed overhead in seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _spec(kind: str, tmp: Path, i: int, args, executor: str):
    from services.jobs.spec import JobSpec

    out = str(tmp / f"{executor.replace(':', '-')}-{i}")
    if args.model:
        params = {"method": "awq", "backend": "autoawq", "calib": args.calib, "samples": 16, "seqlen": 128,
                  "calib_mode": "concat", "seed": 42, "device": "cpu", "dtype": "float16", "keep": [],
                  "trust_remote_code": False, "overwrite": False, "force": False, "w_bit": 4, "q_group_size": 64,
                  "zero_point": True, "version": "gemm"}
        return JobSpec(kind="quantize", model=args.model, out=out, params=params, executor=executor)
    return JobSpec(kind="selftest", model="-", out=out, params={"steps": args.steps, "step_s": args.step_s},
                   executor=executor)


def inside(args) -> int:
    from services.clusters.config import Cluster, Storage
    from services.clusters.executor import RayExecutor
    from services.jobs.manager import JobManager
    from services.jobs.store import JobStore
    from tests.rayhead import ADDRESS, start_head, stop_head

    temp, head_s = start_head()
    try:
        tmp = Path(tempfile.mkdtemp(prefix="qd-ray-bench-"))
        cluster = Cluster("bench", ADDRESS, storage=[Storage("/", "/")], python=sys.executable)
        manager = JobManager(JobStore(tmp / "jobs.db"), tmp / "jobs", remote=lambda label: RayExecutor(cluster))
        from services.jobs import protocol as p

        times: dict[str, list[float]] = {"local": [], "ray:bench": []}
        phases: dict[str, list[tuple[float, float]]] = {k: [] for k in times}  # (to first event, after result)
        seen: dict[str, float] = {}
        manager.add_listener(lambda job_id, ev: seen.setdefault(f"{job_id}:{ev.TYPE}", time.perf_counter())
                             if isinstance(ev, (p.Stage, p.Result)) else None)
        for i in range(args.runs):
            for executor in times:
                t = time.perf_counter()
                rec = manager.wait(manager.submit(_spec("x", tmp, i, args, executor)).id, 1800)
                end = time.perf_counter()
                if rec.status != "succeeded":
                    raise SystemExit(f"{executor} run {i}: {rec.status}: {rec.error}")
                times[executor].append(end - t)
                phases[executor].append((round(seen[f"{rec.id}:stage"] - t, 2), round(end - seen[f"{rec.id}:result"], 2)))
        manager.shutdown()
        local, remote = statistics.median(times["local"]), statistics.median(times["ray:bench"])
        print(json.dumps({"job": "quantize " + Path(args.model).name if args.model else
                          f"selftest {args.steps}x{args.step_s}s", "runs": args.runs, "ray_head_start_s": round(head_s, 1),
                          "local_s": round(local, 2), "ray_s": round(remote, 2), "ratio": round(remote / local, 2),
                          "overhead_s": round(remote - local, 2), "all": times,
                          "to_first_event_and_after_result_s": phases}))
        shutil.rmtree(tmp, ignore_errors=True)
    finally:
        stop_head(temp)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--step-s", type=float, default=0.1)
    ap.add_argument("--model", help="a small HF model folder: time a real AWQ quantize instead of the selftest")
    ap.add_argument("--calib", help="calibration text file for --model")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.model and not args.calib:
        ap.error("--model needs --calib FILE")
    if args.inside:
        return inside(args)
    argv = [sys.executable, __file__, "--inside", *sys.argv[1:]]
    cmd = "ip link set lo up && exec " + " ".join(f"'{a}'" for a in argv)
    return subprocess.run(["unshare", "--net", "sh", "-c", cmd],
                          env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}).returncode


if __name__ == "__main__":
    sys.exit(main())
