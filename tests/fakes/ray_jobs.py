"""A FAKE of Ray's `JobSubmissionClient` for unit tests (the real head runs in
tests/integration/ray_head_cases.py). It runs each submitted entrypoint as a local shell process in a
copy of the working_dir, keeps its state in files under FAKE_RAY_DIR (so the executor's bridge
processes share it), and answers the calls RayExecutor makes. FAKE_RAY_MODE: ok (default), down (every
call fails as if the head were unreachable), envfail (the runtime env fails: the entrypoint never runs).
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace


def _root() -> Path:
    return Path(os.environ["FAKE_RAY_DIR"])


class FakeJobSubmissionClient:
    def __init__(self, address: str, headers: dict | None = None):
        self.address, self.headers = address, headers or {}
        if os.environ.get("FAKE_RAY_MODE") == "down":
            raise ConnectionError(f"Failed to connect to Ray at address: {address}")
        _root().mkdir(parents=True, exist_ok=True)
        (_root() / "headers.json").write_text(json.dumps(self.headers))

    def _job(self, job_id: str) -> Path:
        d = _root() / job_id
        if not d.is_dir():
            raise RuntimeError(f"Request failed with status code 404: Job {job_id} does not exist.")
        return d

    def submit_job(self, *, entrypoint: str, runtime_env: dict, submission_id: str, metadata: dict, **kw) -> str:
        d = _root() / submission_id
        if d.exists():
            raise RuntimeError(f"Job with submission_id {submission_id} already exists.")
        shutil.copytree(runtime_env["working_dir"], d / "wd")
        (d / "request.json").write_text(json.dumps({"entrypoint": entrypoint, "runtime_env": runtime_env,
                                                    "metadata": metadata, **kw}))
        log = open(d / "log", "w")
        log.write("Runtime env is setting up.\n")
        log.flush()
        if os.environ.get("FAKE_RAY_MODE") == "envfail":
            (d / "rc").write_text("none")
            (d / "message").write_text("runtime env setup failed: pip install torch==0 failed")
            return submission_id
        env = {**os.environ, **runtime_env.get("env_vars", {}), "PYTHONPATH": str(d / "wd")}
        wrapped = f"{entrypoint}; echo $? > {d / 'rc'}"
        proc = subprocess.Popen(["sh", "-c", wrapped], cwd=d / "wd", stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        (d / "pid").write_text(str(proc.pid))
        return submission_id

    def stop_job(self, job_id: str) -> bool:
        d = self._job(job_id)
        if (d / "rc").exists():
            return False
        (d / "stopped").write_text("1")
        pid = int((d / "pid").read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        return True

    def get_job_info(self, job_id: str):
        d = self._job(job_id)
        rc = (d / "rc").read_text().strip() if (d / "rc").exists() else None
        if rc is None and (d / "stopped").exists() and not _alive(int((d / "pid").read_text())):
            rc = "stopped"
        if rc is None:
            status, code = "RUNNING", None
        elif (d / "stopped").exists():
            status, code = "STOPPED", None
        elif rc == "none":
            status, code = "FAILED", None
        else:
            status, code = ("SUCCEEDED" if rc == "0" else "FAILED"), int(rc)
        message = (d / "message").read_text() if (d / "message").exists() else ""
        return SimpleNamespace(status=SimpleNamespace(value=status), message=message, driver_exit_code=code)

    def get_job_logs(self, job_id: str) -> str:
        return (self._job(job_id) / "log").read_text()

    async def tail_job_logs(self, job_id: str):
        d = self._job(job_id)
        pos = 0
        while True:
            done = self.get_job_info(job_id).status.value != "RUNNING"
            text = (d / "log").read_text()
            if len(text) > pos:
                yield text[pos:]
                pos = len(text)
            if done:
                return
            await asyncio.sleep(0.05)


def list_nodes(address: str, headers: dict) -> list[dict]:
    """What Ray's State API would answer: one live node (FAKE_RAY_GPUS GPUs) and a dead one."""
    gpus = float(os.environ.get("FAKE_RAY_GPUS", "0"))
    res = {"CPU": 8.0, "memory": 64 * 2**30, **({"GPU": gpus, "accelerator_type:H100": 1.0} if gpus else {})}
    return [{"ip": "10.0.0.5", "state": "ALIVE", "head": True, "resources": res},
            {"ip": "10.0.0.6", "state": "DEAD", "head": False, "resources": {"CPU": 64.0}}]


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def main() -> None:  # `python -m tests.fakes.ray_jobs JOB_ID`: the job's state, for a test to read
    d = _root() / sys.argv[1]
    print(json.dumps({"rc": (d / "rc").read_text().strip() if (d / "rc").exists() else None, "at": time.time()}))


if __name__ == "__main__":
    main()


def use_fake_cluster(monkeypatch, root: Path, storage_remote: str, storage_local: str, **cluster) -> None:
    """Point QuantDesk at this fake (state under root/cluster) and save a cluster "lab" whose shared storage
    is `storage_remote` (mounted here at `storage_local`)."""
    from services.clusters.config import Cluster, Clusters, Storage, save_clusters

    monkeypatch.setenv("QUANTDESK_RAY_CLIENT", "tests.fakes.ray_jobs:FakeJobSubmissionClient")
    monkeypatch.setenv("FAKE_RAY_DIR", str(root / "cluster"))
    cs = Clusters()
    cs.put(Cluster("lab", "http://10.0.0.5:8265", storage=[Storage(storage_remote, storage_local)],
                   python=sys.executable, **cluster))
    save_clusters(cs)
