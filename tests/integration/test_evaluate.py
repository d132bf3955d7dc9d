"""`quantdesk eval` on tiny models: an AWQ checkpoint on the CPU, KV policies, answers, refusals."""
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def eval_cli(home, *args, timeout=300):
    import os

    return subprocess.run([sys.executable, "-m", "app", "eval", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "QUANTDESK_HOME": str(home)})


def test_eval_an_awq_checkpoint_against_its_source(structured_llama, structured_awq, held_out_file, tmp_path):
    proc = eval_cli(tmp_path, "--model", str(structured_awq), "--baseline", str(structured_llama),
                    "--kv", "fp16,int8,int4,fp8", "--text", str(held_out_file), "--max-tokens", "2048",
                    "--context", "256", "--max-new-tokens", "8", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    names = [v["name"] for v in doc["variants"]]
    assert names == ["llama (baseline)", "awq · KV fp16", "awq · KV int8", "awq · KV int4", "awq · KV fp8"]
    for v in doc["variants"]:
        assert set(v) >= {"name", "model", "kv", "perplexity", "tokens", "seconds", "delta_pct", "agreement"}
        assert v["tokens"] == doc["variants"][0]["tokens"] > 1000  # the same tokens for every variant
    base, awq, int8, int4 = (doc["variants"][i] for i in (0, 1, 2, 3))
    assert base["delta_pct"] is None and base["agreement"] == 1.0
    assert 0 <= awq["delta_pct"] < 5  # AWQ W4 on this model costs well under 5%
    assert abs(int8["delta_pct"] - awq["delta_pct"]) < 0.5  # int8 KV is nearly free
    assert len(doc["answers"]) == 10 and any("量化" in a["prompt"] for a in doc["answers"])
    first = doc["answers"][0]["outputs"]
    assert first["llama (baseline)"]["first_divergence"] is None


def test_mismatched_tokenizers_are_refused(structured_llama, tmp_path):
    from tests.tinymodels import build_model, build_tokenizer

    other_tok = build_tokenizer(tmp_path / "tok", vocab_size=400)
    other = build_model(tmp_path / "other", other_tok, "llama", dtype="float16", hidden=128, intermediate=256,
                        heads=4, kv_heads=2, layers=2)
    text = tmp_path / "t.txt"
    text.write_text("Return the number of items.\n\n" * 50, encoding="utf-8")
    proc = eval_cli(tmp_path, "--model", str(other), "--baseline", str(structured_llama), "--text", str(text),
                    "--no-answers")
    assert proc.returncode == 2  # bad input found inside the job
    assert "different tokenizers" in proc.stderr


def test_bad_arguments_exit_2(tmp_path):
    proc = eval_cli(tmp_path, "--model", str(tmp_path), "--text", "x", "--kv", "int2")
    assert proc.returncode == 2 and "unknown KV policy 'int2'" in proc.stderr
    proc = eval_cli(tmp_path, "--model", "no-such-job", "--text", "x")
    assert proc.returncode == 2 and "neither a model folder nor a job id" in proc.stderr
