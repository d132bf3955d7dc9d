"""Simulated W4A16 / W4A8 / W4A8KV4 on the structured tiny Llama: the order of their perplexities, and
`quantdesk eval --precision` scoring them on the baseline's tokens with answers compared to fp16 and W4A16."""
import json

import pytest

from tests.integration.test_evaluate import eval_cli

pytestmark = pytest.mark.slow


def test_perplexity_grows_fp16_w4a16_w4a8_w4a8kv4(structured_llama, held_out_ids):
    import torch
    from transformers import AutoModelForCausalLM

    from services.evaluate.fakequant import quantize_inputs, simulated_copy
    from services.evaluate.perplexity import perplexity
    from services.evaluate.precision import PRECISIONS

    model = AutoModelForCausalLM.from_pretrained(str(structured_llama), dtype=torch.float32).eval()
    ids = held_out_ids[:2048]
    ppl = {}
    for group in (128, -1):
        for name in ("fp16", "w4a16", "w4a8", "w4a8kv4"):
            p = PRECISIONS[name]
            sim = simulated_copy(model, p, group) if p.weight_bits else model
            hooks = quantize_inputs(sim, p.act_bits) if p.act_bits else []
            ppl[name, group] = perplexity(sim, ids, 256, kv=p.kv).perplexity
            for h in hooks:
                h.remove()
        order = [ppl[n, group] for n in ("fp16", "w4a16", "w4a8", "w4a8kv4")]
        assert order == sorted(order), ppl  # no tolerance: each step adds error on this model
        assert order[-1] < 1.15 * order[0], ppl  # and none of it is a bug-sized jump
    print({f"{n} g{g}": round(v, 3) for (n, g), v in ppl.items()})


def test_eval_cli_scores_precisions_on_the_same_tokens(structured_llama, held_out_file, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Return the number of items.\nWhat does the parser do?\n", encoding="utf-8")
    proc = eval_cli(tmp_path, "--model", str(structured_llama), "--precision", "w4a16,w4a8,w4a8kv4,w8a8",
                    "--group-size", "128", "--text", str(held_out_file), "--max-tokens", "2048", "--context", "256",
                    "--prompts", str(prompts), "--max-new-tokens", "6", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    names = [v["name"] for v in doc["variants"]]
    assert names == ["llama · KV fp16 (baseline)", "llama · W4A16 g128", "llama · W4A8 g128",
                     "llama · W4A8KV4 g128", "llama · W8A8 per-channel"]
    base, w4a16, w4a8, kv4, w8a8 = doc["variants"]
    assert {v["tokens"] for v in doc["variants"]} == {base["tokens"]} and base["tokens"] > 1000
    assert (kv4["precision"], kv4["group_size"], kv4["kv"]) == ("w4a8kv4", 128, "int4")
    assert base["perplexity"] <= w4a16["perplexity"] <= w4a8["perplexity"] <= kv4["perplexity"]
    assert 0 <= w4a8["delta_w4a16_pct"] <= kv4["delta_w4a16_pct"] and "delta_w4a16_pct" not in w4a16
    assert w8a8["delta_pct"] < w4a16["delta_pct"]  # 8-bit weights cost less than 4-bit ones
    for v in (w4a8, kv4, w8a8):
        assert 0 <= v["agreement"] <= 1 and 0 <= v["agreement_w4a16"] <= 1
    assert set(doc["answers"][0]["outputs"]) == set(names)
