"""The job platform's seams: store versions and recovery, machine-wide slots, cross-process cancel,
outputs that never lose data, the runtime and executor, typed events, checkpoint formats."""
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.jobs import protocol as p
from services.jobs.manager import JobManager, process_token
from services.jobs.outputs import check_output, commit, discard_partial, make_partial, partial_path
from services.jobs.slots import SlotPool
from services.jobs.spec import JobSpec
from services.jobs.store import SCHEMA_VERSION, JobStore
from tests.conftest import ROOT

OLD_SCHEMA = """
CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, model TEXT NOT NULL, out TEXT, spec TEXT NOT NULL,
    status TEXT NOT NULL, created REAL NOT NULL, started REAL, finished REAL, pid INTEGER, done INTEGER DEFAULT 0,
    total INTEGER DEFAULT 0, unit TEXT DEFAULT '', message TEXT DEFAULT '', eta_s REAL, result TEXT, error TEXT,
    log_path TEXT);
CREATE TABLE events (job_id TEXT NOT NULL, seq INTEGER NOT NULL, t REAL NOT NULL, type TEXT NOT NULL,
    payload TEXT NOT NULL, PRIMARY KEY (job_id, seq));
"""


def selftest(out=None, **params):
    return JobSpec(kind="selftest", model="-", out=str(out) if out else None, params=params)


def wait_for(cond, timeout=30.0):
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


# -- store
def test_a_store_from_the_first_version_is_migrated(tmp_path):
    db = sqlite3.connect(tmp_path / "jobs.db")
    db.executescript(OLD_SCHEMA)
    spec = selftest()
    db.execute("INSERT INTO jobs (id, kind, model, spec, status, created) VALUES (?,?,?,?,?,?)",
               (spec.id, "selftest", "-", spec.to_json(), "succeeded", spec.created))
    db.commit()
    db.close()
    store = JobStore(tmp_path / "jobs.db")
    assert store.version == SCHEMA_VERSION
    rec = store.get(spec.id)
    assert rec.status == "succeeded" and rec.owner is None and rec.executor == "local"


def test_a_newer_store_and_unknown_job_kinds_are_listed_not_fatal(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    store._exec("ALTER TABLE jobs ADD COLUMN cluster TEXT")  # a column of a newer QuantDesk
    store._exec("PRAGMA user_version = 99")
    future = {"kind": "distill", "model": "/m", "out": None, "params": {"engine": "vllm"}, "id": "j-distill",
              "created": 1.0}
    store._exec("INSERT INTO jobs (id, kind, model, spec, status, created, cluster) VALUES (?,?,?,?,?,?,?)",
                ("j-distill", "distill", "/m", json.dumps(future), "succeeded", 1.0, "gpu-a"))
    store.close()
    again = JobStore(tmp_path / "jobs.db")
    assert again.version == 99  # never migrated down
    [rec] = again.list()
    assert rec.kind == "distill" and not rec.known_kind and rec.spec.params == {"engine": "vllm"}
    with pytest.raises(ValueError, match="unknown job kind"):
        JobSpec.from_json(json.dumps(future))  # the runner's strict reading


def test_a_damaged_store_is_moved_aside(tmp_path):
    (tmp_path / "jobs.db").write_bytes(b"\x00garbage" * 512)
    store = JobStore(tmp_path / "jobs.db")
    assert store.notice and "moved to jobs.db.corrupt-" in store.notice
    assert len(list(tmp_path.glob("jobs.db.corrupt-*"))) == 1 and store.list() == []


def test_queued_jobs_of_a_live_instance_survive_a_second_instance(quantdesk_home):
    from services.jobs.local import open_store

    first = open_store()
    live, dead = selftest(), selftest()
    first.add(live, owner=process_token())
    first.add(dead, owner="999999:1.0")
    second = open_store()  # what a second window or a CLI does at start
    assert second.get(live.id).status == "queued" and second.get(dead.id).status == "interrupted"


def test_the_partial_output_of_a_dead_job_is_removed_at_the_next_start(quantdesk_home, tmp_path):
    from services.jobs.local import open_store

    store = open_store()
    out = tmp_path / "out"
    spec = selftest(out)
    store.add(spec)
    store.set_status(spec.id, "running", pid=999_999)
    make_partial(out)
    (partial_path(out) / "half.bin").write_bytes(b"x")
    theirs = tmp_path / "theirs"
    spec2 = selftest(theirs)
    store.add(spec2)
    store.set_status(spec2.id, "running", pid=999_998)
    partial_path(theirs).mkdir()  # a folder of the user's that happens to have that name
    (partial_path(theirs) / "thesis.txt").write_text("keep")
    assert open_store().get(spec.id).status == "interrupted"
    assert not partial_path(out).exists()
    assert (partial_path(theirs) / "thesis.txt").read_text() == "keep"


def test_a_folder_named_like_the_work_folder_is_never_deleted(tmp_path):
    """`<out>.partial` that QuantDesk did not make (even the model itself) is refused, not deleted."""
    model = tmp_path / "m.partial"
    model.mkdir()
    (model / "config.json").write_text("{}")
    errors = check_output(tmp_path / "m", [model]).errors
    assert errors and "work folder" in errors[0]
    (tmp_path / "o.partial").mkdir()
    assert "not made by QuantDesk" in check_output(tmp_path / "o", []).errors[0]
    with pytest.raises(FileExistsError):
        make_partial(tmp_path / "o")
    discard_partial(tmp_path / "o")
    assert (tmp_path / "o.partial").is_dir() and (model / "config.json").exists()
    ours = make_partial(tmp_path / "fresh")
    commit(ours, tmp_path / "fresh")
    assert not (tmp_path / "fresh" / ".quantdesk-partial").exists()


# -- slots and managers
def test_slots_are_machine_wide(tmp_path):
    a, b = SlotPool(tmp_path, 1), SlotPool(tmp_path, 1)
    slot = a.try_acquire()
    assert slot is not None and b.try_acquire() is None
    slot.release()
    assert b.try_acquire() is not None


@pytest.fixture
def two_managers(tmp_path):
    """Two managers on one store file and jobs folder, as the GUI and a CLI are."""
    managers = [JobManager(JobStore(tmp_path / "jobs.db"), tmp_path / "jobs") for _ in range(2)]
    yield managers
    for m in managers:
        m.shutdown()


def test_concurrency_holds_across_managers(two_managers):
    a, b = two_managers
    long = a.submit(selftest(steps=10, step_s=0.05))
    short = b.submit(selftest(steps=1))
    assert b.queued() == [short.id]
    assert a.wait(long.id, 60).status == "succeeded"
    wait_for(lambda: b.store.get(short.id).status == "succeeded")
    assert b.store.get(short.id).started >= a.store.get(long.id).finished


def test_cancel_from_another_process_is_recorded_as_cancelled(two_managers, tmp_path):
    a, b = two_managers
    out = tmp_path / "o"
    rec = a.submit(selftest(out, steps=1000, step_s=0.05))
    wait_for(lambda: a.store.get(rec.id).done >= 2)
    t0 = time.monotonic()
    assert b.cancel(rec.id)
    final = a.wait(rec.id, 10)
    assert final.status == "cancelled" and final.error is None, final.error
    assert time.monotonic() - t0 < 2.0
    assert not partial_path(out).exists()


def test_queued_jobs_of_another_process_can_be_cancelled_and_deleted(two_managers):
    a, b = two_managers
    running = a.submit(selftest(steps=200, step_s=0.05))
    queued = a.submit(selftest(steps=1))
    assert b.cancel(queued.id) and b.store.get(queued.id).status == "cancelled"
    again = a.submit(selftest(steps=1))
    b.store.delete(again.id)  # a queued job's record can go: it is cancelled first
    a.cancel(running.id)
    a.wait(running.id, 10)
    time.sleep(0.7)  # the queue moves on without the deleted job
    assert again.id not in a.queued()


def test_a_store_error_does_not_kill_the_reader_or_stall_the_queue(tmp_path, monkeypatch, logfail):
    store = JobStore(tmp_path / "jobs.db")
    m = JobManager(store, tmp_path / "jobs")
    real, calls = store.add_event, []

    def flaky(job_id, event):
        calls.append(1)
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        return real(job_id, event)

    monkeypatch.setattr(store, "add_event", flaky)
    logfail.allow("could not store an event")
    first = m.submit(selftest(steps=3, step_s=0.01))
    second = m.submit(selftest(steps=1))
    assert m.wait(first.id, 60).status == "succeeded"
    wait_for(lambda: store.get(second.id).status == "succeeded")
    m.shutdown()


def test_a_job_environment_with_non_text_values_fails_the_job_not_the_queue(tmp_path, logfail):
    m = JobManager(JobStore(tmp_path / "jobs.db"), tmp_path / "jobs", env=lambda: {**os.environ, "X": 1})
    logfail.allow("the job could not start")
    rec = m.submit(selftest(steps=1))
    final = m.store.get(rec.id)
    assert final.status == "failed" and "non-text values for X" in final.error
    assert m.running() == [] and m.slots.try_acquire() is not None  # the slot was given back
    m.shutdown()


# -- runner
def test_a_cancel_file_stops_the_runner_at_its_next_step(tmp_path):
    out = tmp_path / "out"
    spec = selftest(out, steps=1000, step_s=0.05)
    path = tmp_path / "spec.json"
    path.write_text(spec.to_json())
    proc = subprocess.Popen([sys.executable, "-m", "services.jobs.runner", str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    wait_for(lambda: partial_path(out).exists())
    path.with_suffix(".cancel").touch()
    stdout, _ = proc.communicate(timeout=5)
    assert proc.returncode == p.EXIT_CANCELLED
    assert isinstance(p.parse_line(stdout.splitlines()[-1]), p.Cancelled)
    assert not partial_path(out).exists() and not out.exists()


# -- outputs
def test_output_checks(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (tmp_path / "a file").write_text("x")
    cases = {
        tmp_path: "contains the input",
        model: "is or lies inside the input",
        model / "sub": "is or lies inside the input",
        tmp_path / "a file": "is a file, not a folder",
        tmp_path / "a file" / "out": "is a file, so",
        Path("relative/out"): "is relative",
        Path("/proc/quantdesk-out"): "cannot write in /proc",
    }
    for out, message in cases.items():
        errors = check_output(out, [model]).errors
        assert errors and message in errors[0], (out, errors)
    assert check_output(tmp_path / "new 新", [model]).errors == []


def test_commit_swaps_and_puts_the_old_output_back_when_the_move_fails(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    partial = partial_path(out)
    partial.mkdir()
    (partial / "new.txt").write_text("new")
    real = Path.rename

    def failing(self, target):
        if self == partial:
            raise OSError("disk full")
        return real(self, target)

    monkeypatch.setattr(Path, "rename", failing)
    with pytest.raises(OSError):
        commit(partial, out)
    assert (out / "old.txt").read_text() == "old"
    monkeypatch.setattr(Path, "rename", real)
    commit(partial, out)
    assert [f.name for f in out.iterdir()] == ["new.txt"] and list(tmp_path.iterdir()) == [out]


def test_file_outputs_go_through_partial_too(tmp_path):
    out = tmp_path / "model.gguf"
    assert partial_path(out).name == "model.gguf.partial"
    partial_path(out).write_bytes(b"GGUF")
    commit(partial_path(out), out)
    assert out.read_bytes() == b"GGUF" and not partial_path(out).exists()
    assert "exists" in check_output(out, [], kind="file").errors[0]
    assert check_output(out, [], kind="file", overwrite=True).errors == []


def test_specs_report_their_relative_paths():
    spec = JobSpec(kind="eval", model="m", params={"text": "README.md", "also": ["/abs", "rel"], "baseline": None})
    assert spec.relative_paths() == ["model=m", "also=rel", "text=README.md"]
    ok = JobSpec(kind="quantize", model="C:\\模型 a", out="D:\\out", params={"calib": "pileval"})
    assert ok.relative_paths() == []  # Windows paths and dataset names are fine


# -- runtime and executor
def test_runtimes_build_the_runner_command(tmp_path):
    from services.runtime.runtime import Runtime, current_runtime, venv_runtime

    frozen = Runtime("bundled", "C:\\Program Files\\QuantDesk\\quantdesk.exe", frozen=True)
    assert frozen.module_command("services.jobs.runner", "a.json") == [
        "C:\\Program Files\\QuantDesk\\quantdesk.exe", "--run-module", "services.jobs.runner", "a.json"]
    dev = current_runtime()
    assert dev.module_command("app")[:2] == [sys.executable, "-m"]
    assert dev.environment({})["PYTHONPATH"] == str(ROOT) and dev.environment({})["PYTHONIOENCODING"] == "utf-8"
    assert venv_runtime("ml", tmp_path).python.endswith(("bin/python", "python.exe"))


def test_windows_job_object_is_kill_on_close():
    from services.runtime import winjob

    class FakeKernel32:
        """A fake of kernel32 (no Windows here): records the calls."""
        def __init__(self):
            self.calls = []

        def CreateJobObjectW(self, *a):
            self.calls.append("CreateJobObjectW")
            return 7

        def SetInformationJobObject(self, handle, cls, info, size):
            limits = winjob._ExtendedLimits.from_buffer_copy(bytes(info._obj))
            self.calls.append(("SetInformationJobObject", handle, cls, limits.BasicLimitInformation.LimitFlags))
            return 1

        def OpenProcess(self, access, inherit, pid):
            self.calls.append(("OpenProcess", pid))
            return 9

        def AssignProcessToJobObject(self, job, proc):
            self.calls.append(("AssignProcessToJobObject", job, proc))
            return 1

        def CloseHandle(self, h):
            self.calls.append(("CloseHandle", h))
            return 1

    k = FakeKernel32()
    assert winjob.tie_to_this_process(1234, kernel32=k)
    assert k.calls == ["CreateJobObjectW", ("SetInformationJobObject", 7, 9, winjob.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE),
                       ("OpenProcess", 1234), ("AssignProcessToJobObject", 7, 9), ("CloseHandle", 9)]


# -- typed events
def test_events_parse_in_one_place():
    ev = p.Progress(3, 10, "layer", "layer 4/10", 12.5)
    assert p.parse_line(p.to_line(ev)) == ev and p.to_dict(ev)["v"] == p.VERSION
    assert p.parse_event({"type": "progress", "done": 1, "total": 2, "new_field": "x"}) == p.Progress(1, 2)
    assert isinstance(p.parse_event({"type": "telemetry", "gpu": 1}), p.Log)  # a newer runner's event
    assert p.parse_event({"type": "stage"}).level == "WARNING"  # a required field missing
    assert p.parse_line("plain text from a library") == p.Log("plain text from a library")


# -- checkpoint formats
def test_checkpoint_format_is_read_from_the_checkpoint(tmp_path):
    from services.checkpoint import checkpoint_format

    def folder(name, cfg):
        d = tmp_path / name
        d.mkdir()
        (d / "config.json").write_text(json.dumps(cfg))
        return d

    awq = checkpoint_format(folder("awq", {"quantization_config": {"quant_method": "awq", "bits": 4,
                                                                   "group_size": 64, "version": "gemv"}}))
    assert (awq.kind, awq.group_size, awq.version, awq.planner_format) == ("awq", 64, "gemv", "awq4")
    ct = checkpoint_format(folder("ct", {"quantization_config": {
        "quant_method": "compressed-tensors", "format": "pack-quantized",
        "config_groups": {"group_0": {"weights": {"num_bits": 4, "group_size": 128}}}}}))
    assert (ct.kind, ct.weight_bits, ct.group_size, ct.planner_format) == ("compressed-tensors", 4, 128, "awq4")
    fp8 = checkpoint_format(folder("fp8", {"quantization_config": {"quant_method": "compressed-tensors",
                                                                   "format": "float-quantized"}}))
    assert fp8.planner_format == "fp8"
    plain = checkpoint_format(folder("plain", {"torch_dtype": "bfloat16"}))
    assert not plain.quantized and plain.planner_format == "bf16"
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF\x03\x00\x00\x00")
    assert checkpoint_format(gguf).kind == "gguf"
    with pytest.raises(ValueError):
        checkpoint_format(folder("list", [1, 2]))


# -- what a hostile user found
def test_a_full_or_locked_disk_is_not_mistaken_for_a_damaged_store(tmp_path, monkeypatch):
    from services.jobs import store as store_module
    from services.jobs.store import StoreError

    good = JobStore(tmp_path / "jobs.db")
    good.add(selftest())
    good.close()

    def full(path, timeout=10.0):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store_module, "_connect", full)
    with pytest.raises(StoreError, match="disk holding .* is full"):
        JobStore(tmp_path / "jobs.db")
    monkeypatch.undo()
    assert not list(tmp_path.glob("jobs.db.corrupt-*")) and len(JobStore(tmp_path / "jobs.db").list()) == 1


def test_two_damaged_stores_in_one_second_keep_both_backups(tmp_path):
    for _ in range(2):
        (tmp_path / "jobs.db").write_bytes(b"junk" * 1024)
        for side in ("jobs.db-wal", "jobs.db-shm"):
            (tmp_path / side).unlink(missing_ok=True)
        JobStore(tmp_path / "jobs.db").close()
    assert len(list(tmp_path.glob("jobs.db.corrupt-*[!lm]"))) == 2


def test_a_locked_store_says_so(tmp_path):
    from services.jobs.store import StoreError

    store = JobStore(tmp_path / "jobs.db", timeout=0.2)
    other = sqlite3.connect(tmp_path / "jobs.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked by another process"):
            store.add(selftest())
    finally:
        other.execute("ROLLBACK")


def test_job_ids_are_not_patterns(tmp_path):
    store = JobStore(tmp_path / "jobs.db")
    store.add(selftest())
    for bad in ("", "  ", "%", "_"):
        with pytest.raises(KeyError):
            store.get(bad)


def test_a_cancel_that_arrives_after_success_leaves_it_succeeded(tmp_path):
    m = JobManager(JobStore(tmp_path / "jobs.db"), tmp_path / "jobs")
    out = tmp_path / "o"
    rec = m.submit(selftest(out, steps=3, step_s=0.05))
    m.store.request_cancel(rec.id)  # recorded, but the runner had already passed its last step
    final = m.wait(rec.id, 30)
    assert final.status == "succeeded" and out.is_dir()
    m.shutdown()


def test_a_job_that_finished_unwatched_is_recovered_as_succeeded(quantdesk_home, tmp_path):
    from services.jobs.local import open_store

    store = open_store()
    out = tmp_path / "done"
    spec = JobSpec(kind="quantize", model=str(tmp_path / "m"), out=str(out))
    store.add(spec)
    store.set_status(spec.id, "running", pid=999_999)
    out.mkdir()
    (out / "quantdesk.json").write_text(json.dumps({"job_id": spec.id}))
    rec = open_store().get(spec.id)
    assert rec.status == "succeeded" and rec.error is None and "no QuantDesk process" in rec.message


def test_waiting_for_a_queued_job_waits_for_its_end(two_managers):
    a, b = two_managers
    running = a.submit(selftest(steps=8, step_s=0.05))
    queued = b.submit(selftest(steps=1))
    assert b.wait(queued.id, 60).status == "succeeded"
    assert a.wait(running.id, 60).status == "succeeded"


def test_deleting_a_job_removes_its_files_but_not_its_output(tmp_path):
    m = JobManager(JobStore(tmp_path / "jobs.db"), tmp_path / "jobs")
    out = tmp_path / "o"
    rec = m.wait(m.submit(selftest(out, steps=1)).id, 30)
    m.delete(rec.id)
    assert list((tmp_path / "jobs").glob(f"{rec.id}*")) == [] and out.is_dir()
    m.shutdown()


@pytest.mark.parametrize("field, value, message", [
    ("gpu_mem_gib", float("inf"), "--gpu-mem must be a finite number"),
    ("cache_max_entry_count", float("nan"), "--cache-max-entry-count must be a finite number"),
    ("other_gib", -5.0, "--other-gib must be 0 or more"),
])
def test_plan_numbers_must_be_finite(field, value, message):
    from services.memory.planner import PlanRequest

    with pytest.raises(ValueError, match=message):
        PlanRequest(**{field: value}).validate()


def test_settings_that_are_not_an_object_give_defaults(tmp_path):
    from services.settings import Settings, load_settings

    for text in ("[1, 2]", '"x"', "null"):
        (tmp_path / "settings.json").write_text(text)
        assert load_settings(tmp_path / "settings.json") == Settings()


def test_a_broken_job_env_file_fails_the_job_with_the_file_named(tmp_path, quantdesk_home, logfail):
    from services.envcheck.jobenv import load_overrides

    for text in ("[1]", "{not json", '{"A": "x\\u0000y"}'):
        (tmp_path / "job_env.json").write_text(text)
        with pytest.raises(ValueError, match="job_env.json"):
            load_overrides(tmp_path)


# -- job groups
def _group_manager(tmp_path):
    return JobManager(JobStore(tmp_path / "jobs.db"), tmp_path / "jobs", concurrency=2)


def test_a_group_runs_its_final_job_over_the_members_that_succeeded(tmp_path):
    from services.jobs.group import JobGroup, group_records

    m = _group_manager(tmp_path)
    got = []

    def final(ok):
        got.extend(r.id for r in ok)
        return selftest(steps=1)

    members = [selftest(steps=2), selftest(steps=2, fail_at=1), selftest(steps=1)]
    g = JobGroup(m, members, final, "g-1").start()
    assert g.wait(60) == "succeeded"
    assert got == [members[0].id, members[2].id]  # the failed one is left out, the others are not stopped
    recs = group_records(m.store, "g-1")
    assert [r.id for r in recs][:3] == [s.id for s in members] and len(recs) == 4
    assert all(r.spec.group == "g-1" for r in recs) and recs[-1].id == g.final_id
    assert m.store.get(members[0].id).spec.rerun().group is None  # a re-run stands alone
    m.shutdown()


def test_a_group_whose_members_all_fail_fails_and_a_cancelled_one_starts_nothing(tmp_path):
    from services.jobs.group import JobGroup

    m = _group_manager(tmp_path)
    g = JobGroup(m, [selftest(steps=2, fail_at=0)], lambda ok: selftest(), "g-2").start()
    assert g.wait(60) == "failed" and "failed at step 0" in g.error and g.final_id is None
    slow = [selftest(steps=200, step_s=0.05), selftest(steps=200, step_s=0.05)]
    g = JobGroup(m, slow, lambda ok: selftest(), "g-3").start()
    wait_for(lambda: m.store.get(slow[0].id).status == "running")
    g.cancel()
    assert g.wait(30) == "cancelled" and g.final_id is None
    assert {m.store.get(s.id).status for s in slow} == {"cancelled"}
    m.shutdown()


def test_a_group_with_a_broken_final_factory_ends_failed(tmp_path):
    from services.jobs.group import JobGroup

    m = _group_manager(tmp_path)

    def broken(ok):
        raise KeyError("out")

    g = JobGroup(m, [selftest(steps=1)], broken, "g-4").start()
    assert g.wait(60) == "failed" and "last job" in g.error
    m.shutdown()
