"""The planner's W4A8 / W8A8 weights (QServe's layouts) and int4/int8 KV, hand-computed, on the command line too."""
import json

import pytest

from services.memory import make_plan, weight_bytes
from services.memory.planner import PlanRequest
from services.modelinfo import shape_from_config
from tests.modelcfg import GQA_8B, LLAMA2_7B, write_config


def test_w4a8_bytes_per_channel_and_per_group():
    s = shape_from_config(LLAMA2_7B)
    # per channel: 4-bit weights + fp16 scale and fp16 scaled zero per output channel.
    # q/k/v/o 4096->4096: 8,388,608 + 16,384; gate/up 4096->11008: 22,544,384 + 44,032; down: 22,544,384 + 16,384
    assert weight_bytes(s, "w4a8", -1)["linear"] == 32 * (4 * 8_404_992 + 2 * 22_588_416 + 22_560_768)
    # g128: + an int8 scale and int8 zero per group, an fp16 scale per channel: q/k/v/o 8,388,608 + 262,144 + 8,192;
    # gate/up 22,544,384 + 704,512 + 22,016; down (86 groups) 22,544,384 + 704,512 + 8,192
    assert weight_bytes(s, "w4a8", 128)["linear"] == 32 * (4 * 8_658_944 + 2 * 23_270_912 + 23_257_088)
    assert weight_bytes(s, "w4a8", 128)["total"] < weight_bytes(s, "awq4", 128)["total"]  # int8 vs fp16 group scales
    assert weight_bytes(s, "w8a8")["total"] == weight_bytes(s, "int8")["total"]
    assert weight_bytes(s, "w4a8", -1)["embeddings"] == weight_bytes(s, "fp16")["embeddings"]  # stay fp16


def test_plan_says_what_it_assumed_for_w4a8_and_int4_kv():
    s = shape_from_config(GQA_8B)
    p = make_plan(s, PlanRequest(weights="w4a8", group_size=-1, kv="int4", engine="lmdeploy", gpu_mem_gib=48))
    assert (p.weights_format, p.group_size, p.kv_policy, p.kv_bytes_per_token) == ("w4a8", -1, "int4", 34_816)
    assert p.fits and p.weight_bytes == weight_bytes(s, "w4a8", -1)["total"]
    assert any("QServe stores them" in a and "per-channel" in a for a in p.assumptions)
    assert any(a.startswith("KV int4: 4-bit keys and values") for a in p.assumptions)
    assert any("LMDeploy does not run QServe's W4A8" in w for w in p.warnings)
    p8 = make_plan(s, PlanRequest(weights="w8a8", kv="int8", engine="vllm", gpu_mem_gib=48))
    assert p8.group_size is None and any(a.startswith("w8a8 weights: int8") for a in p8.assumptions)
    with pytest.raises(ValueError, match="-1 for one scale per output channel"):
        make_plan(s, PlanRequest(weights="w4a8", group_size=0))
    with pytest.raises(ValueError, match="unknown weight format 'w4a4'"):
        make_plan(s, PlanRequest(weights="w4a4"))


def test_cli_plan_w4a8_int4(tmp_path, capsys):
    from app.cli import main

    folder = write_config(tmp_path / "Llama 模型", GQA_8B)
    assert main(["plan", "--model", str(folder), "--weights", "w4a8", "--kv", "int4", "--gpu-mem", "24",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["weights_format"], doc["group_size"], doc["kv_policy"]) == ("w4a8", 128, "int4")
    assert any("int8 scale and zero point per group of 128" in a for a in doc["assumptions"])
    assert main(["plan", "--model", str(folder), "--weights", "w4a8", "--group-size", "-1", "--gpu-mem", "24"]) == 0
    assert "Weights (w4a8 per-channel)" in capsys.readouterr().out
    assert main(["plan", "--model", str(folder), "--weights", "w4a8", "--group-size", "0", "--gpu-mem", "24"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "-1 for one scale per output channel" in err
