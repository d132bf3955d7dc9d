"""Export jobs end to end through `quantdesk export`: a real AWQ checkpoint to vLLM and LMDeploy
launchers, and the transformers target loading and generating with the project's loader."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def export(*args, home, timeout=600):
    return subprocess.run([sys.executable, "-m", "app", "export", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "QUANTDESK_HOME": str(home)})


def fake_engine(tmp_path, name) -> dict:
    """A fake `vllm` / `lmdeploy` on PATH (the real engines need a GPU): it prints its arguments, one a line."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / name
    fake.write_text("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("QUANTDESK_MODEL", None)
    return env


def test_vllm_export_of_an_awq_job(structured_awq, tmp_path):
    from services.jobs.spec import JobSpec
    from services.jobs.store import JobStore

    home = tmp_path / "home"
    store = JobStore(home / "data" / "jobs.db")
    job = JobSpec(kind="quantize", model="/models/src", out=str(structured_awq), params={"method": "awq"})
    store.add(job)
    store.set_status(job.id, "succeeded", result={"out": str(structured_awq)})
    store.close()
    out = tmp_path / "导出 vllm"
    proc = export("--model", job.id[-10:], "--target", "vllm", "--out", str(out), "--gpu", "4090", "--context",
                  "512", "--max-seqs", "4", "--port", "8123", home=home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["quantdesk.json", "serve.cmd", "serve.ps1", "serve.sh",
                                                     "target.json"]
    record = json.loads((out / "target.json").read_text(encoding="utf-8"))
    assert record["input"]["model"] == str(structured_awq) and record["input"]["format"].startswith("awq W4 g64")
    assert record["verify"]["ok"] and record["plan"]["fraction"] and record["gpu"]["name"] == "RTX 4090"
    assert proc.stdout.strip() == record["command"]
    got = subprocess.run(["bash", str(out / "serve.sh")], capture_output=True, text=True,
                         env=fake_engine(tmp_path, "vllm")).stdout.splitlines()
    assert got[:2] == ["serve", str(structured_awq)]
    flags = dict(zip(got[2::2], got[3::2], strict=False))
    assert flags["--quantization"] == "awq_marlin" and flags["--dtype"] == "float16"
    assert flags["--max-model-len"] == "512" and flags["--max-num-seqs"] == "4" and flags["--port"] == "8123"
    assert b"\r\n" in (out / "serve.cmd").read_bytes()
    # the same export again: refused without --overwrite, replaced with it
    again = export("--model", str(structured_awq), "--target", "vllm", "--out", str(out), home=home)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    again = export("--model", str(structured_awq), "--target", "vllm", "--out", str(out), "--overwrite", "--gpu",
                   "a100", "--context", "512", home=home)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((out / "target.json").read_text(encoding="utf-8"))["gpu"]["name"] == "A100 80GB"
    assert not Path(str(out) + ".partial").exists()


def test_lmdeploy_export_says_which_engine_and_refuses_turbomind_for_g64(structured_awq, tmp_path):
    home = tmp_path / "home"
    out = tmp_path / "lmdeploy out"
    proc = export("--model", str(structured_awq), "--target", "lmdeploy", "--out", str(out), "--gpu", "4090",
                  "--context", "512", "--engine", "turbomind", home=home)
    assert proc.returncode == 2 and "--engine pytorch" in proc.stderr and "--group-size 128" in proc.stderr
    proc = export("--model", str(structured_awq), "--target", "lmdeploy", "--out", str(out), "--gpu", "4090",
                  "--context", "512", "--kv", "int4", home=home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "PyTorch engine" in proc.stderr
    names = sorted(p.name for p in out.iterdir())
    assert {"serve.sh", "serve.cmd", "serve.ps1", "chat.sh", "chat.cmd", "chat.ps1", "target.json"} <= set(names)
    got = subprocess.run(["bash", str(out / "serve.sh")], capture_output=True, text=True,
                         env=fake_engine(tmp_path, "lmdeploy")).stdout.splitlines()
    assert got[:3] == ["serve", "api_server", str(structured_awq)]
    flags = dict(zip(got[3::2], got[4::2], strict=False))
    assert flags["--quant-policy"] == "4" and flags["--backend"] == "pytorch" and flags["--model-format"] == "awq"
    assert str(structured_awq) in (out / "serve.cmd").read_text(encoding="utf-8")


def test_transformers_target_loads_and_generates(structured_awq, tiny_llama, tmp_path):
    home = tmp_path / "home"
    for src, name in ((structured_awq, "awq"), (tiny_llama, "fp16")):
        out = tmp_path / f"hf {name}"
        proc = export("--model", str(src), "--target", "transformers", "--out", str(out), home=home)
        assert proc.returncode == 0, proc.stderr[-3000:]
        record = json.loads((out / "target.json").read_text(encoding="utf-8"))
        assert record["verify"]["ok"] and record["verify"]["logits_finite"] and record["verify"]["new_tokens"] > 0
    example = subprocess.run([sys.executable, str(tmp_path / "hf fp16" / "load_example.py"), "cpu"],
                             capture_output=True, text=True, timeout=300)
    assert example.returncode == 0, example.stderr[-2000:]
    assert example.stdout.startswith("The capital of France is")
    refused = subprocess.run([sys.executable, str(tmp_path / "hf awq" / "load_example.py"), "cpu"],
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "CUDA" in refused.stderr


def test_gguf_export_from_a_job_takes_its_source_and_checks_the_file(structured_awq, tiny_llama, tmp_path):
    from services.jobs.spec import JobSpec
    from services.jobs.store import JobStore

    home = tmp_path / "home"
    refused = export("--model", str(structured_awq), "--target", "gguf", "--out", str(tmp_path / "g0"), home=home)
    assert refused.returncode == 2 and "compounds the error" in refused.stderr
    no_tool = export("--model", str(tiny_llama), "--target", "gguf", "--out", str(tmp_path / "g0"), "--gguf-type",
                     "q4_k_m", home=home)
    assert no_tool.returncode == 2 and "llama-quantize" in no_tool.stderr
    store = JobStore(home / "data" / "jobs.db")
    job = JobSpec(kind="quantize", model=str(tiny_llama), out=str(structured_awq), params={"method": "awq"})
    store.add(job)
    store.set_status(job.id, "succeeded", result={"out": str(structured_awq)})
    store.close()
    out = tmp_path / "gguf 导出"
    proc = export("--model", job.id, "--target", "gguf", "--out", str(out), "--gguf-type", "q8_0", home=home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "exporting its source model" in proc.stderr
    record = json.loads((out / "target.json").read_text(encoding="utf-8"))
    assert record["input"]["model"] == str(tiny_llama) and record["input"]["source_of"] == job.id
    v = record["verify"]
    assert v["ok"] and v["tensor_count"] > 0 and v["tokenizer_matches"] and abs(v["perplexity_ratio"] - 1) < 0.01
    gguf_file = out / f"{tiny_llama.name}-Q8_0.gguf"
    assert gguf_file.is_file() and (out / "Modelfile").read_text().startswith(f"FROM ./{gguf_file.name}")
    assert record["built"]["ollama"].startswith("ollama create tiny-llama -f ")
