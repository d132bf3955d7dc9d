"""The QServe target (scripts only): its rules and advice, the scripts it writes through `quantdesk export`, and
what those scripts run (with a fake `python` on PATH; QuantDesk never runs QServe itself)."""
import json
import os
import subprocess
import sys
from pathlib import Path

from services.targets.preflight import check_export
from services.targets.qserve import QserveTarget, model_name
from tests.conftest import ROOT

LLAMA = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256, "intermediate_size": 512,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1000,
         "max_position_embeddings": 2048, "torch_dtype": "float16"}
AWQ = {"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm", "zero_point": True}


def hf_model(tmp_path: Path, name="llama-tiny", quant=None, **over) -> Path:
    import numpy as np
    from safetensors.numpy import save_file

    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    cfg = {**LLAMA, **over, **({"quantization_config": quant} if quant else {})}
    (folder / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    save_file({"model.norm.weight": np.ones(8, dtype=np.float16)}, str(folder / "model.safetensors"))
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    return folder


def check(folder: Path, tmp_path: Path, **params):
    return check_export(folder, tmp_path / "out", "qserve", params, detect=lambda: None)


def run_info(c) -> dict:
    assert c.ok, c.errors
    return c.info["run"]


def test_group_size_follows_the_gpu_advice(tmp_path):
    m = hf_model(tmp_path)
    c = check(m, tmp_path)
    assert run_info(c)["group_size"] == -1 and "No GPU was named" in run_info(c)["gpu_advice"]
    assert run_info(check(m, tmp_path, gpu="a100"))["group_size"] == -1
    assert run_info(check(m, tmp_path, gpu="H100"))["group_size"] == -1
    for gpu in ("l40s", "4090", "3090"):
        assert run_info(check(m, tmp_path, gpu=gpu))["group_size"] == 128, gpu
    chosen = check(m, tmp_path, gpu="l40s", group_size="-1")
    assert run_info(chosen)["group_size"] == -1 and "advises groups of 128" in chosen.warnings[0]
    assert run_info(check(m, tmp_path, precision="w4a8kv8"))["precision"] == "w4a8kv8"
    assert model_name(c.source.shape) == "llama-2m"


def test_refusals_say_what_to_change(tmp_path):
    m = hf_model(tmp_path)
    old = check(m, tmp_path, gpu="2080 ti")
    assert not old.ok and "compute capability 8.0 or newer" in old.errors[0]
    awq = check(hf_model(tmp_path, "awq", AWQ), tmp_path)
    assert not awq.ok and "give its source model" in awq.errors[0] and "awq W4 g128" in awq.errors[0]
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 64)
    assert "is not a folder" in check(gguf, tmp_path).errors[0]
    odd = check(hf_model(tmp_path, "odd", hidden_size=576, intermediate_size=1536, num_attention_heads=9,
                         num_key_value_heads=3), tmp_path, group_size="128")
    assert not odd.ok and "use --group-size -1" in odd.errors[0]
    assert check(tmp_path / "odd", tmp_path, group_size="-1").ok  # per channel divides anything
    tiles = check(hf_model(tmp_path, "tiles", hidden_size=100, num_attention_heads=4, num_key_value_heads=2), tmp_path)
    assert not tiles.ok and "tiles of 32" in tiles.errors[0]
    assert "must be one of w4a8kv4, w4a8kv8" in check(m, tmp_path, precision="w4a4").errors[0]
    assert "--gpu-mem does not apply to the qserve target" in check(m, tmp_path, gpu_mem=24.0).errors[0]
    (m / "tokenizer.json").unlink()
    assert "has no tokenizer (tokenizer.json or tokenizer.model)" in check(m, tmp_path).errors[0]


def test_warnings_for_other_architectures_and_paths_with_spaces(tmp_path):
    qwen = check(hf_model(tmp_path, "qwen", architectures=["Qwen2ForCausalLM"], model_type="qwen2"), tmp_path)
    assert qwen.ok and "not a Llama-family model" in qwen.warnings[0]
    spaced = check(hf_model(tmp_path, "模型 a b"), tmp_path)
    assert spaced.ok and "QUANTDESK_MODEL" in spaced.warnings[0]


def test_prerequisites_are_linux_a_cuda_gpu_and_flash_attention():
    ids = [c.id for c in QserveTarget().prerequisites()]
    assert ids == ["qserve:linux", "qserve:gpu", "module:flash_attn"]


def export(*args, home):
    return subprocess.run([sys.executable, "-m", "app", "export", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "QUANTDESK_HOME": str(home)})


def fake_host(tmp_path: Path) -> dict:
    """DeepCompressor and OmniServe folders, and a `python` that prints where it runs and its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text('#!/bin/sh\necho "$(pwd) | $*"\n')
    (bin_dir / "python").chmod(0o755)
    (tmp_path / "dc" / "examples" / "llm").mkdir(parents=True)
    (tmp_path / "os" / "scripts" / "ckpt_converter").mkdir(parents=True)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "DEEPCOMPRESSOR_DIR": str(tmp_path / "dc"), "OMNISERVE_DIR": str(tmp_path / "os")}
    for k in ("QUANTDESK_MODEL", "WORK_DIR", "MODEL_NAME", "QSERVE_MODEL"):
        env.pop(k, None)
    return env


def test_export_writes_the_three_commands_and_the_readme(tmp_path):
    m = hf_model(tmp_path)
    out = tmp_path / "qserve-out"
    proc = export("--model", str(m), "--target", "qserve", "--out", str(out), "--gpu", "l40s", home=tmp_path / "h")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "QuantDesk ran none of them" in proc.stderr and proc.stdout.strip() == f"bash {out / 'qserve.sh'}"
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "qserve.sh", "quantdesk.json", "target.json"]
    assert not Path(str(out) + ".partial").exists()
    record = json.loads((out / "target.json").read_text(encoding="utf-8"))
    assert record["verify"]["ok"] and record["verify"]["scripts_only"] and record["params"]["group_size"] == "auto"
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "QuantDesk wrote these commands and did not run them" in readme
    for needed in ("Linux", "compute capability 8.0", "FlashAttention-2", "groups of 128 on inference and consumer"):
        assert needed in readme

    env = fake_host(tmp_path)
    ran = subprocess.run(["bash", str(out / "qserve.sh")], capture_output=True, text=True, env=env, timeout=30)
    assert ran.returncode == 0, ran.stderr
    quantize, convert, generate = ran.stdout.splitlines()
    work = out / "work"
    assert quantize == (f"{tmp_path / 'dc/examples/llm'} | -m deepcompressor.app.llm.ptq configs/qoq-g128.yaml "
                        f"--model-name llama-2m --model-path {m} --save-model {work / 'fake-quant'}")
    assert convert == (f"{tmp_path / 'os/scripts/ckpt_converter'} | checkpoint_converter.py --model-path {m} "
                       f"--quant-path {work / 'fake-quant'} --w-bit 4 --group-size 128 --output-path {work} "
                       "--device cpu")
    converted = work / "llama-tiny-w4a8-g128"
    assert generate == (f"{tmp_path / 'os'} | qserve_e2e_generation.py --model {converted} --quant-path {converted} "
                        "--precision w4a8kv4 --group-size 128 --ifb-mode --max-num-seqs 8")
    one = subprocess.run(["bash", str(out / "qserve.sh"), "quantize", "--smooth-proj-alpha", "0.1"],
                         capture_output=True, text=True, env=env, timeout=30)
    assert one.stdout.strip().endswith("--smooth-proj-alpha 0.1")
    spaced = subprocess.run(["bash", str(out / "qserve.sh")], capture_output=True, text=True, timeout=30,
                            env={**env, "WORK_DIR": str(tmp_path / "a b")})
    assert spaced.returncode == 2 and "without spaces" in spaced.stderr and not spaced.stdout


def test_export_refuses_a_non_hf_input_with_one_line(tmp_path):
    awq = hf_model(tmp_path, "awq", AWQ)
    out = tmp_path / "o"
    proc = export("--model", str(awq), "--target", "qserve", "--out", str(out), home=tmp_path / "h")
    assert proc.returncode == 2 and not out.exists()
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("quantdesk: error: QServe's pipeline starts from the fp16/bf16 Hugging Face model")
    proc = export("--model", str(hf_model(tmp_path)), "--target", "qserve", "--out", str(out), "--group-size", "64",
                  home=tmp_path / "h")
    assert proc.returncode == 2 and "invalid choice: '64'" in proc.stderr


def test_targets_list_shows_qserve(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "app", "targets", "list", "--json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "QUANTDESK_HOME": str(tmp_path)})
    assert proc.returncode == 0
    (q,) = [t for t in json.loads(proc.stdout)["targets"] if t["name"] == "qserve"]
    assert q["ready"] or q["scripts_only"]
    assert {s["flag"] for s in q["settings"]} == {"--gpu", "--max-seqs", "--precision", "--group-size"}


def test_a_quantize_job_id_means_its_fp16_source(tmp_path):
    from services.jobs.spec import JobSpec
    from services.jobs.store import JobStore

    src, awq = hf_model(tmp_path), hf_model(tmp_path, "awq", AWQ)
    home = tmp_path / "h"
    store = JobStore(home / "data" / "jobs.db")
    job = JobSpec(kind="quantize", model=str(src), out=str(awq), params={"method": "awq"})
    store.add(job)
    store.set_status(job.id, "succeeded", result={"out": str(awq)})
    store.close()
    out = tmp_path / "from-job"
    proc = export("--model", job.id[-10:], "--target", "qserve", "--out", str(out), "--check", home=home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"exporting its source model {src}" in proc.stderr and proc.stdout.strip() == "bash qserve.sh"
