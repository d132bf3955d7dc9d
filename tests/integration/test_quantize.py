"""AWQ through `quantdesk quantize` on tiny models built here: format, files, record, quality, cancel."""
import json
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def quantize_cli(model, out, calib, *extra, timeout=300):
    cmd = [sys.executable, "-m", "app", "quantize", "--model", str(model), "--out", str(out), "--calib", str(calib),
           "--samples", "16", "--seqlen", "128", "--group-size", "64", "--json", *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def check_awq_folder(out, cfg_in):
    from safetensors import safe_open

    cfg = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert cfg["quantization_config"] == {"quant_method": "awq", "bits": 4, "group_size": 64, "zero_point": True,
                                          "version": "gemm", "modules_to_not_convert": None}
    assert cfg["use_cache"] is True  # AutoAWQ saves use_cache=False; generation would recompute everything
    h, inter = cfg_in["hidden_size"], cfg_in["intermediate_size"]
    kv = cfg_in["num_key_value_heads"] * (h // cfg_in["num_attention_heads"])
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    p = "model.layers.0."
    assert shapes[p + "self_attn.q_proj.qweight"] == (h, h // 8)
    assert shapes[p + "self_attn.k_proj.qweight"] == (h, kv // 8)
    assert shapes[p + "self_attn.k_proj.qzeros"] == (h // 64, kv // 8)
    assert shapes[p + "self_attn.k_proj.scales"] == (h // 64, kv)
    assert shapes[p + "mlp.down_proj.qweight"] == (inter, h // 8)
    assert shapes[p + "mlp.down_proj.scales"] == (inter // 64, h)
    assert not any(k.endswith("proj.weight") for k in shapes)  # every decoder linear was quantized
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"):
        assert (out / name).is_file(), name
    rec = json.loads((out / "quantdesk.json").read_text(encoding="utf-8"))
    for key in ("source_sha256", "settings", "calibration", "versions", "duration_s", "input_bytes", "output_bytes"):
        assert rec[key], key
    assert len(rec["source_sha256"]) == 64 and rec["versions"]["autoawq"] == "0.2.9"
    assert rec["calibration"]["samples"] == 16 and len(rec["calibration"]["token_hash"]) == 64
    assert rec["check"]["logits_finite"] is True
    return rec


@pytest.mark.parametrize("fixture", ["tiny_llama", "tiny_qwen2"])
def test_quantize_tiny_models_through_the_cli(request, fixture, calib_file, tmp_path):
    model = request.getfixturevalue(fixture)
    out = tmp_path / "量化 输出" / fixture
    proc = quantize_cli(model, out, calib_file)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["status"] == "succeeded" and doc["summary"]["out"] == str(out)
    assert "quantizing: layer 1/2" in proc.stderr and "ETA" in proc.stderr  # per-layer progress
    rec = check_awq_folder(out, json.loads((model / "config.json").read_text()))
    assert rec["output_bytes"] < rec["input_bytes"]
    assert not (out.parent / (out.name + ".partial")).exists()

    import torch

    from services.quant.awq_loader import load_awq_model

    m = load_awq_model(out)
    logits = m(torch.tensor([[5, 6, 7, 8]])).logits
    assert logits.shape == (1, 4, m.config.vocab_size) and torch.isfinite(logits).all()


def _ppl(model, ids):
    from services.evaluate.perplexity import perplexity

    return perplexity(model, ids, context=256).perplexity


def test_awq_keeps_the_quality_of_a_structured_model(structured_llama, structured_awq, held_out_ids):
    import torch
    from transformers import AutoModelForCausalLM

    from services.quant.awq_loader import load_awq_model

    fp = _ppl(AutoModelForCausalLM.from_pretrained(str(structured_llama), dtype=torch.float32), held_out_ids)
    q = _ppl(load_awq_model(structured_awq), held_out_ids)
    assert fp < 120  # the model learned something (random weights give ~500)
    assert q / fp < 1.05, (fp, q)  # AutoAWQ's CPU bug alone multiplies it ~6x on this model


def test_upstream_cpu_bug_is_real_and_the_fix_is_what_prevents_it(structured_llama, held_out_ids, tmp_path):
    """Quantize the same model with and without cpu_state_copy_fix: only the fix keeps it usable.
    When this fails because the unfixed run is fine, AutoAWQ fixed the bug and the patch can go."""
    import io

    from transformers import AutoTokenizer

    from services.jobs.events import Emitter
    from services.quant.awq_loader import load_awq_model
    from services.quant.backends import autoawq_patches as awq_backend
    from tests.tinymodels import split_corpus

    tok = AutoTokenizer.from_pretrained(str(structured_llama))
    train, _ = split_corpus(structured_llama)
    samples = [train[i * 128:(i + 1) * 128] for i in range(32)]
    ppl = {}
    for fix in (True, False):
        model = awq_backend.load_for_quantization(str(structured_llama), "float16", False)
        awq_backend.quantize(model, tok, {"zero_point": True, "q_group_size": 64, "w_bit": 4, "version": "GEMM"},
                             samples, 128, Emitter(io.StringIO()), fix_cpu=fix)
        model.save_quantized(str(tmp_path / str(fix)))
        ppl[fix] = _ppl(load_awq_model(tmp_path / str(fix)), held_out_ids)
    assert ppl[False] > 2.5 * ppl[True], ppl


def test_cancel_mid_run_leaves_nothing(tiny_llama, calib_file, tmp_path):
    import psutil

    from services.jobs.local import make_manager
    from services.jobs.protocol import Stage
    from services.jobs.spec import JobSpec
    from services.quant.backends.autoawq import AwqSettings

    manager = make_manager()
    s = AwqSettings(calib=str(calib_file), samples=16, seqlen=128, group_size=64)
    out = tmp_path / "cancelled"
    spec = JobSpec(kind="quantize", model=str(tiny_llama), out=str(out), params=s.to_dict())
    stages = []
    manager.add_listener(lambda job_id, ev: stages.append(ev.name) if isinstance(ev, Stage) else None)
    rec = manager.submit(spec)
    deadline = time.time() + 120
    while "load" not in stages and time.time() < deadline:
        time.sleep(0.05)
    assert "load" in stages
    pid = manager.store.get(rec.id).pid
    t0 = time.monotonic()
    assert manager.cancel(rec.id)
    final = manager.wait(rec.id, timeout=10)
    elapsed = time.monotonic() - t0
    assert final.status == "cancelled" and elapsed < 2.0, elapsed
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not out.exists() and not (tmp_path / "cancelled.partial").exists()


def test_gemv_layout_quantizes_and_says_what_it_could_not_check(tiny_llama, calib_file, tmp_path):
    out = tmp_path / "gemv"
    proc = quantize_cli(tiny_llama, out, calib_file, "--version", "gemv", "--samples", "8")
    assert proc.returncode == 0, proc.stderr[-2000:]
    cfg = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert cfg["quantization_config"]["version"] == "gemv"
    check = json.loads((out / "quantdesk.json").read_text(encoding="utf-8"))["check"]
    assert check["logits_finite"] is None and "CUDA kernels" in check["skipped"]
