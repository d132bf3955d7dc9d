"""The Edge10 NPU target with a FAKE docker on PATH (tests/fakes/docker.py): the vendor's images do
not exist here, so these tests check what QuantDesk does around them (prerequisites and their fixes,
the scripts and docker commands, streaming, cancel, known failures, the artifacts check), never that a
real compile happened."""
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

AWQ = {"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm", "zero_point": True}
CONFIG = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128,
          "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300,
          "max_position_embeddings": 4096, "torch_dtype": "float16", "quantization_config": AWQ}


def awq_model(tmp_path, name="qwen awq 模型", **over) -> Path:
    import numpy as np
    from safetensors.numpy import save_file

    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({**CONFIG, **over}), encoding="utf-8")
    (folder / "tokenizer.json").write_text(json.dumps({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}}}),
                                           encoding="utf-8")
    save_file({"model.embed_tokens.weight": np.zeros((300, 64), dtype=np.float16)},
              str(folder / "model.safetensors"))
    return folder


@pytest.fixture
def fake_docker(tmp_path):
    """Put the FAKE docker first on PATH; returns (env, the log of its invocations)."""
    bin_dir = tmp_path / "fake-docker-bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "docker"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} {ROOT / 'tests' / 'fakes' / 'docker.py'} \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    state = tmp_path / "fake-docker-state"
    state.mkdir()
    calls = tmp_path / "docker-calls.jsonl"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_DOCKER_STATE": str(state),
           "FAKE_DOCKER_LOG": str(calls), "QUANTDESK_HOME": str(tmp_path / "home")}

    def read_calls():
        return [json.loads(line) for line in calls.read_text(encoding="utf-8").splitlines()] if calls.exists() else []

    return env, read_calls


def export(env, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "app", "export", "--target", "edge10", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, env=env)


READY = {"FAKE_DOCKER_IMAGES": "tyquantize:latest,tyllm:latest"}


def test_without_the_daemon_it_writes_the_scripts_and_docker_commands(fake_docker, tmp_path):
    env, calls = fake_docker
    model, out = awq_model(tmp_path), tmp_path / "edge out"
    proc = export({**env, "FAKE_DOCKER_DAEMON": "down"}, "--model", str(model), "--out", str(out),
                  "--die-num", "2", "--prefill", "256", "--max-kv", "1024")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "cannot run the vendor's images" in proc.stderr and "daemon cannot be reached" in proc.stderr
    record = json.loads((out / "target.json").read_text(encoding="utf-8"))
    assert record["verify"]["ok"] and record["verify"]["compiled"] is False
    assert not any("run" in c for c in calls())  # no container was started
    sh = (out / "run_convert.sh").read_text(encoding="utf-8")
    assert "docker run --rm --gpus all" in sh and f"'{model}:/workspace/input:ro'" in sh
    assert "--quant_type awq" in sh and f"'{out}:/workspace/out'" in sh
    script = (out / "compile_llm.py").read_text(encoding="utf-8")
    assert "LM_die_remap = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]" in script
    assert "seq_len_list=[1, 256]" in script and "dev_count=2" in script and "max_kv_cache_size=1024" in script
    assert f"artifacts_path='/workspace/out/{model.name}-AOT_256_1024/2die'" in script
    assert json.loads((out / "side_files" / "vocab.json").read_text(encoding="utf-8")) == {"a": 0, "b": 1}
    assert (out / "run_compile.cmd").read_bytes().count(b"\r\n") >= 3


def test_with_docker_and_the_images_both_steps_run_and_the_artifacts_are_checked(fake_docker, tmp_path):
    env, calls = fake_docker
    model, out = awq_model(tmp_path), tmp_path / "edge compiled"
    remap = "15,14,13,12,11,10,9,8,7,6,5,4,3,2,1,0"
    proc = export({**env, **READY}, "--model", str(model), "--out", str(out), "--die-num", "2", "--prefill", "128",
                  "--max-kv", "2048", "--compile-threads", "1", "--die-remap", remap)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = [c for c in calls() if "run" in c]
    assert [r["run"] for r in runs] == ["tyquantize:latest", "tyllm:latest"]
    assert runs[1]["env"] == {"COMPILE_THREAD": "1"} and all(r["name"].startswith("quantdesk-") for r in runs)
    root = out / f"{model.name}-AOT_128_2048" / "2die"
    assert sorted(p.name for p in (root / "batch_1" / "seqlen_128").iterdir()) == [
        "die0.params", "die0.so", "die1.params", "die1.so"]
    compiled = json.loads((root / "config.json").read_text())
    assert compiled["LM_die_remap"] == list(range(15, -1, -1)) and compiled["COMPILE_THREAD"] == "1"
    record = json.loads((out / "target.json").read_text(encoding="utf-8"))
    assert record["verify"] == {"ok": True, "compiled": True, "problems": [],
                                "artifacts": f"{model.name}-AOT_128_2048/2die"}
    log = Path(json.loads(subprocess.run([sys.executable, "-m", "app", "jobs", "list", "--json"], cwd=ROOT, env=env,
                                         capture_output=True, text=True).stdout)[0]["log_path"])
    assert "fake tyllm: compiled seqlen 128 for 2 dies" in log.read_text(encoding="utf-8")  # streamed to the log


@pytest.mark.parametrize("mode,hint", [("segfault", "pyarrow==16.0.0"), ("mixed", "--compile-threads 1")])
def test_known_compile_failures_get_their_fix(fake_docker, tmp_path, mode, hint):
    env, _ = fake_docker
    model, out = awq_model(tmp_path), tmp_path / "edge failed"
    proc = export({**env, **READY, "FAKE_DOCKER_MODE": mode}, "--model", str(model), "--out", str(out))
    assert proc.returncode == 1 and hint in proc.stderr
    assert not out.exists() and not Path(str(out) + ".partial").exists()


def test_cancel_stops_the_container(fake_docker, tmp_path):
    env, calls = fake_docker
    model, out = awq_model(tmp_path), tmp_path / "edge cancelled"
    proc = subprocess.Popen([sys.executable, "-m", "app", "export", "--target", "edge10", "--model", str(model),
                             "--out", str(out)], cwd=ROOT, env={**env, **READY, "FAKE_DOCKER_MODE": "slow"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not any("run" in c for c in calls()):
        assert time.time() < deadline and proc.poll() is None, proc.communicate()[1][-2000:]
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(__import__("signal").SIGINT)
    proc.communicate(timeout=60)
    assert any(c.get("rm", "").endswith("-convert") for c in calls())  # the container was removed
    assert not list((tmp_path / "fake-docker-state").glob("*.pid"))  # and nothing of it runs
    assert not out.exists() and not Path(str(out) + ".partial").exists()


def test_refusals_and_prerequisite_fixes(fake_docker, tmp_path, monkeypatch):
    env, _ = fake_docker
    model = awq_model(tmp_path)
    bad = export(env, "--model", str(model), "--out", str(tmp_path / "o"), "--die-remap", "0,1,2")
    assert bad.returncode == 2 and "exactly 16 entries" in bad.stderr
    long = export(env, "--model", str(model), "--out", str(tmp_path / "o"), "--prefill", "4096", "--max-kv", "1024")
    assert long.returncode == 2 and "longer than --max-kv" in long.stderr
    fp16 = awq_model(tmp_path, "fp16 model", quantization_config=None)
    assert "--method awq" in export(env, "--model", str(fp16), "--out", str(tmp_path / "o")).stderr
    vision = awq_model(tmp_path, "vl model", vision_config={"depth": 2})
    assert "preprocessor_config.json" in export(env, "--model", str(vision), "--out", str(tmp_path / "o")).stderr

    from services.targets.docker import docker_checks

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("FAKE_DOCKER_NO_NVIDIA", "1")
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text(json.dumps({"log-driver": "json-file"}))
    checks = {c.id: c for c in docker_checks(["reg.local:5000/tyllm:v2"], "reg.local:5000", daemon_json)}
    assert checks["docker"].status == "ok"
    assert checks["nvidia-runtime"].status == "fail" and "nvidia-ctk" in checks["nvidia-runtime"].fix.command
    reg = checks["registry"]
    assert reg.status == "fail" and '"insecure-registries": [\n    "reg.local:5000"\n  ]' in reg.details
    assert '"log-driver": "json-file"' in reg.details  # what is there stays
    image = checks["image:reg.local:5000/tyllm:v2"]
    assert image.status == "fail" and image.fix.command == "docker pull reg.local:5000/tyllm:v2"
    monkeypatch.setenv("FAKE_DOCKER_INSECURE", "reg.local:5000")
    monkeypatch.setenv("FAKE_DOCKER_IMAGES", "reg.local:5000/tyllm:v2")
    checks = {c.id: c for c in docker_checks(["reg.local:5000/tyllm:v2"], "reg.local:5000", daemon_json)}
    assert checks["registry"].status == "ok" and checks["image:reg.local:5000/tyllm:v2"].status == "ok"


def test_windows_paths_in_the_docker_commands():
    from services.checkpoint import format_from_config
    from services.targets.base import TargetInput
    from services.targets.edge10 import Edge10Target

    src = TargetInput(Path(r"C:\Users\张 三\qwen awq"), CONFIG, format_from_config(CONFIG), None)
    params = {"registry": "reg:5000", "image_tag": "v1", "compile_threads": 0, "die_num": 1, "prefill": 512,
              "max_kv": 2048}
    convert, compile_ = Edge10Target()._runs(src, params, r"D:\导出\edge out", windows=True)
    assert "C:/Users/张 三/qwen awq:/workspace/input:ro" in convert and "reg:5000/tyquantize:v1" in convert
    assert "D:/导出/edge out:/workspace/out" in compile_
    convert, _ = Edge10Target()._runs(src, params, r"D:\导出\edge out", windows=False)
    assert "/mnt/c/Users/张 三/qwen awq:/workspace/input:ro" in convert


def test_a_killed_runner_leaves_no_container(fake_docker, tmp_path):
    """kill -9 of the job process: the docker client dies but (with real docker) the container would not;
    the job's owner removes the containers labelled with the job's id."""
    import signal

    import psutil

    env, calls = fake_docker
    model, out = awq_model(tmp_path), tmp_path / "edge killed"
    proc = subprocess.Popen([sys.executable, "-m", "app", "export", "--target", "edge10", "--model", str(model),
                             "--out", str(out)], cwd=ROOT, env={**env, **READY, "FAKE_DOCKER_MODE": "slow"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not any("run" in c for c in calls()):
        assert time.time() < deadline and proc.poll() is None, proc.communicate()[1][-2000:]
        time.sleep(0.1)
    run = next(c for c in calls() if "run" in c)
    assert any(label.startswith("quantdesk.job=") for label in run["labels"])
    runner = next(p for p in psutil.Process(proc.pid).children(recursive=True)
                  if "services.jobs.runner" in " ".join(p.cmdline()))
    state = tmp_path / "fake-docker-state"

    def detached_container():
        """The fake container's own process (outside the job's process tree, as dockerd's would be)."""
        for f in state.glob("*.pid"):
            text = f.read_text().strip()
            try:
                proc_ = psutil.Process(int(text)) if text else None
                if proc_ is not None and "while True" in " ".join(proc_.cmdline()):
                    return proc_
            except psutil.Error:
                pass
        return None

    while (container := detached_container()) is None:
        assert time.time() < deadline
        time.sleep(0.05)
    runner.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert any(c.get("rm", "").endswith("-convert") for c in calls())
    gone = time.time() + 10  # the owner removed it (docker rm -f), as it must with a real container
    while container.is_running() and container.status() != psutil.STATUS_ZOMBIE:  # nobody may reap it here
        assert time.time() < gone, "the container still runs"
        time.sleep(0.05)
    assert not out.exists() and not Path(str(out) + ".partial").exists()
