"""Serving without a real engine: readiness, hints, the report, refusals, Stop; the engine here is the
FAKE one in tests/fakes/openai_engine.py (a real HTTP server on 127.0.0.1 that is not vLLM)."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from services.jobs.events import Emitter, JobFailure
from services.jobs.spec import JobSpec
from services.serving import client, engines, install, metrics, smoke
from services.serving.hints import hints_for
from services.serving.launch import ServeError, plan_serve
from services.serving.llamacpp_server import has_amx, use_extra_bufts
from tests.conftest import ROOT

FAKE = ROOT / "tests" / "fakes" / "openai_engine.py"


def fake_engine(root: Path, name: str = "vllm") -> Path:
    """An engine folder whose console script starts the FAKE engine (named as such: not vLLM)."""
    folder = root / name
    (folder / "bin").mkdir(parents=True)
    script = folder / "bin" / engines.ENGINES[name].script
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@" --fake-root "{root}"\n', encoding="utf-8")
    script.chmod(0o755)
    (folder / "bin" / "python").symlink_to(sys.executable)
    (folder / engines.RECORD).write_text(json.dumps({"tool": "quantdesk", "name": name, "version": "fake",
                                                     "python": str(folder / "bin" / "python")}), encoding="utf-8")
    return folder


@pytest.fixture
def engine_root(tmp_path, monkeypatch):
    root = tmp_path / "engines 引擎"
    root.mkdir()
    monkeypatch.setenv(engines.ENGINES_ENV, str(root))
    return root


def events(stop=lambda: None):
    import io

    buf = io.StringIO()
    return Emitter(buf, stop), buf


# ---- engines -----------------------------------------------------------------------------------------


def test_engine_states(engine_root):
    assert engines.state("llamacpp").status == "missing"
    assert "quantdesk engines install llamacpp" in engines.state("llamacpp").message
    (engine_root / "lmdeploy").mkdir()
    (engine_root / "lmdeploy" / ".quantdesk-partial").write_text("1")
    assert engines.state("lmdeploy").status == "incomplete"
    fake_engine(engine_root)
    s = engines.state("vllm")
    assert s.installed and s.version == "fake"
    (engine_root / "vllm" / "bin" / "python").unlink()
    assert engines.state("vllm").status == "broken"
    (engine_root / "vllm" / engines.RECORD).write_text("{not json")
    assert engines.state("vllm").status == "broken"


def test_vllm_on_windows_is_installed_and_run_inside_wsl(engine_root):
    s = engines.state("vllm", platform="win32")
    assert s.status == "missing" and "inside WSL" in s.message and "wsl --install" in s.message
    assert "WSL" not in engines.state("lmdeploy", platform="win32").message
    argv = install.wsl_install_argv(engines.ENGINES["vllm"])
    assert argv[:4] == ["wsl.exe", "-e", "bash", "-lc"]
    assert argv[4] == ("python3 -m venv ~/.quantdesk/engines/vllm && ~/.quantdesk/engines/vllm/bin/python -m pip "
                       "install --progress-bar off vllm==0.33.0")
    assert str(engines.venv_python(Path("C:/e"), windows=True)).endswith("python.exe")
    (engine_root / "vllm").mkdir()
    (engine_root / "vllm" / engines.RECORD).write_text(json.dumps({"version": "0.33.0", "wsl": True, "python": None}))
    s = engines.state("vllm", platform="win32")
    assert s.installed and "WSL (~/.quantdesk/engines/vllm)" in s.message


def test_remove_only_what_we_made(engine_root):
    mine = engine_root / "lmdeploy"
    mine.mkdir()
    (mine / "user file.txt").write_text("keep")
    with pytest.raises(PermissionError, match="not made by QuantDesk"):
        install.remove("lmdeploy")
    assert (mine / "user file.txt").exists()
    fake_engine(engine_root)
    assert install.remove("vllm") == engine_root / "vllm" and not (engine_root / "vllm").exists()
    with pytest.raises(FileNotFoundError):
        install.remove("vllm")


def test_install_hints():
    assert "compiler" in install.hint_for(["CMake Error: CMAKE_CXX_COMPILER not set"])
    assert "disk" in install.hint_for(["OSError: [Errno 28] No space left on device"])
    assert install.hint_for(["all fine"]) == ""
    assert install.NINJA.match("  [35/140] /usr/bin/g++ -c x.cpp").groups() == ("35", "140")


# ---- hints, metrics, AMX -------------------------------------------------------------------------------


def test_hints_from_engine_logs():
    assert "ran out of memory" in hints_for(["torch.OutOfMemoryError: CUDA out of memory."])[0]
    assert "group size" in hints_for(["ValueError: Unsupported group_size 64 for Marlin"])[0]
    assert "port is taken" in hints_for(["OSError: [Errno 98] Address already in use"])[0]
    assert "--extra-bufts off" in hints_for(["Segmentation fault (core dumped)"])[0]
    assert hints_for(["INFO started"]) == []


def test_kv_metrics():
    v = metrics.kv_sample('vllm:kv_cache_usage_perc{engine="0"} 0.25\n'
                          'vllm:cache_config_info{block_size="16",num_gpu_blocks="1000"} 1.0\n')
    assert v == metrics.KvSample(0.25, 4000.0, 16000.0)
    v = metrics.kv_sample("quantdesk_kv_cache_tokens_used 512\nquantdesk_kv_cache_tokens_capacity 2048\n")
    assert v == metrics.KvSample(0.25, 512, 2048)
    assert metrics.kv_sample("lmdeploy:gpu_cache_usage_perc 0.5\n").usage == 0.5
    assert metrics.kv_sample("# HELP x\nother 1\n") is None and metrics.kv_sample("garbage {{{") is None


def test_extra_buffer_types_off_on_amx_and_unknown_cpus():
    assert has_amx("flags : fpu avx2 amx_tile amx_int8") and not has_amx("flags : fpu avx2 avx512f")
    assert use_extra_bufts("auto", False) and not use_extra_bufts("auto", True)
    assert not use_extra_bufts("auto", None) and use_extra_bufts("on", True) and not use_extra_bufts("off", False)


# ---- the report ---------------------------------------------------------------------------------------


def test_report_and_verdict():
    r = [client.ChatReply("a b c d", 0.1, 1.1, 4), client.ChatReply("x y", 0.2, 0.4, 2)]
    rep = smoke.summarize(["p1", "p2"], r, ["a b c d", "x z"], None, None)
    assert rep["answers"][0]["agreement"] == 1.0 and rep["answers"][1]["agreement"] == 0.5
    assert rep["answers"][1]["first_divergence"] == 1 and rep["agreement_mean"] == 0.75
    assert rep["answers"][0]["tokens_per_s"] == 3.0 and rep["verdict"] == "pass" and rep["similarity_mean"] == 0.75
    drift = smoke.compare(["b c d e f"], ["a b c d e f"], None)[0]  # one token early, then the same
    assert drift["agreement"] == 0.0 and drift["first_divergence"] == 0 and drift["similarity"] > 0.9
    warn = smoke.summarize(["p"], [client.ChatReply("a b x y", 0.1, 0.2, 4)], ["a b c d"], None, None)
    assert warn["verdict"] == "warn" and warn["verdict_key"] == "agree_some" and warn["verdict_args"]["pct"] == "50%"
    assert smoke.summarize(["p"], [client.ChatReply("a", 0.1, 0.2, 1)], ["a"], None, None)["verdict"] == "pass"
    assert smoke.summarize(["p"], [client.ChatReply("q", 0.1, 0.2, 1)], ["a"], None, None)["verdict"] == "fail"
    no_ref = smoke.summarize(["p"], [client.ChatReply("q", 0.1, 0.2, 1)], None, None, None)
    assert no_ref["verdict"] == "warn" and "no source model" in no_ref["verdict_text"]
    empty = smoke.summarize(["p"], [client.ChatReply(" ", None, 0.2, 0)], None, None, None)
    assert empty["verdict"] == "fail"
    failed = smoke.summarize(["p"], [client.ChatReply("a", 0.1, 0.2, 1)], ["a"], None,
                             {"parallel": 4, "completed": 3})
    assert failed["verdict"] == "fail" and "1 of 4" in failed["verdict_text"]
    assert smoke.percentile([1, 2, 3, 4], 0.5) == 2.5 and smoke.percentile([], 0.5) is None


# ---- plans and refusals ------------------------------------------------------------------------------


def test_refusals_say_what_to_change(engine_root, tiny_llama, tmp_path):
    with pytest.raises(ServeError, match="relative"):
        plan_serve("model.gguf")
    with pytest.raises(ServeError, match="does not exist"):
        plan_serve(tmp_path / "nothing.gguf")
    with pytest.raises(ServeError, match="export the model first"):
        plan_serve(tiny_llama, "llamacpp")
    with pytest.raises(ServeError, match="vLLM or LMDeploy"):
        plan_serve(tiny_llama)
    with pytest.raises(ServeError, match="vLLM is not ready: not installed"):
        plan_serve(tiny_llama, "vllm")
    two = tmp_path / "two"
    two.mkdir()
    for n in ("a.gguf", "b.gguf"):
        (two / n).write_bytes(b"GGUF")
    (two / "target.json").write_text(json.dumps({"tool": "quantdesk", "target": "gguf", "files": []}))
    with pytest.raises(ServeError, match="2 .gguf files"):
        plan_serve(two)
    with pytest.raises(ServeError, match="does not serve GGUF"):
        plan_serve(two / "a.gguf", "vllm")
    with pytest.raises(ServeError, match="llama.cpp is not ready"):
        plan_serve(two / "a.gguf")
    (two / "target.json").write_text("{broken")
    with pytest.raises(ServeError, match="unreadable"):
        plan_serve(two / "a.gguf")
    fake_engine(engine_root)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(ServeError, match=f"port {s.getsockname()[1]} is in use"):
            plan_serve(tiny_llama, "vllm", port=s.getsockname()[1])
    with pytest.raises(ServeError, match="at least 16"):
        plan_serve(tiny_llama, "vllm", context=4)


def test_vllm_plan_from_the_export_rules(engine_root, tiny_llama):
    fake_engine(engine_root)
    plan = plan_serve(tiny_llama, detect=lambda: None)
    assert plan.engine == "vllm" and plan.argv[0] == str(engine_root / "vllm" / "bin" / "vllm")
    assert plan.argv[1:3] == ["serve", str(tiny_llama)] and plan.argv[-2:] == ["--host", "127.0.0.1"]
    assert plan.argv[plan.argv.index("--port") + 1] == str(plan.port) and plan.ready_path == "/health"


def test_vllm_on_windows_runs_through_wsl(engine_root, tiny_llama, monkeypatch):
    import services.serving.launch as launch

    monkeypatch.setattr(launch.scripts, "wsl_path", lambda p: "/mnt/c/m")
    (engine_root / "vllm").mkdir()
    (engine_root / "vllm" / engines.RECORD).write_text(json.dumps({"version": "0.33.0", "wsl": True, "python": None}))
    plan = plan_serve(tiny_llama, "vllm", detect=lambda: None, windows=True)
    assert plan.argv[:3] == ["wsl.exe", "-e", "~/.quantdesk/engines/vllm/bin/vllm"] and "/mnt/c/m" in plan.argv


# ---- the job, with the FAKE engine ------------------------------------------------------------------


def serve_cli(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "app", "serve", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def engine_pids(root: Path) -> list[int]:
    """The FAKE engines this test started (other tests run theirs at the same time)."""
    return [p.pid for p in psutil.process_iter(["cmdline"])
            if str(FAKE) in (cmd := " ".join(p.info["cmdline"] or [])) and str(root) in cmd]


@pytest.mark.slow
def test_smoke_against_the_fake_engine_and_nothing_left_running(engine_root, tiny_llama):
    fake_engine(engine_root)
    r = serve_cli("--model", str(tiny_llama), "--engine", "vllm", "--reference", "none", "--json",
                  "--parallel", "3")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    s = out["summary"]["smoke"]
    assert out["status"] == "succeeded" and s["prompts"] == 10 and s["verdict"] == "warn"
    assert s["answers"][5]["text"].startswith("you asked: 用两句话")
    assert s["concurrency"]["completed"] == 3 and s["concurrency"]["latency_p95_s"] >= s["concurrency"]["latency_p50_s"]
    assert out["summary"]["ready_s"] > 0 and out["summary"]["stopped"] == "after the smoke test"
    assert engine_pids(engine_root) == []


@pytest.mark.slow
def test_engine_failure_gives_its_last_lines_and_a_hint(engine_root, tiny_llama):
    fake_engine(engine_root)
    r = serve_cli("--model", str(tiny_llama), "--engine", "vllm", env={"FAKE_ENGINE_MODE": "oom"})
    assert r.returncode == 1
    assert "exited (exit status 1) before it was ready" in r.stderr and "CUDA out of memory" in r.stderr
    assert "lower --context or --max-seqs" in r.stderr
    r = serve_cli("--model", str(tiny_llama), "--engine", "vllm", "--ready-timeout", "2",
                  env={"FAKE_ENGINE_MODE": "hang"})
    assert r.returncode == 1 and "was not ready after 2 s" in r.stderr and "answered 503" in r.stderr
    assert engine_pids(engine_root) == []


def test_wait_ready_polls_until_200(engine_root, tiny_llama, monkeypatch):
    from services.serving import job

    fake_engine(engine_root)
    monkeypatch.setenv("FAKE_READY_S", "1.0")
    plan = plan_serve(tiny_llama, "vllm", detect=lambda: None)
    e = job.Engine(plan)
    try:
        em, _ = events()
        assert 0.8 < job.wait_ready(e, em, 20, poll_s=0.1) < 10
        text = client.chat(plan.url, "x", [{"role": "user", "content": "hi"}], 4)
        assert text.text == "you asked: hi " and text.tokens == 3 and text.ttft_s is not None
        assert metrics.kv_sample(client.get(plan.url + "/metrics")[1]).capacity_tokens == 1600
    finally:
        e.stop()
    assert e.exited() is not None
    with pytest.raises(client.ServerError):
        client.chat(plan.url, "x", [{"role": "user", "content": "hi"}], 4, timeout=2)


def wait_stage(m, job_id: str, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e["type"] == "stage" and e.get("name") == name for e in m.store.events(job_id)):
            return
        time.sleep(0.1)
    pytest.fail(f"never reached {name}: {m.store.get(job_id)}")


def test_stop_while_serving_ends_the_job_with_its_report(engine_root, tiny_llama):
    from services.jobs.local import make_manager
    from services.jobs.spec import JobSpec

    fake_engine(engine_root)
    m = make_manager()
    rec = m.submit(JobSpec(kind="serve", model=str(tiny_llama),
                           params={"engine": "vllm", "smoke": True, "keep_running": True, "reference": False,
                                   "parallel": 1}))
    wait_stage(m, rec.id, "serving")
    assert engine_pids(engine_root)
    m.cancel(rec.id)
    final = m.wait(rec.id, 30)
    assert final.status == "succeeded" and final.result["stopped"] == "by the user"
    assert final.result["smoke"]["prompts"] == 10
    time.sleep(0.5)
    assert engine_pids(engine_root) == []


def test_engine_that_dies_while_serving_fails_the_job(engine_root, tiny_llama, monkeypatch):
    from services.jobs.local import make_manager
    from services.jobs.spec import JobSpec

    fake_engine(engine_root)
    monkeypatch.setenv("FAKE_ENGINE_MODE", "die")
    m = make_manager()
    rec = m.submit(JobSpec(kind="serve", model=str(tiny_llama), params={"engine": "vllm", "smoke": False}))
    final = m.wait(rec.id, 60)
    assert final.status == "failed" and "stopped by itself" in final.error and "worker died" in final.error


def test_bad_cli_numbers_are_refused_before_any_job(engine_root, tiny_llama, tmp_path):
    for args, msg in ((["--parallel", "0"], "--parallel 0"), (["--max-tokens", "99999"], "--max-tokens"),
                      (["--reference", str(tmp_path / "none here")], "not a folder"),
                      (["--prompts", str(tmp_path / "missing.txt")], "--prompts")):
        r = serve_cli("--model", str(tiny_llama), *args)
        assert r.returncode == 2 and msg in r.stderr, r.stderr
    r = serve_cli("--model", "20990101-000000-abcdef")
    assert r.returncode == 2 and "neither a file, a folder nor a job id" in r.stderr


def test_doctor_reports_the_engines(engine_root):
    from services.envcheck.checks_engines import check_engines
    from services.envcheck.context import CheckContext
    from services.envcheck.probe import Probe
    from tests.fakes.probe import healthy_windows

    ctx = CheckContext(output_dir="C:/out")
    assert check_engines(healthy_windows(), ctx).status == "ok"
    real = check_engines(Probe(), ctx)  # the real files: nothing installed under engine_root
    assert real.status == "warn" and real.fix.command == "quantdesk engines install llamacpp"
    fake_engine(engine_root, "lmdeploy")
    assert "installed: LMDeploy fake" in check_engines(Probe(), ctx).summary


def test_a_server_does_not_hold_the_only_job_slot(engine_root, tiny_llama):
    from services.jobs.local import make_manager
    from services.jobs.spec import JobSpec

    fake_engine(engine_root)
    m = make_manager(concurrency=1)
    server = m.submit(JobSpec(kind="serve", model=str(tiny_llama),
                              params={"engine": "vllm", "smoke": False, "keep_running": True}))
    other = m.submit(JobSpec(kind="selftest", model="-", params={"steps": 2}))
    assert m.wait(other.id, 60).status == "succeeded"
    wait_stage(m, server.id, "serving")
    m.cancel(server.id)
    assert m.wait(server.id, 30).status == "succeeded"


def test_a_failed_reinstall_keeps_the_engine_and_installs_do_not_overlap(engine_root, monkeypatch):
    """The install's pip step is replaced here (no package index in tests); the venvs and records are real."""
    em, _ = events()
    engine = engines.ENGINES["lmdeploy"]
    monkeypatch.setattr(install, "_version", lambda python, e: "0.18.0")
    monkeypatch.setattr(install, "_pip", lambda python, e, ev, tail: None)
    first = install._install(engine, engine_root, engine_root / "lmdeploy", False, False, em)
    s = engines.state("lmdeploy")
    assert s.installed and s.env.name.startswith("env-") and s.python.is_file() and first["version"] == "0.18.0"

    def broken_pip(python, e, ev, tail):
        raise JobFailure("pip could not install LMDeploy (exit status 1)")

    monkeypatch.setattr(install, "_pip", broken_pip)
    time.sleep(1.1)  # a new env-<time> name
    with pytest.raises(JobFailure):
        install._install(engine, engine_root, engine_root / "lmdeploy", False, True, em)
    after = engines.state("lmdeploy")
    assert after.installed and after.env == s.env and [p.name for p in (engine_root / "lmdeploy").glob("env-*")] \
        == [s.env.name]
    held = install.lock(engine, engine_root)
    try:
        with pytest.raises(JobFailure, match="another install of LMDeploy is running"):
            install.run(JobSpec(kind="engine", model="-", params={"engine": "lmdeploy", "reinstall": True}), em)
        with pytest.raises(PermissionError, match="being installed"):
            install.remove("lmdeploy")
    finally:
        held.release()
    user = subprocess.Popen([str(after.python), "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.3)
        with pytest.raises(PermissionError, match="in use"):
            install.remove("lmdeploy")
    finally:
        user.kill()
        user.wait()
    install.remove("lmdeploy")
    assert not (engine_root / "lmdeploy").exists()


def test_foreign_and_odd_engine_folders(engine_root):
    (engine_root / "vllm").mkdir()
    (engine_root / "vllm" / "mine.txt").write_text("x")
    s = engines.state("vllm")
    assert s.status == "foreign" and "not made by QuantDesk" in s.message
    fake_engine(engine_root, "lmdeploy")
    (engine_root / "lmdeploy" / engines.RECORD).write_text(json.dumps({"python": 5}))
    assert engines.state("lmdeploy").status == "broken"
    (engine_root / "llamacpp").write_text("a file")
    assert engines.state("llamacpp").status == "foreign"


def test_another_server_on_our_port_is_not_taken_for_ours(engine_root, tiny_llama, monkeypatch):
    from services.serving import job

    fake_engine(engine_root)
    plan = plan_serve(tiny_llama, "vllm", detect=lambda: None)
    other = subprocess.Popen([sys.executable, str(FAKE), "--port", str(plan.port), "--served-model-name", "other"])
    try:
        deadline = time.monotonic() + 10
        while client.get(plan.url + "/health")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        e = job.Engine(plan)
        try:
            with pytest.raises(JobFailure, match="another server answers on port .* serves 'other'"):
                job.wait_ready(e, events()[0], 20, poll_s=0.1)
        finally:
            e.stop()
    finally:
        other.kill()
        other.wait()


@pytest.mark.slow
def test_an_answer_cut_short_fails_with_the_engine_hint(engine_root, tiny_llama):
    fake_engine(engine_root)
    r = serve_cli("--model", str(tiny_llama), "--engine", "vllm", "--reference", "none",
                  env={"FAKE_ENGINE_MODE": "cut"})
    assert r.returncode == 1 and "stopped after 2 pieces without an end" in r.stderr
    assert "do not fit the context" in r.stderr and engine_pids(engine_root) == []


def test_prompt_files_must_hold_prompts(tmp_path):
    from services.evaluate.answers import load_prompts

    for body in ("5", "null", '"hello"', '{"a": 1}', '[{"prompt": null}]', '[{"prompt": 5}]', '["", "  "]'):
        (tmp_path / "p.json").write_text(body)
        with pytest.raises(ValueError, match="prompt"):
            load_prompts(tmp_path / "p.json")
    (tmp_path / "p.json").write_text('["a", {"prompt": "b"}]')
    assert load_prompts(tmp_path / "p.json") == ["a", "b"]


def test_damaged_inputs_are_refused_before_the_engine(engine_root, tiny_llama, tmp_path):
    from services.serving.launch import gguf_problem

    for name, body in (("empty.gguf", b""), ("text.gguf", b"hello world, not a model at all"),
                       ("cut.gguf", b"GGUF\x03\x00\x00\x00" + b"\x05" * 20)):
        (tmp_path / name).write_bytes(body)
        assert gguf_problem(tmp_path / name), name
    ex = tmp_path / "ex"
    ex.mkdir()
    (ex / "m.gguf").write_bytes(b"GGUF")
    for record in ({"tool": "quantdesk", "target": "gguf", "input": "x"}, {"tool": "quantdesk", "files": "m.gguf"},
                   {"tool": "quantdesk", "target": ["gguf"]}):
        (ex / "target.json").write_text(json.dumps(record))
        with pytest.raises(ServeError, match="damaged"):
            plan_serve(ex)
    plain = tmp_path / "plain ggufs"
    plain.mkdir()
    (plain / "a.gguf").write_bytes(b"GGUF")
    with pytest.raises(ServeError, match="llama.cpp is not ready"):  # picked llama.cpp, not vLLM
        plan_serve(plain)
    (plain / "b.gguf").write_bytes(b"GGUF")
    with pytest.raises(ServeError, match="2 .gguf files"):
        plan_serve(plain)


@pytest.mark.slow
def test_a_reference_with_another_vocabulary_is_refused(engine_root, tiny_llama, tmp_path):
    from tests.tinymodels import build_model, build_tokenizer

    other = build_model(tmp_path / "other", build_tokenizer(tmp_path / "tok", vocab_size=300), "llama",
                        hidden=32, intermediate=64, heads=2, kv_heads=1, layers=1)
    fake_engine(engine_root)
    r = serve_cli("--model", str(tiny_llama), "--engine", "vllm", "--reference", str(other))
    assert r.returncode == 2 and "another vocabulary" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = serve_cli("--model", str(tiny_llama), "--engine", "vllm", "--reference", str(empty))
    assert r.returncode == 2 and "no config.json" in r.stderr
