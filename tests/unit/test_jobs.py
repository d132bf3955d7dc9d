"""The job store and manager with the runner's selftest job: status, events, queue, cancel, crash."""
import json
import os
import signal
import sqlite3
import time

import pytest

from services.jobs.manager import JobManager
from services.jobs.protocol import to_dict
from services.jobs.spec import JobSpec
from services.jobs.store import JobStore


@pytest.fixture
def store(tmp_path):
    s = JobStore(tmp_path / "jobs.db")
    yield s
    s.close()


@pytest.fixture
def manager(store, tmp_path):
    m = JobManager(store, tmp_path / "jobs")
    yield m
    m.shutdown()


def selftest(out=None, **params):
    return JobSpec(kind="selftest", model="-", out=str(out) if out else None, params=params)


def test_spec_round_trip():
    spec = JobSpec(kind="quantize", model="D:/模型 a", out="D:/out", params={"group_size": 64})
    again = JobSpec.from_json(spec.to_json())
    assert again == spec
    assert spec.rerun().id != spec.id and spec.rerun().params == spec.params
    with pytest.raises(ValueError, match="unknown job kind"):
        JobSpec.from_json(json.dumps({"kind": "bake", "model": "x"}))


def test_store_persists_jobs_and_events(store, tmp_path):
    spec = selftest()
    store.add(spec)
    store.set_status(spec.id, "running", pid=123)
    store.add_event(spec.id, {"type": "progress", "done": 1, "total": 2})
    store.set_progress(spec.id, 1, 2, "layer", "half way", 3.5)
    again = JobStore(tmp_path / "jobs.db")  # a second connection (another process) sees it all
    rec = again.get(spec.id[-6:])  # a unique part of the id is enough
    assert (rec.status, rec.pid, rec.done, rec.total, rec.eta_s) == ("running", 123, 1, 2, 3.5)
    assert again.events(spec.id)[0]["done"] == 1
    assert sqlite3.connect(tmp_path / "jobs.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(ValueError, match="cancel it before deleting"):
        again.delete(spec.id)
    again.close()


def test_jobs_of_a_crashed_app_are_marked_interrupted(store):
    a, b, c, d = selftest(), selftest(), selftest(), selftest()
    store.add(a)
    store.add(b)
    store.add(c, owner="gone-process")
    store.add(d, owner="live-process")
    store.set_status(a.id, "running", pid=999_999)  # its runner is gone
    store.set_status(b.id, "running", pid=os.getpid())  # still alive
    gone = store.mark_interrupted(lambda rec: rec.pid == os.getpid(), lambda owner: owner == "live-process")
    assert sorted(r.id for r in gone) == sorted([a.id, c.id])
    assert store.get(a.id).status == "interrupted" and "stopped while" in store.get(a.id).error
    assert store.get(b.id).status == "running" and store.get(d.id).status == "queued"
    assert store.get(c.id).status == "interrupted"


def test_a_job_runs_reports_and_renames_its_output(manager, tmp_path):
    out = tmp_path / "result 结果"
    events = []
    manager.add_listener(lambda job_id, ev: events.append(to_dict(ev)))
    rec = manager.submit(selftest(out, steps=4, step_s=0.01))
    final = manager.wait(rec.id, timeout=60)
    assert final.status == "succeeded" and final.result["steps"] == 4
    assert out.is_dir() and not (tmp_path / "result 结果.partial").exists()
    types = [e["type"] for e in events]
    assert types[0] == "status" and "stage" in types and types.count("progress") == 4
    assert types[-2:] == ["result", "status"]
    stored = manager.store.events(rec.id)
    assert [e["type"] for e in stored if e["type"] != "status"] == [t for t in types if t != "status"]
    log = open(final.log_path, encoding="utf-8").read()
    assert "library chatter" in log and "C-level chatter" in log  # not in the event stream
    assert final.done == 4 and final.total == 4


def test_a_failing_job_says_why_and_leaves_no_output(manager, tmp_path):
    out = tmp_path / "out"
    final = manager.wait(manager.submit(selftest(out, steps=5, step_s=0.01, fail_at=2)).id, timeout=60)
    assert final.status == "failed"
    assert final.error == "selftest failed at step 2 as asked — this is what a failure looks like"
    assert not out.exists() and not (tmp_path / "out.partial").exists()


def test_queue_respects_concurrency_and_queued_jobs_cancel(manager):
    a = manager.submit(selftest(steps=20, step_s=0.05))
    b = manager.submit(selftest(steps=1))
    c = manager.submit(selftest(steps=1))
    assert manager.running() == [a.id] and manager.queued() == [b.id, c.id]
    assert manager.cancel(c.id) and manager.store.get(c.id).status == "cancelled"
    assert manager.wait(a.id, 60).status == "succeeded"
    deadline = time.time() + 30
    while manager.store.get(b.id).status != "succeeded" and time.time() < deadline:
        time.sleep(0.05)
    assert manager.store.get(b.id).status == "succeeded"
    assert manager.store.get(b.id).started >= manager.store.get(a.id).finished


def test_cancel_running_job_within_two_seconds(manager, tmp_path):
    import psutil

    out = tmp_path / "x"
    rec = manager.submit(selftest(out, steps=1000, step_s=0.05))
    deadline = time.time() + 30
    while manager.store.get(rec.id).done < 2 and time.time() < deadline:
        time.sleep(0.02)
    pid = manager.store.get(rec.id).pid
    t0 = time.monotonic()
    assert manager.cancel(rec.id)
    final = manager.wait(rec.id, 10)
    assert final.status == "cancelled" and time.monotonic() - t0 < 2.0
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (tmp_path / "x.partial").exists() and not out.exists()


def test_a_killed_runner_fails_the_job_and_the_manager_lives_on(manager):
    rec = manager.submit(selftest(steps=1000, step_s=0.05))
    deadline = time.time() + 30
    while manager.store.get(rec.id).done < 1 and time.time() < deadline:
        time.sleep(0.02)
    os.kill(manager.store.get(rec.id).pid, signal.SIGKILL)
    final = manager.wait(rec.id, 10)
    assert final.status == "failed" and "killed by SIGKILL" in final.error
    assert manager.wait(manager.submit(selftest(steps=1)).id, 60).status == "succeeded"  # still works
