"""Clusters: settings, the paths a cluster can read, pre-flight against its resources, and the Ray
executor against a FAKE JobSubmissionClient (tests/fakes/ray_jobs.py; the real head runs in
tests/integration/ray_head_cases.py)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from services.clusters.config import Cluster, ClusterError, Clusters, Storage, load_clusters, redacted, save_clusters
from services.clusters.paths import ClusterPathError, remote_spec, to_local, to_remote
from services.clusters.preflight import plan_remote
from services.clusters.raybridge import EXIT_LOST, Follower, follow
from services.clusters.resources import ClusterResources
from services.jobs import protocol as p
from services.jobs.spec import JobSpec

LAB = Cluster("lab", "http://10.0.0.5:8265", storage=[Storage("/mnt/shared", r"Z:\shared"), Storage("/data")])


def test_cluster_settings_are_checked_saved_privately_and_redacted(tmp_path):
    bad = Cluster("lab gpu", "10.0.0.5:8265", headers={"Bad Header": "x"}, storage=[Storage("relative/dir")])
    problems = " | ".join(bad.problems())
    assert "cluster name 'lab gpu'" in problems and "http://10.0.0.5:8265" in problems
    assert "header name 'Bad Header'" in problems and "absolute path" in problems
    cs = Clusters()
    with pytest.raises(ClusterError, match="no cluster is set up"):
        cs.get()
    cs.put(Cluster("lab", "http://10.0.0.5:8265/", headers={"Authorization": "Bearer s3cr3t"}))
    cs.put(Cluster("far", "https://ray.example.org"))
    assert cs.get().name == "lab"  # the first one became the default
    with pytest.raises(ClusterError, match="no cluster named 'nope'; clusters: lab, far"):
        cs.get("nope")
    path = save_clusters(cs, tmp_path / "clusters.json")
    if os.name != "nt":
        assert path.stat().st_mode & 0o077 == 0  # it holds tokens
    again = load_clusters(path)
    assert again.names() == ["lab", "far"] and again.get("lab").headers == {"Authorization": "Bearer s3cr3t"}
    assert "s3cr3t" not in json.dumps(redacted(json.loads(path.read_text())))
    again.remove("lab")
    assert again.default == "far"
    path.write_text("{broken", encoding="utf-8")
    with pytest.raises(ClusterError, match="cannot be read"):
        load_clusters(path)


def test_paths_are_translated_to_the_cluster_view_or_refused_with_where_to_put_them():
    assert to_remote(LAB, r"Z:\shared\models\llama 7b") == "/mnt/shared/models/llama 7b"
    assert to_remote(LAB, r"z:\SHARED\x") == "/mnt/shared/x"  # Windows paths ignore case
    assert to_remote(LAB, "/data/models/qwen") == "/data/models/qwen"  # already the cluster's own path
    assert to_remote(LAB, "s3://bucket/llama") == "s3://bucket/llama"
    with pytest.raises(ClusterPathError, match=r"cannot read C:\\Users\\me\\llama.*Z:\\shared \(= /mnt/shared"):
        to_remote(LAB, r"C:\Users\me\llama")
    with pytest.raises(ClusterPathError, match="/datax/y"):  # a name that starts like a storage folder is not in it
        to_remote(LAB, "/datax/y")
    with pytest.raises(ClusterPathError, match="no shared storage set up"):
        to_remote(Cluster("bare", "http://h:8265"), "/home/me/m")
    assert to_local(LAB, "/mnt/shared/out/awq") == r"Z:\shared\out\awq"
    assert to_local(LAB, "/data/x") is None  # not mounted here
    spec = JobSpec(kind="eval", model=r"Z:\shared\m", params={"text": "wikitext2", "also": [r"Z:\shared\q"]})
    r = remote_spec(LAB, spec)
    assert r.model == "/mnt/shared/m" and r.params["also"] == ["/mnt/shared/q"] and r.params["text"] == "wikitext2"
    assert spec.model == r"Z:\shared\m"  # the caller's spec is untouched


def test_preflight_plans_against_the_clusters_resources():
    gpu = ClusterResources.from_answer({"nodes": [
        {"ip": "a", "state": "ALIVE", "resources": {"CPU": 8, "memory": 32 * 2**30}},
        {"ip": "b", "state": "ALIVE", "resources": {"CPU": 16, "GPU": 2, "memory": 96 * 2**30,
                                                     "accelerator_type:A100": 1}},
        {"ip": "c", "state": "DEAD", "resources": {"GPU": 8, "memory": 900 * 2**30}}]})
    assert gpu.gpus == 2 and gpu.largest_memory(with_gpu=True) == 96 * 2**30 and "A100" in gpu.summary()
    cpu_only = ClusterResources.from_answer({"nodes": [{"ip": "a", "resources": {"CPU": 4, "memory": 8 * 2**30}}]})
    spec = JobSpec(kind="quantize", model="/data/m", out="/data/out", params={"device": "cuda"})
    refused = plan_remote(LAB, spec, cpu_only)
    assert not refused.ok and "has no GPU: use --device cpu" in refused.errors[0]
    seen = {}

    def local_check(model, out, params, memory_free=None):
        seen.update(model=model, memory=memory_free())
        return [], ["may need more memory"], ["note"]

    spec = JobSpec(kind="quantize", model=r"Z:\shared\m", out=r"Z:\shared\o", params={"device": "auto"})
    plan = plan_remote(LAB, spec, gpu, local_check)
    assert plan.ok and plan.spec.params["num_gpus"] == 1 and plan.spec.executor == "ray:lab"
    assert plan.spec.model == "/mnt/shared/m" and seen["memory"] == 96 * 2**30
    assert plan.warnings == ["may need more memory"] and any("largest GPU node: 96.0 GiB" in n for n in plan.notes)
    plan = plan_remote(LAB, JobSpec(kind="quantize", model="/data/m", out="/data/o", params={}), cpu_only, local_check)
    assert plan.ok and "num_gpus" not in plan.spec.params and "runs on a CPU node" in plan.warnings[0]
    assert any("not mounted on this machine" in n for n in plan.notes)  # /data is the cluster's only


def test_the_follower_skips_what_was_given_and_splits_chatter_from_events():
    ev = [p.to_line(p.Progress(i, 3, "step")) for i in (1, 2, 3)]
    text = f"Runtime env is setting up.\n{ev[0]}\n 50%|###\r{ev[1]}\nchatter\n{ev[2]}\n"
    out: list[str] = []
    f = Follower(out.append)
    for i in range(0, len(text), 7):  # chunks cut anywhere
        f.feed(text[i:i + 7])
    f.close()
    assert out == ["Runtime env is setting up.", ev[0], " 50%|###", ev[1], "chatter", ev[2]]
    out.clear()
    f = Follower(out.append, skip=2)
    f.feed(text)
    assert out == ["chatter", ev[2]]  # a reattach gives neither the first two events nor the lines before them


class Flaky:
    """In-process fake client: the log stream fails `fails` times, then gives everything."""

    def __init__(self, status="SUCCEEDED", code=0, fails=0, lines=("x",)):
        self.status, self.code, self.fails, self.lines = status, code, fails, lines

    async def tail_job_logs(self, job_id):
        if self.fails:
            self.fails -= 1
            raise RuntimeError("Cannot connect to host 10.0.0.5:8265")
        for line in self.lines:
            yield line + "\n"

    def get_job_info(self, job_id):
        from types import SimpleNamespace

        return SimpleNamespace(status=SimpleNamespace(value=self.status), message="pip failed", driver_exit_code=self.code)


def test_follow_maps_the_jobs_end_and_survives_a_dropped_connection():
    ev = p.to_line(p.Progress(1, 1, "step"))
    out: list[str] = []
    assert follow(Flaky(fails=2, lines=(ev,)), "j", out.append, sleep=lambda s: None) == 0
    assert out == [ev]  # retried, nothing given twice
    assert follow(Flaky("STOPPED", None), "j", [].append, sleep=lambda s: None) == p.EXIT_CANCELLED
    assert follow(Flaky("FAILED", 2, lines=(ev,)), "j", [].append, sleep=lambda s: None) == 2  # the runner's own
    out.clear()
    assert follow(Flaky("FAILED", None, lines=("Runtime env is setting up.",)), "j", out.append,
                  sleep=lambda s: None) == p.EXIT_FAILED
    assert "could not run the job: pip failed" in out[-1]
    t = iter(range(0, 10_000, 30))
    assert follow(Flaky(fails=10**6), "j", out.append, sleep=lambda s: None, clock=lambda: next(t)) == EXIT_LOST


# -- the executor through its bridge processes, against the fake client
@pytest.fixture
def fake_ray(tmp_path, monkeypatch, quantdesk_home):
    from tests.fakes.ray_jobs import use_fake_cluster

    use_fake_cluster(monkeypatch, tmp_path, str(tmp_path), str(tmp_path), headers={"Authorization": "Bearer t0ken"})
    return tmp_path


def _manager():
    from services.jobs.local import make_manager

    return make_manager()


def _selftest(tmp_path, steps=3, step_s=0.05, name="out"):
    return JobSpec(kind="selftest", model="-", out=str(tmp_path / name), params={"steps": steps, "step_s": step_s},
                   executor="ray:lab")


def test_a_job_runs_on_the_fake_cluster_with_its_events_log_and_output(fake_ray):
    m = _manager()
    rec = m.submit(_selftest(fake_ray))
    final = m.wait(rec.id, 60)
    assert final.status == "succeeded", final.error
    assert final.executor == "ray:lab" and final.pid is None  # no local pid: it ran on the cluster
    assert [e["done"] for e in m.store.events(rec.id) if e["type"] == "progress"] == [1, 2, 3]
    log = Path(final.log_path).read_text()
    assert "submitted to cluster lab" in log and "library chatter" in log  # chatter is in the log, not events
    assert not any("chatter" in json.dumps(e) for e in m.store.events(rec.id))
    req = json.loads((fake_ray / "cluster" / rec.id / "request.json").read_text())
    assert req["entrypoint"].endswith("-m services.jobs.runner job.json - --stop-on-term")
    assert not Path(req["runtime_env"]["working_dir"]).exists()  # the staged copy is gone once Ray has its own
    staged = fake_ray / "cluster" / rec.id / "wd"
    assert (staged / "job.json").is_file() and (staged / "services" / "jobs" / "runner.py").is_file()
    assert not list(staged.rglob("*.pyc")) and not (staged / "tests").exists()  # code and spec only
    assert json.loads((fake_ray / "cluster" / "headers.json").read_text()) == {"Authorization": "Bearer t0ken"}
    assert (fake_ray / "out" / "step2.txt").is_file()
    m.shutdown()


def test_cancel_reaches_the_runner_on_the_cluster_which_stops_by_itself(fake_ray):
    m = _manager()
    rec = m.submit(_selftest(fake_ray, steps=500, step_s=0.05))
    deadline = time.monotonic() + 30
    while m.store.get(rec.id).done < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert m.cancel(rec.id)
    assert m.store.get(rec.id).status == "cancelled"
    assert any(e["type"] == "cancelled" for e in m.store.events(rec.id))
    assert not (fake_ray / "out").exists() and not (fake_ray / "out.partial").exists()
    m.shutdown()


def test_closing_quantdesk_leaves_the_job_running_and_the_next_one_reattaches(fake_ray):
    m = _manager()
    rec = m.submit(_selftest(fake_ray, steps=40, step_s=0.05))
    deadline = time.monotonic() + 30
    while m.store.get(rec.id).done < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    m.shutdown()  # the app closes: the cluster's job is not cancelled
    assert m.store.get(rec.id).status == "running" and m.store.get(rec.id).owner is None
    m2 = _manager()
    assert m2.reattach() == [rec.id] and m2.reattach() == []  # claimed once
    final = m2.wait(rec.id, 60)
    assert final.status == "succeeded"
    assert [e["done"] for e in m2.store.events(rec.id) if e["type"] == "progress"] == list(range(1, 41))
    m2.shutdown()


@pytest.mark.allow_log_errors
def test_a_cluster_that_cannot_set_the_job_up_or_cannot_be_reached_fails_it_clearly(fake_ray, monkeypatch):
    m = _manager()
    monkeypatch.setenv("FAKE_RAY_MODE", "envfail")
    final = m.wait(m.submit(_selftest(fake_ray, name="a")).id, 60)
    assert final.status == "failed" and "could not run the job: runtime env setup failed" in final.error
    monkeypatch.setenv("FAKE_RAY_MODE", "down")
    final = m.wait(m.submit(_selftest(fake_ray, name="b")).id, 60)
    assert final.status == "failed" and final.error_kind == "start", final.error
    assert "cluster lab (http://10.0.0.5:8265): ConnectionError: Failed to connect" in final.error
    m.shutdown()
    rec = JobSpec(kind="selftest", model="-", executor="ray:gone")
    m = _manager()
    final = m.wait(m.submit(rec).id, 10)
    assert final.status == "failed" and "no cluster named 'gone'" in final.error and final.error_kind == "bad_input"
    m.shutdown()


def test_a_follower_ends_with_the_quantdesk_that_started_it(fake_ray):
    from services.clusters.config import load_clusters
    from services.clusters.executor import RayExecutor

    m = _manager()
    rec = m.submit(_selftest(fake_ray, steps=200, step_s=0.05))
    deadline = time.monotonic() + 30
    while m.store.get(rec.id).done < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    extra = RayExecutor(load_clusters().get("lab")).attach(rec.id)  # a second follower, as a killed CLI leaves
    assert extra.proc is not None and extra.proc.poll() is None
    extra.proc.stdin.close()  # what the kernel does when its parent dies
    extra.proc.wait(5)
    assert m.cancel(rec.id)
    m.shutdown()


def test_cluster_settings_refuse_what_would_only_fail_later(tmp_path):
    from services.clusters.config import address_problems

    for address, words in (("http://h:99999", "port must be a number"), ("http://h:abc", "port must be a number"),
                           (" http://h:1", "spaces"), ("http://alice:pw@h:8265", "do not put a user or password"),
                           ("http://h:1/some/path?x=1", "only the dashboard's scheme, host and port")):
        assert words in address_problems(address)[0], address
    assert "pw" not in address_problems("http://alice:pw@h:8265")[0]  # the refusal does not repeat the password
    bad = Cluster("lab", "http://h:8265", headers={"X": "a\r\nInjected: b"}, storage=[Storage("/a", "relative")])
    assert any("line break" in p for p in bad.problems()) and any("absolute path" in p for p in bad.problems())
    path = tmp_path / "clusters.json"
    for doc, words in (({"clusters": [{"name": "lab", "address": "http://h:1", "headers": ["a"]}]}, "headers must be"),
                       ({"clusters": [{"name": "lab", "address": "http://h:1", "pip": "torch"}]}, "pip must be"),
                       ({"clusters": [{"name": "lab", "address": "http://h:1", "env": {"A": None}}]}, "must be strings"),
                       ({"clusters": "x"}, "a list of clusters"),
                       ({"clusters": [{"name": "bad name!", "address": "ftp://x"}]}, "cluster name"),
                       ({"clusters": [{"name": "a", "address": "http://h:1"}, {"name": "a", "address": "http://h:2"}]},
                        "used twice")):
        path.write_text(json.dumps(doc), encoding="utf-8")
        with pytest.raises(ClusterError, match=words):
            load_clusters(path)


def test_follow_gives_up_at_once_on_a_job_the_cluster_forgot_or_a_request_it_refuses():
    class Refusing(Flaky):
        def __init__(self, exc):
            super().__init__()
            self.exc = exc

        async def tail_job_logs(self, job_id):
            raise self.exc
            yield ""

    class WsError(Exception):
        status = 404

    out: list[str] = []
    assert follow(Refusing(WsError("404, message='Invalid response status'")), "j", out.append,
                  sleep=lambda s: pytest.fail("no retry")) == p.EXIT_FAILED
    assert "has no job j" in out[-1]
    assert follow(Refusing(ValueError("Cannot combine AUTHORIZATION header with AUTH argument")), "j", out.append,
                  sleep=lambda s: pytest.fail("no retry")) == p.EXIT_FAILED
    assert "refused to report" in out[-1]


def test_fetch_refuses_to_replace_a_folder_that_is_not_a_quantdesk_output_or_the_output_itself(fake_ray):
    from services.clusters.fetch import fetch_spec

    m = _manager()
    rec = m.wait(m.submit(_selftest(fake_ray, name="made")).id, 60)
    assert rec.status == "succeeded"
    precious = fake_ray / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("my thesis")
    with pytest.raises(ValueError, match="not an earlier QuantDesk output"):
        fetch_spec(rec, str(precious), overwrite=True)
    for inside in (fake_ray / "made", fake_ray / "made" / "copy", fake_ray):
        with pytest.raises(ValueError, match="input"):
            fetch_spec(rec, str(inside), overwrite=True, force=True)
    assert (precious / "thesis.txt").read_text() == "my thesis" and (fake_ray / "made" / "step2.txt").exists()
    m.shutdown()


@pytest.mark.allow_log_errors
def test_cancel_of_a_job_its_cluster_forgot_or_that_lost_its_cluster_ends_its_record(fake_ray, monkeypatch):
    import shutil

    m = _manager()
    rec = m.submit(_selftest(fake_ray, steps=400, step_s=0.05))
    deadline = time.monotonic() + 30
    while m.store.get(rec.id).done < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    m.shutdown()  # QuantDesk closes; then the cluster loses the job (its head restarted)
    shutil.rmtree(fake_ray / "cluster" / rec.id, ignore_errors=True)
    m2 = _manager()
    assert m2.cancel(rec.id) and m2.store.get(rec.id).status == "cancelled"
    rec2 = m2.submit(_selftest(fake_ray, steps=400, step_s=0.05, name="o2"))
    while m2.store.get(rec2.id).done < 1 and time.monotonic() < deadline + 30:
        time.sleep(0.05)
    m2.shutdown()
    monkeypatch.setenv("FAKE_RAY_MODE", "down")
    m3 = _manager()
    with pytest.raises(RuntimeError, match="could not be stopped on ray:lab.*try again once the cluster answers"):
        m3.cancel(rec2.id)
    assert m3.store.get(rec2.id).status == "running"  # not claimed cancelled while it may still run
    cs = load_clusters()
    cs.remove("lab")
    save_clusters(cs)
    m4 = _manager()
    assert not m4.cancel(rec2.id)
    final = m4.store.get(rec2.id)
    assert final.status == "interrupted" and "can no longer follow or stop" in final.error
    m4.delete(rec2.id)  # the record can go now
    monkeypatch.delenv("FAKE_RAY_MODE")
    for pid_file in (fake_ray / "cluster").glob("*/pid"):  # the fake cluster's job: stop it
        try:
            os.killpg(int(pid_file.read_text()), 9)
        except ProcessLookupError:
            pass


def test_the_cli_refuses_a_misspelt_dataset_and_an_unreadable_path_before_asking_the_cluster(fake_ray, monkeypatch,
                                                                                               capsys):
    from app.cli import main

    monkeypatch.setenv("FAKE_RAY_MODE", "down")  # nothing here needs the cluster
    assert main(["quantize", "--model", str(fake_ray / "m"), "--out", str(fake_ray / "o"), "--calib", "wikitext",
                 "--executor", "ray", "--cluster", "lab"]) == 2
    assert "'wikitext' is neither a dataset name (pileval, wikitext2" in capsys.readouterr().err
    assert main(["quantize", "--model", "/home/nobody/m", "--out", str(fake_ray / "o"), "--calib", "pileval",
                 "--executor", "ray", "--cluster", "lab"]) == 2
    assert "cannot read /home/nobody/m" in capsys.readouterr().err
