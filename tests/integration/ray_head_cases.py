"""Remote jobs on a real Ray head: run by tests/integration/test_ray_cluster.py inside a network
namespace that has only `lo` (never collected on its own: its name does not start with test_)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.rayhead import ADDRESS, start_head, stop_head

INSIDE = "QUANTDESK_RAY_NETNS"
pytestmark = pytest.mark.skipif(not os.environ.get(INSIDE), reason="runs inside the loopback-only namespace only")


@pytest.fixture(scope="module")
def ray_head():
    temp, took = start_head()
    print(f"ray head up in {took:.1f} s")
    yield ADDRESS
    stop_head(temp)


def quantdesk(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


class TestOnRayHead:
    @pytest.fixture(autouse=True)
    def clusters(self, ray_head, tmp_path_factory):
        self.storage = str(tmp_path_factory.getbasetemp())  # the "shared storage": models, outputs
        for name, storage in (("lab", f"{self.storage}={self.storage}"), ("far", f"{self.storage}=")):
            proc = quantdesk("cluster", "add", name, "--address", ray_head, "--storage", storage,
                             "--python", sys.executable, "--header", "X-Test: 1")
            assert proc.returncode == 0, proc.stderr

    def test_check_reports_the_cluster_and_its_python(self):
        proc = quantdesk("cluster", "check", "lab", "--json")
        assert proc.returncode == 0, proc.stderr[-3000:]
        doc = json.loads(proc.stdout)
        assert doc["resources"]["cpus"] == 2 and doc["resources"]["gpus"] == 0
        assert doc["probe"]["packages"]["torch"] and doc["probe"]["storage"] == {self.storage: "ok"}
        assert doc["problems"] == []

    def test_a_local_path_the_cluster_cannot_read_is_refused_before_submitting(self, tmp_path):
        proc = quantdesk("quantize", "--model", "/home/nobody/model", "--out", f"{self.storage}/x",
                         "--executor", "ray", "--cluster", "lab")
        assert proc.returncode == 2 and "cannot read /home/nobody/model" in proc.stderr
        assert "Put it on the shared storage" in proc.stderr

    def test_a_gpu_job_on_a_cluster_without_gpus_is_refused(self, tiny_llama):
        proc = quantdesk("quantize", "--model", str(tiny_llama), "--out", f"{self.storage}/gpu", "--device", "cuda",
                         "--executor", "ray", "--cluster", "lab")
        assert proc.returncode == 2 and "cluster lab has no GPU" in proc.stderr, proc.stderr[-2000:]

    def test_quantize_on_the_cluster_then_fetch_it_through_the_mount_and_through_ray(self, tiny_llama, calib_file,
                                                                                     tmp_path_factory):
        out = Path(self.storage) / "remote out" / "awq"
        started = time.monotonic()
        proc = quantdesk("quantize", "--model", str(tiny_llama), "--out", str(out), "--calib", str(calib_file),
                         "--samples", "16", "--seqlen", "128", "--group-size", "64", "--json",
                         "--executor", "ray", "--cluster", "lab")
        assert proc.returncode == 0, proc.stderr[-4000:]
        doc = json.loads(proc.stdout)
        print(f"remote quantize: {time.monotonic() - started:.1f} s")
        assert doc["status"] == "succeeded" and doc["summary"]["out"] == str(out)
        assert "quantizing: layer 1/2" in proc.stderr and "ETA" in proc.stderr  # live progress from the cluster
        assert "output on cluster lab" in proc.stderr
        assert (out / "quantdesk.json").is_file() and not out.with_name("awq.partial").exists()
        jobs = json.loads(quantdesk("jobs", "list", "--json").stdout)
        assert jobs[0]["id"] == doc["id"] and jobs[0]["executor"] == "ray:lab"

        here = tmp_path_factory.mktemp("fetched")
        for via, dest in (("mount", here / "via mount"), ("ray", here / "via ray")):
            if via == "ray":  # the same job seen through a cluster whose storage is not mounted here
                self._retarget(doc["id"], "ray:far")
            proc = quantdesk("jobs", "fetch", doc["id"], "--out", str(dest), "--json")
            assert proc.returncode == 0, proc.stderr[-3000:]
            summary = json.loads(proc.stdout)["summary"]
            assert summary["via"] == via and summary["files"] == len([f for f in out.rglob("*") if f.is_file()])
            for f in out.rglob("*"):
                if f.is_file():
                    assert (dest / f.relative_to(out)).read_bytes() == f.read_bytes(), f
        proc = quantdesk("jobs", "fetch", doc["id"], "--out", str(here / "via mount"))
        assert proc.returncode == 2 and "exists" in proc.stderr  # nothing is overwritten without --overwrite

    def _retarget(self, job_id: str, executor: str) -> None:
        import sqlite3

        db = sqlite3.connect(Path(os.environ["QUANTDESK_HOME"]) / "data" / "jobs.db")
        spec = json.loads(db.execute("SELECT spec FROM jobs WHERE id=?", (job_id,)).fetchone()[0])
        spec["executor"] = executor
        db.execute("UPDATE jobs SET spec=?, executor=? WHERE id=?", (json.dumps(spec), executor, job_id))
        db.commit()
        db.close()

    def test_cancel_stops_the_job_on_the_cluster_and_leaves_no_partial_output(self):
        from services.jobs.local import make_manager
        from services.jobs.spec import JobSpec

        out = Path(self.storage) / "cancelled"
        manager = make_manager()
        rec = manager.submit(JobSpec(kind="selftest", model="-", out=str(out), params={"steps": 400, "step_s": 0.1},
                                     executor="ray:lab"))
        deadline = time.monotonic() + 120
        while manager.store.get(rec.id).done < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert manager.store.get(rec.id).done >= 3
        started = time.monotonic()
        assert manager.cancel(rec.id)
        print(f"remote cancel: {time.monotonic() - started:.1f} s")
        final = manager.store.get(rec.id)
        assert final.status == "cancelled"
        assert any(e["type"] == "cancelled" for e in manager.store.events(rec.id))  # the runner stopped by itself
        assert not out.exists() and not out.with_name("cancelled.partial").exists()
        manager.shutdown()

    def test_a_restarted_quantdesk_reattaches_to_a_job_still_running_there(self):
        from services.jobs.local import make_manager

        out = Path(self.storage) / "reattached"
        cli = subprocess.Popen([sys.executable, "-m", "app", "jobs", "selftest", "--steps", "60", "--step-s", "0.1",
                                "--out", str(out), "--executor", "ray", "--cluster", "lab"], cwd=ROOT,
                               stderr=subprocess.DEVNULL)
        manager = make_manager()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            recs = [r for r in manager.store.list(5) if r.kind == "selftest" and r.done >= 5]
            if recs:
                break
            time.sleep(0.2)
        assert recs, "the job made no progress"
        job = recs[0]
        os.kill(cli.pid, signal.SIGKILL)  # QuantDesk dies; the job goes on on the cluster
        cli.wait()
        seen = len(manager.store.events(job.id))
        assert manager.reattach() == [job.id]
        final = manager.wait(job.id, 120)
        assert final.status == "succeeded", final.error
        done = [e["done"] for e in manager.store.events(job.id) if e["type"] == "progress"]
        assert done == list(range(1, 61)), "events were lost or given twice after the reattach"
        assert len(manager.store.events(job.id)) > seen and (out / "step59.txt").is_file()
        manager.shutdown()

    def test_a_job_whose_cluster_node_dies_stops_and_leaves_no_partial_output(self):
        import psutil

        from services.jobs.local import make_manager
        from services.jobs.spec import JobSpec

        out = Path(self.storage) / "orphan"
        manager = make_manager()
        rec = manager.submit(JobSpec(kind="selftest", model="-", out=str(out), params={"steps": 900, "step_s": 0.1},
                                     executor="ray:lab"))
        deadline = time.monotonic() + 120
        while manager.store.get(rec.id).done < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        runners = [p for p in psutil.process_iter(["cmdline"])  # the runner itself, not Ray's `sh -c` around it
                   if "--stop-on-term" in (p.info["cmdline"] or []) and "python" in (p.info["cmdline"] or [""])[0]]
        assert len(runners) == 1 and out.with_name("orphan.partial").exists()
        supervisor = next(p for p in runners[0].parents() if p.name().startswith("ray::"))
        supervisor.kill()  # the node's job supervisor dies (as when the head is killed)
        psutil.wait_procs(runners, timeout=10)
        assert not runners[0].is_running(), "the runner went on as an orphan"
        assert not out.exists() and not out.with_name("orphan.partial").exists()
        manager.shutdown(keep_remote=False)
