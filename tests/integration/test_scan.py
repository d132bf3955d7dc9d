"""The sensitivity scan on the structured tiny model: the cached-activation shortcut changes nothing,
a planted sensitive layer is found first, and keeping it in fp16 buys most of the loss back."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
PLANTED = "model.layers.1.self_attn.o_proj"


def test_starting_from_cached_block_inputs_changes_nothing(structured_llama, held_out_ids):
    import torch
    from transformers import AutoModelForCausalLM

    from services.insight.scan import _Runner

    model = AutoModelForCausalLM.from_pretrained(str(structured_llama), dtype=torch.float32).eval()
    ids = held_out_ids[:512]
    run = _Runner(model, [ids[i:i + 128] for i in range(0, 512, 128)], "cpu")
    run.reference()
    base = run.score(0)
    for b in range(1, len(model.model.layers)):
        ppl, kl = run.score(b)
        assert abs(ppl - base[0]) / base[0] < 1e-5 and abs(kl) < 1e-6
    for blk in model.model.layers:  # the blocks' own forward is back
        assert "forward" not in vars(blk)


def test_a_planted_sensitive_layer_ranks_first_and_keeping_it_recovers_the_loss(structured_llama, held_out_file,
                                                                                tmp_path):
    from safetensors.torch import load_file, save_file

    planted = tmp_path / "planted 模型"
    shutil.copytree(structured_llama, planted)
    weights = load_file(str(planted / "model.safetensors"))
    w = weights[f"{PLANTED}.weight"].float()
    w[:, ::64] = 25 * w.abs().max()  # one huge weight in every group of 64: round-to-nearest crushes the rest
    weights[f"{PLANTED}.weight"] = w.to(weights[f"{PLANTED}.weight"].dtype)
    save_file(weights, str(planted / "model.safetensors"), metadata={"format": "pt"})

    env = {**os.environ, "QUANTDESK_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-m", "app", "scan", "--model", str(planted), "--text", str(held_out_file),
                           "--group-size", "64", "--max-tokens", "1024", "--context", "256", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(proc.stdout)
    top = r["units"][0]
    assert top["name"] == PLANTED and top["type"] == "o_proj"
    assert top["kl"] > 5 * r["units"][1]["kl"]
    base, all_q = r["base_perplexity"], r["all_quantized"]["perplexity"]
    keep = r["keep_most_sensitive"]
    assert keep["name"] == PLANTED
    recovered = (all_q - keep["perplexity"]) / (all_q - base)
    assert recovered > 0.5, (base, all_q, keep["perplexity"])  # measured 61%
    assert r["by_type"][0]["type"] == "o_proj"
    assert sum(u["params"] for u in r["units"]) > 0 and all(u["quantized_bytes"] < u["fp16_bytes"]
                                                            for u in r["units"])
    print(f"scan: base {base:.3f}, all W4 g64 {all_q:.3f}, keeping {PLANTED} {keep['perplexity']:.3f} "
          f"({recovered:.0%} of the loss back), {r['seconds']} s for {len(r['units'])} layers")
    refused = subprocess.run([sys.executable, "-m", "app", "scan", "--model", str(planted), "--text",
                              str(held_out_file), "--method", "awq", "--calib-tokens", "8"], cwd=ROOT,
                             capture_output=True, text=True, timeout=120, env=env)
    assert refused.returncode == 2 and "--calib-tokens must be between 64" in refused.stderr
    bad_group = subprocess.run([sys.executable, "-m", "app", "scan", "--model", str(planted), "--text",
                                str(held_out_file), "--group-size", "100"], cwd=ROOT, capture_output=True,
                               text=True, timeout=120, env=env)
    assert bad_group.returncode == 2 and "does not divide" in bad_group.stderr
