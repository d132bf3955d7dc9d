"""The llm-compressor backend through `quantdesk quantize`: every method's checkpoint format, that the
evaluator loads it, quality against round-to-nearest, cancel, and the upstream CPU failure it fixes."""
import io
import json
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def quantize_cli(model, out, calib, *extra, timeout=300):
    """`quantdesk quantize` with small calibration; --group-size only where the method has groups."""
    import subprocess
    import sys

    method = extra[extra.index("--method") + 1] if "--method" in extra else "awq"
    groups = ["--group-size", "64"] if method in ("gptq", "awq") else []
    cmd = [sys.executable, "-m", "app", "quantize", "--model", str(model), "--out", str(out), "--calib", str(calib),
           "--samples", "16", "--seqlen", "128", *groups, "--json", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)

FORMATS = {"gptq": ("pack-quantized", "weight_packed"), "awq": ("pack-quantized", "weight_zero_point"),
           "w8a8": ("int-quantized", "weight_scale"), "fp8-dynamic": ("float-quantized", "weight_scale"),
           "fp8": ("float-quantized", "input_scale")}


@pytest.mark.parametrize("method", list(FORMATS))
def test_each_method_writes_a_compressed_tensors_checkpoint_the_evaluator_loads(method, tiny_llama, calib_file,
                                                                                 tmp_path):
    import torch
    from safetensors import safe_open

    from services.checkpoint import checkpoint_format
    from services.evaluate.models import load_for_eval

    out = tmp_path / f"{method} 输出"
    proc = quantize_cli(tiny_llama, out, calib_file, "--method", method, "--backend", "llmcompressor")
    assert proc.returncode == 0, proc.stderr[-3000:]
    q = json.loads((out / "config.json").read_text(encoding="utf-8"))["quantization_config"]
    fmt, tensor = FORMATS[method]
    assert q["quant_method"] == "compressed-tensors" and q["format"] == fmt and "lm_head" in q["ignore"]
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        names = list(f.keys())
    assert any(n.endswith("self_attn.q_proj." + tensor) for n in names), names[:8]
    record = json.loads((out / "quantdesk.json").read_text(encoding="utf-8"))
    assert record["backend"] == "llmcompressor" and record["format"] == "compressed-tensors"
    assert record["check"]["logits_finite"] is True
    assert (record["calibration"] is None) == (method == "fp8-dynamic")  # dynamic FP8 needs no calibration data
    assert checkpoint_format(out).planner_format == ("awq4" if method in ("gptq", "awq") else
                                                    "int8" if method == "w8a8" else "fp8")
    logits = load_for_eval(out)(torch.tensor([[5, 6, 7, 8]])).logits
    assert torch.isfinite(logits).all()


def test_quality_on_a_structured_model(structured_llama, calib_file, held_out_ids, tmp_path):
    """GPTQ W4 g64 no worse than round-to-nearest W4 g64; W8A8 and FP8 within 2% of the unquantized model."""
    import torch
    from transformers import AutoModelForCausalLM

    from services.evaluate.models import load_for_eval
    from tests.integration.test_quantize import _ppl
    from tests.tinymodels import round_to_nearest

    fp = AutoModelForCausalLM.from_pretrained(str(structured_llama), dtype=torch.float32)
    base = _ppl(fp, held_out_ids)
    rtn = _ppl(round_to_nearest(fp, 64), held_out_ids)
    ppl = {}
    for method in ("gptq", "w8a8", "fp8"):
        out = tmp_path / method
        proc = quantize_cli(structured_llama, out, calib_file, "--method", method, "--samples", "32")
        assert proc.returncode == 0, proc.stderr[-3000:]
        ppl[method] = _ppl(load_for_eval(out), held_out_ids)
    assert ppl["gptq"] <= rtn, (ppl, rtn)
    assert ppl["w8a8"] / base < 1.02 and ppl["fp8"] / base < 1.02, (ppl, base)


def test_cancel_between_layers_leaves_nothing(tiny_llama, calib_file, tmp_path):
    from services.jobs.local import make_manager
    from services.jobs.protocol import Progress
    from services.jobs.spec import JobSpec
    from services.quant.backends.llmcompressor import LlmcSettings

    manager = make_manager()
    s = LlmcSettings(method="gptq", calib=str(calib_file), samples=16, seqlen=128, group_size=64)
    out = tmp_path / "cancelled"
    layers = []
    manager.add_listener(lambda job_id, ev: layers.append(ev) if isinstance(ev, Progress) else None)
    rec = manager.submit(JobSpec(kind="quantize", model=str(tiny_llama), out=str(out), params=s.to_dict()))
    deadline = time.time() + 120
    while not layers and time.time() < deadline:
        time.sleep(0.02)
    t0 = time.monotonic()
    assert manager.cancel(rec.id)
    assert manager.wait(rec.id, 10).status == "cancelled" and time.monotonic() - t0 < 2.0
    assert not out.exists() and not (tmp_path / "cancelled.partial").exists()


def test_upstream_awq_fails_on_the_cpu_without_the_fix(tiny_llama, tmp_path, monkeypatch):
    """llm-compressor's AWQ pins memory, which needs an accelerator. When this fails because the unfixed
    run works, upstream fixed it and cpu_pin_memory_fix can go."""
    import contextlib

    from transformers import AutoTokenizer

    from services.jobs.events import Emitter
    from services.quant.backends import llmcompressor_run
    from services.quant.backends.base import QuantizeInputs
    from services.quant.backends.llmcompressor import LlmcSettings

    tok = AutoTokenizer.from_pretrained(str(tiny_llama))
    samples = [list(range(10 + i, 138 + i)) for i in range(4)]
    s = LlmcSettings(method="awq", samples=4, seqlen=128, group_size=64)
    monkeypatch.setattr(llmcompressor_run, "cpu_pin_memory_fix", lambda enabled=True: contextlib.nullcontext())
    with pytest.raises(RuntimeError, match="accelerator"):
        llmcompressor_run.quantize(QuantizeInputs(tiny_llama, tmp_path / "a", s, tok, samples, "cpu"),
                                   Emitter(io.StringIO()))
    monkeypatch.undo()
    llmcompressor_run.quantize(QuantizeInputs(tiny_llama, tmp_path / "b", s, tok, samples, "cpu"),
                               Emitter(io.StringIO()))
    assert (tmp_path / "b" / "model.safetensors").exists()


def test_compare_quantizes_with_each_method_and_scores_them_side_by_side(tiny_llama, calib_file, held_out_file,
                                                                          tmp_path):
    import os
    import subprocess
    import sys

    def compare(*extra):
        return subprocess.run([sys.executable, "-m", "app", "compare", "--model", str(tiny_llama), "--out-dir",
                               str(tmp_path / "比较 out"), "--calib", str(calib_file), "--text", str(held_out_file),
                               "--samples", "8", "--seqlen", "64", "--group-size", "64", "--context", "64",
                               "--max-tokens", "512", "--no-answers", *extra], cwd=ROOT, capture_output=True,
                              text=True, timeout=600, env={**os.environ, "QUANTDESK_HOME": str(tmp_path / "home")})

    assert compare("--methods", "gptq,nonsense").returncode == 2
    missing = subprocess.run([sys.executable, "-m", "app", "compare", "--model", str(tiny_llama), "--out-dir",
                              str(tmp_path / "m"), "--text", str(tmp_path / "nope.txt"), "--methods", "gptq"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "QUANTDESK_HOME": str(tmp_path / "home")})
    assert missing.returncode == 2 and "does not exist" in missing.stderr and not (tmp_path / "m").exists()
    proc = compare("--methods", "gptq,fp8-dynamic", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(proc.stdout)["rows"]
    assert [r["method"] for r in rows] == ["source", "gptq g64", "fp8-dynamic"]
    assert all(r["perplexity"] > 1 for r in rows) and rows[1]["output_bytes"] > 0


def test_keep_leaves_those_layers_in_full_precision(tiny_llama, calib_file, tmp_path):
    from safetensors import safe_open

    out = tmp_path / "kept"
    proc = quantize_cli(tiny_llama, out, calib_file, "--method", "gptq", "--keep", "mlp.down_proj")
    assert proc.returncode == 0, proc.stderr[-3000:]
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        names = set(f.keys())
    assert "model.layers.0.mlp.down_proj.weight" in names and "model.layers.0.mlp.up_proj.weight_packed" in names
