"""Export targets without the ML stack: rules with their reasons, flags from the planner, launchers
quoted for bash, cmd and PowerShell (Windows paths checked with strings, not on Windows)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.targets import scripts
from services.targets.gpus import find_gpu, resolve_gpu
from services.targets.preflight import check_export
from services.targets.serving import size_engine
from tests.conftest import ROOT

LLAMA = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
         "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
         "vocab_size": 32000, "max_position_embeddings": 4096, "torch_dtype": "float16"}
AWQ = {"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm", "zero_point": True}
W4A16 = {"quant_method": "compressed-tensors", "format": "pack-quantized",
         "config_groups": {"group_0": {"weights": {"num_bits": 4, "group_size": 128}}}, "ignore": ["lm_head"]}
W8A8 = {**W4A16, "format": "int-quantized", "config_groups": {"group_0": {"weights": {"num_bits": 8}}}}
FP8 = {**W4A16, "format": "float-quantized", "config_groups": {"group_0": {"weights": {"num_bits": 8}}}}


def model(tmp_path, quant=None, name="模型 a b", **over) -> Path:
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    cfg = {**LLAMA, **over, **({"quantization_config": quant} if quant else {})}
    (folder / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"model.norm.weight": np.ones(8, dtype=np.float16)}, str(folder / "model.safetensors"))
    return folder


def check(tmp_path, target, quant=None, model_over=None, **params):
    m = model(tmp_path, quant, **(model_over or {}))
    return check_export(m, tmp_path / "out", target, params, detect=lambda: None)


# -- GPUs and sizing
def test_gpus_by_name_and_memory_override():
    assert find_gpu("rtx 4090").memory_gib == 24 and find_gpu("4090").sm == 89
    assert find_gpu("A100-40GB").memory_gib == 40 and find_gpu("a100").memory_gib == 80
    with pytest.raises(ValueError, match="--gpu-mem"):
        find_gpu("Voodoo 3")
    g = resolve_gpu("4090", 20.0)
    assert (g.memory_gib, g.sm) == (20.0, 89)
    assert resolve_gpu(None, None) is None
    with pytest.raises(ValueError, match="positive"):
        resolve_gpu(None, -3.0)


def test_the_memory_fraction_holds_exactly_the_sequences_asked_for():
    from services.modelinfo import shape_from_config

    shape = shape_from_config({**LLAMA, "quantization_config": AWQ})
    for engine in ("vllm", "lmdeploy"):
        s = size_engine(engine, shape, find_gpu("4090"), 4096, 8, "fp16", 1)
        assert not s.errors and 0 < s.fraction <= 0.95
        assert s.plan.max_sequences_at_context >= 8  # holds what was asked for...
        tighter = size_engine(engine, shape, find_gpu("4090"), 4096, 8, "fp16", 1)
        tighter.fraction = round(s.fraction - 0.02, 2)
        from services.memory.planner import PlanRequest, make_plan

        req = PlanRequest(weights="auto", kv="fp16", engine=engine, gpu_mem_gib=24, tp=1, context=4096,
                          max_num_seqs=8, utilization=tighter.fraction, cache_max_entry_count=tighter.fraction)
        assert make_plan(shape, req).max_sequences_at_context < 8  # ...and no more than needed
    too_many = size_engine("vllm", shape, find_gpu("4090"), 4096, 64, "fp16", 1)
    assert too_many.fraction is None and "lower --context or --max-seqs" in too_many.errors[0]
    assert size_engine("vllm", shape, None, 4096, 8, "fp16", 1).fraction is None  # no GPU: engine default


# -- vLLM rules
def test_vllm_refuses_gemv_int8_kv_and_a_tp_that_does_not_divide(tmp_path):
    c = check(tmp_path, "vllm", {**AWQ, "version": "gemv"}, gpu="4090")
    assert not c.ok and "GEMV" in c.errors[0] and "--version gemm" in c.errors[0]
    assert "fp8" in " ".join(check(tmp_path, "vllm", AWQ, gpu="4090", kv="int8").errors)
    c = check(tmp_path, "vllm", AWQ, model_over={"num_key_value_heads": 8}, gpu="a100", tp=3)
    assert any("tensor parallel 3" in e and "--tp 1, 2, 4, 8" in e for e in c.errors)


def test_vllm_flags_per_scheme_and_gpu(tmp_path):
    c = check(tmp_path, "vllm", AWQ, gpu="4090", context=4096, max_seqs=8, port=9000)
    assert c.ok, c.errors
    argv = c.info["argv"]
    assert argv[argv.index("--quantization") + 1] == "awq_marlin" and argv[argv.index("--dtype") + 1] == "float16"
    assert argv[argv.index("--max-model-len") + 1] == "4096" and argv[argv.index("--port") + 1] == "9000"
    assert 0 < float(argv[argv.index("--gpu-memory-utilization") + 1]) <= 0.95
    t4 = check(tmp_path, "vllm", AWQ, gpu="T4").info["argv"]
    assert t4[t4.index("--quantization") + 1] == "awq"  # no Marlin below sm80
    fp8 = check(tmp_path, "vllm", FP8, gpu="3090")
    assert not fp8.ok and "8.9" in fp8.errors[0]
    assert check(tmp_path, "vllm", FP8, gpu="4090", max_seqs=4).ok
    w4 = check(tmp_path, "vllm", W4A16, gpu="T4")
    assert not w4.ok and "8.0" in w4.errors[0]
    w8 = check(tmp_path, "vllm", W8A8, gpu="T4", max_seqs=2)
    assert w8.ok and "compressed-tensors" in w8.info["argv"]
    bf16 = check(tmp_path, "vllm", None, model_over={"torch_dtype": "bfloat16"}, gpu="T4")
    assert "float16" in bf16.info["argv"] and "no bfloat16" in bf16.warnings[0]
    unknown = check(tmp_path, "vllm", AWQ)
    assert unknown.ok and "--gpu-memory-utilization" not in unknown.info["argv"]
    assert any("--gpu NAME" in n for n in unknown.notes)


# -- LMDeploy rules
def test_lmdeploy_turbomind_limits(tmp_path):
    g64 = {**AWQ, "group_size": 64}
    c = check(tmp_path, "lmdeploy", g64, gpu="4090", engine="turbomind")
    assert not c.ok and "group size 128" in c.errors[0] and "--engine pytorch" in c.errors[0] \
        and "--group-size 128" in c.errors[0]
    auto = check(tmp_path, "lmdeploy", g64, gpu="4090")
    assert auto.ok and auto.info["engine"] == "pytorch" and "re-quantize" in auto.warnings[0]
    assert auto.info["serve"][auto.info["serve"].index("--backend") + 1] == "pytorch"
    c = check(tmp_path, "lmdeploy", AWQ, model_over={"intermediate_size": 11008 + 128 * 3}, gpu="a100", tp=2)
    assert any("intermediate_size" in e for e in c.errors)  # 11392 / 2 = 5696 is not a multiple of 128
    assert "fp8" in check(tmp_path, "lmdeploy", AWQ, gpu="4090", kv="fp8").errors[0]
    assert "vLLM target" in check(tmp_path, "lmdeploy", W4A16, gpu="4090").errors[0]


def test_lmdeploy_flags_from_the_planner(tmp_path):
    c = check(tmp_path, "lmdeploy", AWQ, gpu="4090", kv="int8", max_seqs=4, port=23333)
    assert c.ok, c.errors
    serve = c.info["serve"]
    assert serve[:3] == ["lmdeploy", "serve", "api_server"]
    flag = dict(zip(serve[4::2], serve[5::2], strict=False))
    assert flag["--model-format"] == "awq" and flag["--quant-policy"] == "8" and flag["--server-port"] == "23333"
    assert flag["--backend"] == "turbomind" and 0 < float(flag["--cache-max-entry-count"]) <= 0.95
    assert c.info["chat"][:2] == ["lmdeploy", "chat"]


# -- inputs and settings
def test_bad_inputs_are_refused_with_what_to_change(tmp_path):
    m = model(tmp_path, AWQ)
    assert "unknown target" in check_export(m, tmp_path / "o", "tensorrt", {}).errors[0]
    assert "relative" in check_export(Path("rel/model"), tmp_path / "o", "vllm", {}).errors[0]
    assert "inside the input" in " ".join(check_export(m, m / "out", "vllm", {}, detect=lambda: None).errors)
    assert "not a folder" in check_export(tmp_path / "missing", tmp_path / "o", "vllm", {}).errors[0]
    assert "does not apply" in check_export(m, tmp_path / "o", "vllm", {"die_num": 2}).errors[0]
    assert "between 1 and 65535" in check_export(m, tmp_path / "o", "vllm", {"port": 70000}).errors[0]
    assert "takes a whole number" in check_export(m, tmp_path / "o", "vllm", {"tp": "two"}).errors[0]
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("keep me")
    assert "--overwrite" in check_export(m, tmp_path / "taken", "vllm", {}, detect=lambda: None).errors[0]
    over = check_export(m, tmp_path / "taken", "vllm", {}, overwrite=True, detect=lambda: None)
    assert "not an earlier QuantDesk output" in over.errors[0]


def test_detected_gpu_is_used_unless_one_is_named(tmp_path):
    from services.targets.gpus import Gpu

    m = model(tmp_path, AWQ)
    c = check_export(m, tmp_path / "o", "vllm", {}, detect=lambda: Gpu("NVIDIA GeForce RTX 3090", 24.0, 86))
    assert "(detected)" in c.notes[0] and "awq_marlin" in c.info["argv"]
    c = check_export(m, tmp_path / "o", "vllm", {"gpu": "T4"}, detect=lambda: Gpu("NVIDIA H100", 80.0, 90))
    assert c.gpu.name == "T4"


# -- launchers
WIN_MODEL = r"C:\Users\张 三\models\qwen awq"


def test_windows_paths_for_wsl_and_docker():
    assert scripts.wsl_path(WIN_MODEL) == "/mnt/c/Users/张 三/models/qwen awq"
    assert scripts.wsl_path(r"\\wsl$\Ubuntu\home\u\m") == "/home/u/m"
    assert scripts.wsl_path(r"\\wsl.localhost\Ubuntu-22.04\srv") == "/srv"
    assert scripts.wsl_path("/home/u/m") == "/home/u/m"
    with pytest.raises(ValueError, match="network share"):
        scripts.wsl_path(r"\\fileserver\models\m")
    assert scripts.docker_host_path(WIN_MODEL, windows_shell=True) == "C:/Users/张 三/models/qwen awq"
    assert scripts.docker_host_path(WIN_MODEL, windows_shell=False) == "/mnt/c/Users/张 三/models/qwen awq"


def test_cmd_and_ps1_quote_spaces_cjk_and_percent():
    argv = ["lmdeploy", "serve", "api_server", r"D:\模型\100% 好 model", "--tp", "1"]
    cmd = scripts.cmd_native(argv, ["header"])
    assert '"D:\\模型\\100%% 好 model"' in cmd and cmd.endswith("exit /b %ERRORLEVEL%\r\n") and "\n" not in \
        cmd.replace("\r\n", "")
    ps1 = scripts.ps1_native([*argv[:3], "it's"], ["header"])
    assert "& 'lmdeploy' 'serve' 'api_server' 'it''s' @args" in ps1
    wsl = scripts.cmd_via_wsl("serve.sh", ["h"])
    assert 'wsl.exe --cd "%~dp0." -e bash ./serve.sh %*' in wsl
    assert "wsl.exe --cd $PSScriptRoot -e bash ./serve.sh @args" in scripts.ps1_via_wsl("serve.sh", ["h"])


def test_the_bash_launcher_passes_every_argument_intact(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake = fake_bin / "vllm"  # a fake vllm (the real one needs a GPU): prints the arguments it got, one a line
    fake.write_text("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n")
    fake.chmod(0o755)
    odd = str(tmp_path / "模型 $HOME `x` \"q\" it's")
    text = scripts.sh_script(["vllm", "serve", scripts.MODEL, "--served-model-name", "a b"], ["h"],
                             model_var=(scripts.MODEL_VAR, odd))
    path = scripts.write_text(tmp_path, "serve.sh", text, executable=True)
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    env.pop(scripts.MODEL_VAR, None)
    got = subprocess.run(["bash", str(path), "--extra", "x y"], capture_output=True, text=True, env=env).stdout
    assert got.splitlines() == ["serve", odd, "--served-model-name", "a b", "--extra", "x y"]
    env[scripts.MODEL_VAR] = "/srv/models/m"
    got = subprocess.run(["bash", str(path)], capture_output=True, text=True, env=env).stdout
    assert got.splitlines()[1] == "/srv/models/m"


# -- the command line
def export_cli(*args, home):
    return subprocess.run([sys.executable, "-m", "app", "export", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "QUANTDESK_HOME": str(home)})


def test_export_refusals_exit_2_with_the_reason(tmp_path):
    m = model(tmp_path, {**AWQ, "version": "gemv"})
    proc = export_cli("--model", str(m), "--target", "vllm", "--out", str(tmp_path / "o"), "--gpu", "4090",
                      home=tmp_path / "home")
    assert proc.returncode == 2 and "GEMV" in proc.stderr and not (tmp_path / "o").exists()
    proc = export_cli("--model", "no-such-job", "--target", "vllm", "--out", str(tmp_path / "o"),
                      home=tmp_path / "home")
    assert proc.returncode == 2 and "neither a folder nor a job id" in proc.stderr
    proc = export_cli("--model", str(model(tmp_path, AWQ, name="ok")), "--target", "vllm", "--out",
                      str(tmp_path / "o"), "--gpu", "4090", "--check", "--json", home=tmp_path / "home")
    assert proc.returncode == 0 and json.loads(proc.stdout)["command"].startswith("vllm serve ")


def test_targets_list(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "app", "targets", "list", "--json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "QUANTDESK_HOME": str(tmp_path)})
    assert proc.returncode == 0
    names = [t["name"] for t in json.loads(proc.stdout)["targets"]]
    assert names[:3] == ["vllm", "lmdeploy", "transformers"]


def test_hostile_inputs_found_by_qa(tmp_path):
    """Each of these once crashed, passed a check it should not have, or deleted something."""
    # a model folder named like the export's work folder: refused, never deleted
    m = model(tmp_path, AWQ, name="m.partial")
    c = check_export(m, tmp_path / "m", "vllm", {}, detect=lambda: None)
    assert not c.ok and "work folder" in c.errors[0] and (m / "config.json").exists()
    # malformed quantization_config: refused, no traceback
    for q in ({"quant_method": "compressed-tensors", "config_groups": [1]}, {**AWQ, "bits": [4]}):
        c = check(tmp_path / str(len(str(q))), "vllm", q, gpu="4090")
        assert not c.ok
    # rope scaling raises the context limit; the default context follows the model's limit
    yarn = {"rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 2048},
            "max_position_embeddings": 2048}
    assert check(tmp_path / "y", "vllm", AWQ, model_over=yarn, gpu="a100", context=8192).ok
    short = check(tmp_path / "s", "vllm", AWQ, model_over={"max_position_embeddings": 2048}, gpu="a100")
    assert short.ok and short.params["context"] == 2048
    # GPTQ per channel (group_size -1) and AWQ 3-bit
    assert check(tmp_path / "g", "vllm", {"quant_method": "gptq", "bits": 4, "group_size": -1}, gpu="a100").ok
    assert "4-bit AWQ only" in check(tmp_path / "3", "vllm", {**AWQ, "bits": 3}, gpu="a100").errors[0]
    # weights are checked before the job starts
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text(json.dumps(LLAMA))
    assert "no weights" in check_export(bare, tmp_path / "o", "vllm", {}).errors[0]
    (bare / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{")
    assert check_export(bare, tmp_path / "o", "vllm", {}).errors  # a truncated header
    # bounds read as whole numbers
    assert "between 16 and 1048576" in check(tmp_path / "b", "vllm", AWQ, context=8).errors[0]
