"""The AWQ scan and the mixed precision advice on the planted case (tests/integration/test_scan.py plants it):
both methods rank the planted layer first, AWQ's scales lower its loss, and the advice under a small budget keeps
exactly that layer, with the measured perplexity of the model quantized around it much closer to fp."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.integration.test_scan import PLANTED

pytestmark = pytest.mark.slow
BUDGET_MB = 0.03  # the planted o_proj (128 x 128) costs 0.025 MB more in fp16 than at W4 g64


@pytest.fixture(scope="module")
def planted(structured_llama, tmp_path_factory):
    from safetensors.torch import load_file, save_file

    folder = tmp_path_factory.mktemp("planted") / "planted 模型"
    shutil.copytree(structured_llama, folder)
    weights = load_file(str(folder / "model.safetensors"))
    w = weights[f"{PLANTED}.weight"].float()
    w[:, ::64] = 25 * w.abs().max()  # outlier input channels: round-to-nearest crushes the rest of each group
    weights[f"{PLANTED}.weight"] = w.to(weights[f"{PLANTED}.weight"].dtype)
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder


def scan(planted, held_out_file, tmp_path, method):
    env = {**os.environ, "QUANTDESK_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-m", "app", "scan", "--model", str(planted), "--text", str(held_out_file),
                           "--group-size", "64", "--max-tokens", "1024", "--context", "256", "--method", method,
                           "--budget-mb", str(BUDGET_MB), "--json"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_awq_and_rtn_scans_find_the_planted_layer_and_the_advice_keeps_it(planted, held_out_file, tmp_path):
    rtn = scan(planted, held_out_file, tmp_path, "rtn")
    awq = scan(planted, held_out_file, tmp_path, "awq")
    planted_loss = {}
    for r in (rtn, awq):
        top = r["units"][0]
        assert top["name"] == PLANTED, (r["method"], r["units"][:3])
        assert top["kl"] > 3 * r["units"][1]["kl"]
        planted_loss[r["method"]] = top["kl"]
        adv = r["advice"]
        assert adv["keep"] == [PLANTED] and 0 < adv["extra_mb"] <= BUDGET_MB
        base, all_q, kept = r["base_perplexity"], r["all_quantized"]["perplexity"], adv["measured_perplexity"]
        assert kept - base < 0.7 * (all_q - base), (r["method"], base, all_q, kept)  # most of the loss back
        assert adv["measured_kl"] < 0.6 * r["all_quantized"]["kl"]
        assert adv["to_perplexity"] < adv["from_perplexity"]
        print(f"{r['method']}: base {base:.3f}, all W4 g64 {all_q:.3f} (KL {r['all_quantized']['kl']:.4f}); keeping "
              f"{PLANTED}: predicted {adv['to_perplexity']:.3f}, measured {kept:.3f} (KL {adv['measured_kl']:.4f}); "
              f"planted KL {top['kl']:.4f}; scan {r['seconds']} s = {r['cost_ratio']}x one evaluation "
              f"({r['reference_seconds']} s)")
    assert planted_loss["awq"] < 0.9 * planted_loss["rtn"]
    assert awq["all_quantized"]["kl"] < rtn["all_quantized"]["kl"]
    assert awq["calib_tokens"] == 512 and all(0 <= a <= 0.95 for u in awq["units"] for a in u["alpha"])
