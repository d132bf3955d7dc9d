"""Bad inputs a new user tried that lost data or read the wrong file (issue "Job platform" 1-5).

Each test drives the real CLI in a child process, as a user would.
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def cli(home, *args, cwd=ROOT, timeout=300, env=None):
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "QUANTDESK_HOME": str(home), **(env or {})})


def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tiny_llama, tmp_path):
    """proj/m: a model; proj/notes.txt: an unrelated file of the user's."""
    proj = tmp_path / "proj 项目"
    shutil.copytree(tiny_llama, proj / "m")
    (proj / "notes.txt").write_text("my notes", encoding="utf-8")
    return proj


def test_overwrite_never_deletes_the_source_model_or_its_folder(project, calib_file, tmp_path):
    before = snapshot(project)
    common = ["--calib", str(calib_file), "--samples", "4", "--seqlen", "64", "--group-size", "64"]
    for out in (project, project / "m", project / "m" / "awq"):  # contains, is, lies inside the source
        proc = cli(tmp_path, "quantize", "--model", str(project / "m"), "--out", str(out), "--overwrite", *common)
        assert proc.returncode == 2, proc.stderr[-1500:]
        assert "input" in proc.stderr and "Traceback" not in proc.stderr
    assert snapshot(project) == before


def test_overwrite_of_a_folder_that_is_not_a_quantdesk_output_needs_force(project, calib_file, tmp_path):
    other = tmp_path / "my documents"
    other.mkdir()
    (other / "thesis.docx").write_bytes(b"precious")
    proc = cli(tmp_path, "quantize", "--model", str(project / "m"), "--out", str(other), "--overwrite",
               "--calib", str(calib_file), "--samples", "4", "--seqlen", "64", "--group-size", "64")
    assert proc.returncode == 2 and "--force" in proc.stderr and "quantdesk.json" in proc.stderr
    assert (other / "thesis.docx").read_bytes() == b"precious"


def test_relative_paths_are_the_users_not_the_install_folders(structured_llama, tmp_path):
    work = tmp_path / "工作 dir"
    work.mkdir()
    (work / "README.md").write_text("Return the number of items in the container.\n\n" * 40, encoding="utf-8")
    proc = cli(tmp_path, "eval", "--model", str(structured_llama), "--text", "README.md", "--no-answers",
               "--max-tokens", "64", "--context", "32", "--json", cwd=work)
    assert proc.returncode == 0, proc.stderr[-1500:]
    doc = json.loads(proc.stdout)
    assert doc["text"] == str(work / "README.md")


def test_the_runner_refuses_a_spec_with_relative_paths(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"kind": "eval", "model": "models/m", "params": {"text": "README.md"}, "id": "x"}))
    proc = subprocess.run([sys.executable, "-m", "services.jobs.runner", str(spec)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    event = json.loads(proc.stdout.splitlines()[-1])
    assert event["type"] == "error" and "relative paths" in event["message"] and "text=README.md" in event["message"]


def _runner_pid(home, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with sqlite3.connect(home / "data" / "jobs.db") as db:
                row = db.execute("SELECT pid FROM jobs WHERE status='running' AND pid IS NOT NULL").fetchone()
        except sqlite3.OperationalError:  # not created yet
            row = None
        if row:
            return row[0]
        time.sleep(0.05)
    raise AssertionError("the job never started")


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGHUP])
def test_killing_the_cli_stops_its_job_within_two_seconds(tmp_path, how):
    out = tmp_path / "out"
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    # SIGHUP as a closed terminal sends it: its default action (a test run under nohup inherits "ignore")
    proc = subprocess.Popen([sys.executable, "-m", "app", "jobs", "selftest", "--steps", "2000", "--step-s", "0.05",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "QUANTDESK_HOME": str(tmp_path)},
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
    pid = _runner_pid(tmp_path)
    deadline = time.time() + 10
    while not (tmp_path / "out.partial").exists() and time.time() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "out.partial").exists()
    proc.send_signal(how)
    proc.wait(10)
    t0 = time.monotonic()
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() - t0 < 2.5, "the runner outlived its parent"
        time.sleep(0.05)
    assert not (tmp_path / "out.partial").exists() and not out.exists()
    listing = cli(tmp_path, "jobs", "list", "--json")  # the next start: the dead job is not left "running"
    assert json.loads(listing.stdout)[0]["status"] == "interrupted"


def test_a_corrupt_job_store_is_moved_aside_with_a_notice(tmp_path):
    data = tmp_path / "data"
    (data / "jobs").mkdir(parents=True)
    (data / "jobs" / "old-job.log").write_text("a job's log")
    (data / "jobs.db").write_bytes(b"this is not a database" * 100)
    proc = cli(tmp_path, "jobs", "list")
    assert proc.returncode == 0, proc.stderr
    assert "jobs.db" in proc.stderr and "damaged" in proc.stderr and "Traceback" not in proc.stderr
    assert [p.name for p in data.glob("jobs.db.corrupt-*")]
    assert (data / "jobs" / "old-job.log").read_text() == "a job's log"
    assert cli(tmp_path, "jobs", "selftest", "--steps", "1").returncode == 0


def test_a_job_that_cannot_start_fails_with_the_reason_instead_of_staying_queued(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "job_env.json").write_text(json.dumps({"CUDA_VISIBLE_DEVICES": 0}))
    proc = cli(tmp_path, "jobs", "selftest", "--steps", "1", timeout=60)
    assert proc.returncode == 2 and "CUDA_VISIBLE_DEVICES" in proc.stderr and "Traceback" not in proc.stderr
    jobs = json.loads(cli(tmp_path, "jobs", "list", "--json").stdout)
    assert jobs[0]["status"] == "failed" and "job_env.json" in jobs[0]["error"]
    assert cli(tmp_path, "jobs", "delete", jobs[0]["id"]).returncode == 0


def test_a_second_cli_waits_for_the_slot_and_then_runs(tmp_path):
    env = {**os.environ, "QUANTDESK_HOME": str(tmp_path)}
    first = subprocess.Popen([sys.executable, "-m", "app", "jobs", "selftest", "--steps", "20", "--step-s", "0.05"],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _runner_pid(tmp_path)
    second = cli(tmp_path, "jobs", "selftest", "--steps", "2", "--json")
    assert first.wait(60) == 0 and second.returncode == 0, second.stderr
    assert "waiting for a free job slot" in second.stderr
    assert [j["status"] for j in json.loads(cli(tmp_path, "jobs", "list", "--json").stdout)] == ["succeeded"] * 2


def test_eval_checks_its_model_folders_first(structured_llama, tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("Return the number of items.\n\n" * 50, encoding="utf-8")
    bad = tmp_path / "bad"
    shutil.copytree(structured_llama, bad)
    cfg = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**cfg, "text_config": "oops"}))
    proc = cli(tmp_path, "eval", "--model", str(bad), "--text", str(text), "--no-answers")
    assert proc.returncode == 2 and "text_config is not an object" in proc.stderr and "Traceback" not in proc.stderr
    (bad / "config.json").write_text(json.dumps(cfg))
    data = (bad / "model.safetensors").read_bytes()
    (bad / "model.safetensors").write_bytes(data[: len(data) // 3])
    proc = cli(tmp_path, "eval", "--model", str(bad), "--text", str(text), "--no-answers", "--json")
    assert proc.returncode == 2 and "model.safetensors is truncated" in proc.stderr
    assert json.loads(proc.stdout)["status"] == "bad_input"  # --json: one document, even for bad input
    limit = cfg["max_position_embeddings"]
    proc = cli(tmp_path, "eval", "--model", str(structured_llama), "--text", str(text), "--context", str(limit * 2))
    assert proc.returncode == 2 and f"exceeds llama's max_position_embeddings {limit}" in proc.stderr


def test_small_cli_manners(tmp_path):
    cli(tmp_path, "jobs", "selftest", "--steps", "1")
    proc = subprocess.run(f"'{sys.executable}' -m app jobs show 2026 | head -c 20", shell=True, cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "QUANTDESK_HOME": str(tmp_path)})
    assert "Traceback" not in proc.stderr  # a closed pipe is not an error
    job = json.loads(cli(tmp_path, "jobs", "list", "--json").stdout)[0]["id"]
    proc = cli(tmp_path, "jobs", "cancel", job)
    assert proc.returncode == 1 and "not running (succeeded)" in proc.stderr
    assert cli(tmp_path, "jobs", "list", "--limit", "0").returncode == 2
    home = tmp_path / "home"
    home.mkdir()
    (home / "data").write_text("a file where a folder belongs")
    proc = cli(home, "jobs", "list")
    assert proc.returncode == 2 and "must be folders" in proc.stderr and "Traceback" not in proc.stderr
