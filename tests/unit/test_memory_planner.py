import json

import pytest

from services.memory import kv_bytes_per_token, make_plan, weight_bytes
from services.memory.planner import GIB, PlanRequest, kv_curve
from services.modelinfo import ModelConfigError, read_model_shape, shape_from_config
from tests.modelcfg import GQA_8B, LLAMA2_7B, QWEN2_05B, write_config


def test_parameter_counts_match_the_published_models():
    assert shape_from_config(LLAMA2_7B).parameter_count() == 6_738_415_616
    assert shape_from_config(QWEN2_05B).parameter_count() == 494_032_768  # tied embeddings, qkv bias


def test_kv_bytes_per_token_hand_computed():
    gqa = shape_from_config(GQA_8B)
    assert kv_bytes_per_token(gqa, "fp16") == 131_072
    assert kv_bytes_per_token(gqa, "int8") == 67_584
    assert kv_bytes_per_token(gqa, "int4") == 34_816
    assert kv_bytes_per_token(gqa, "fp8") == 65_536
    assert kv_bytes_per_token(shape_from_config(LLAMA2_7B), "fp16") == 524_288  # MHA, 4x GQA's
    qwen = shape_from_config(QWEN2_05B)  # 24 layers, 2 KV heads, head dim 64
    assert kv_bytes_per_token(qwen, "fp16") == 2 * 24 * 2 * 64 * 2


def test_head_dim_from_config_wins():
    cfg = {**QWEN2_05B, "head_dim": 128}
    assert shape_from_config(cfg).head_dim == 128
    assert kv_bytes_per_token(shape_from_config(cfg), "fp16") == 2 * 24 * 2 * 128 * 2


def test_weight_bytes_fp16_and_awq():
    s = shape_from_config(LLAMA2_7B)
    assert weight_bytes(s, "fp16")["total"] == 6_738_415_616 * 2
    awq = weight_bytes(s, "awq4", 128)
    # per layer, g128: q/k/v/o 4096->4096 are 8,388,608 + 65,536 + 262,144 bytes each (qweight, qzeros,
    # scales); gate/up 4096->11008 and down 11008->4096 (86 groups) are 23,425,024 each
    assert awq["linear"] == 32 * (4 * 8_716_288 + 3 * 23_425_024)
    assert awq["embeddings"] == 2 * 32000 * 4096 * 2  # embed_tokens and lm_head stay fp16
    assert 3.5e9 < awq["total"] < 4.0e9  # "a 7B model goes to ~3.5-4.9 GB"
    tied = weight_bytes(shape_from_config(QWEN2_05B), "fp16")
    assert tied["embeddings"] == 151936 * 896 * 2  # counted once


def test_smaller_groups_cost_more():
    s = shape_from_config(LLAMA2_7B)
    assert weight_bytes(s, "awq4", 32)["total"] > weight_bytes(s, "awq4", 64)["total"] > weight_bytes(s, "awq4", 128)["total"]


def test_vllm_rule_uses_total_memory():
    s = shape_from_config(GQA_8B)
    p = make_plan(s, PlanRequest(weights="bf16", engine="vllm", gpu_mem_gib=24, utilization=0.9, other_gib=1.0))
    expected = int(24 * GIB * 0.9) - p.weight_bytes - p.activation_bytes - int(1.0 * GIB)
    assert p.kv_budget_bytes == expected
    assert p.block_tokens == 16
    assert p.max_tokens == (expected // (16 * 131_072)) * 16
    assert p.max_sequences_at_context == p.blocks // (4096 // 16)
    assert "gpu_memory_utilization 0.9" in p.rule and "total" in p.rule
    assert p.fits


def test_lmdeploy_rule_uses_free_memory_after_weights():
    s = shape_from_config(QWEN2_05B)
    p = make_plan(s, PlanRequest(weights="bf16", engine="lmdeploy", gpu_mem_gib=24,
                                 cache_max_entry_count=0.8, other_gib=0))
    assert p.kv_budget_bytes == int((24 * GIB - p.weight_bytes) * 0.8)
    assert p.block_tokens == 64 and p.max_tokens % 64 == 0
    assert "free memory" in p.rule


def test_lmdeploy_kv_quantization_alone_keeps_the_budget():
    s = shape_from_config(GQA_8B)
    fp16 = make_plan(s, PlanRequest(engine="lmdeploy", kv="fp16", gpu_mem_gib=24))
    int8 = make_plan(s, PlanRequest(engine="lmdeploy", kv="int8", gpu_mem_gib=24))
    assert int8.kv_budget_bytes == fp16.kv_budget_bytes
    assert int8.max_tokens > 1.9 * fp16.max_tokens
    assert any("does not lower LMDeploy's memory use" in a for a in int8.assumptions)


def test_lmdeploy_count_of_blocks():
    s = shape_from_config(GQA_8B)
    p = make_plan(s, PlanRequest(engine="lmdeploy", cache_max_entry_count=100, gpu_mem_gib=24))
    assert p.blocks == 100 and p.max_tokens == 6400 and p.kv_budget_bytes == 6400 * 131_072


def test_awq_weights_free_room_for_more_sequences():
    s = shape_from_config(LLAMA2_7B)
    fp16 = make_plan(s, PlanRequest(weights="fp16", gpu_mem_gib=24))
    awq = make_plan(s, PlanRequest(weights="awq4", gpu_mem_gib=24))
    assert awq.weight_bytes < fp16.weight_bytes / 3
    assert awq.max_sequences_at_context > fp16.max_sequences_at_context


def test_tensor_parallel_splits_weights_and_kv_heads():
    s = shape_from_config(GQA_8B)
    one = make_plan(s, PlanRequest(gpu_mem_gib=24, tp=1))
    two = make_plan(s, PlanRequest(gpu_mem_gib=24, tp=2))
    assert two.weight_bytes_per_gpu == -(-one.weight_bytes // 2)
    assert two.kv_bytes_per_token == one.kv_bytes_per_token // 2
    assert any("tensor parallel 2" in a for a in two.assumptions)


def test_tensor_parallel_must_divide_the_heads(tmp_path, capsys):
    from app.cli import main

    s = shape_from_config({**GQA_8B, "num_key_value_heads": 4})
    with pytest.raises(ValueError, match=r"does not divide the 32 attention heads and the 4 KV heads; use --tp 1, 2, 4"):
        make_plan(s, PlanRequest(gpu_mem_gib=24, tp=3))
    # AWQ: intermediate_size / tp must be a whole number of groups (14336 / 8 = 1792 = 14 x 128)
    assert make_plan(s, PlanRequest(weights="awq4", gpu_mem_gib=24, tp=4)).tp == 4
    odd = shape_from_config({**GQA_8B, "intermediate_size": 11008 + 128})  # / 2 = 5568 = 43.5 x 128
    with pytest.raises(ValueError, match="intermediate_size 11136 / tp into groups of 128"):
        make_plan(odd, PlanRequest(weights="awq4", gpu_mem_gib=24, tp=2))
    folder = write_config(tmp_path / "m", {**GQA_8B, "num_key_value_heads": 4})
    assert main(["plan", "--model", str(folder), "--gpu-mem", "24", "--tp", "3"]) == 2
    assert "use --tp 1, 2, 4" in capsys.readouterr().err


def test_a_float32_checkpoint_is_planned_as_float32():
    s = shape_from_config({**QWEN2_05B, "torch_dtype": "float32"})
    p = make_plan(s, PlanRequest(gpu_mem_gib=24))
    assert p.weights_format == "fp32" and p.weight_bytes == 2 * make_plan(s, PlanRequest(weights="fp16",
                                                                                           gpu_mem_gib=24)).weight_bytes


def test_a_model_that_does_not_fit_says_so():
    s = shape_from_config(LLAMA2_7B)
    p = make_plan(s, PlanRequest(weights="fp16", gpu_mem_gib=11))  # 2080 Ti
    assert not p.fits and p.max_tokens == 0
    assert any("does not fit" in w for w in p.warnings)


def test_weights_format_is_read_from_quantization_config():
    cfg = {**LLAMA2_7B, "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 64,
                                                 "zero_point": True, "version": "gemm"}}
    p = make_plan(shape_from_config(cfg), PlanRequest())
    assert p.weights_format == "awq4"
    assert p.weight_bytes == weight_bytes(shape_from_config(cfg), "awq4", 64)["total"]


def test_bad_settings_name_what_to_change():
    s = shape_from_config(LLAMA2_7B)
    with pytest.raises(ValueError, match="--utilization"):
        make_plan(s, PlanRequest(utilization=1.5))
    with pytest.raises(ValueError, match="unknown engine"):
        make_plan(s, PlanRequest(engine="tgi"))
    with pytest.raises(ValueError, match="choose one of"):
        kv_bytes_per_token(s, "int2")


def test_engine_policy_mismatch_is_warned():
    s = shape_from_config(GQA_8B)
    assert any("no int8/int4 KV" in w for w in make_plan(s, PlanRequest(engine="vllm", kv="int4")).warnings)
    assert any("no fp8 KV" in w for w in make_plan(s, PlanRequest(engine="lmdeploy", kv="fp8")).warnings)


def test_kv_curve_is_linear_in_context():
    s = shape_from_config(GQA_8B)
    curve = kv_curve(s, [1024, 2048], sequences=2)
    assert curve["fp16"] == [131_072 * 1024 * 2, 131_072 * 2048 * 2]
    assert curve["int4"][0] < curve["int8"][0] < curve["fp16"][0]


def test_config_errors(tmp_path):
    with pytest.raises(ModelConfigError, match="not found"):
        read_model_shape(tmp_path / "missing")
    with pytest.raises(ModelConfigError, match="no config.json"):
        read_model_shape(tmp_path)
    (tmp_path / "config.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(ModelConfigError, match="not valid JSON"):
        read_model_shape(tmp_path)
    write_config(tmp_path, {"model_type": "bert"})
    with pytest.raises(ModelConfigError, match="lacks num_hidden_layers"):
        read_model_shape(tmp_path)
    write_config(tmp_path, {**LLAMA2_7B, "num_local_experts": 8})
    with pytest.raises(ModelConfigError, match="mixture-of-experts"):
        read_model_shape(tmp_path)


def test_cli_plan_json(tmp_path, capsys):
    from app.cli import main

    folder = write_config(tmp_path / "Llama 模型", GQA_8B)
    assert main(["plan", "--model", str(folder), "--kv", "int8", "--engine", "lmdeploy",
                 "--gpu-mem", "24", "--context", "8192", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kv_bytes_per_token"] == 67_584
    for key in ("weight_bytes", "kv_budget_bytes", "max_tokens", "max_sequences_at_context", "assumptions"):
        assert key in doc


def test_cli_plan_text_and_errors(tmp_path, capsys):
    from app.cli import main

    folder = write_config(tmp_path / "m", LLAMA2_7B)
    assert main(["plan", "--model", str(folder), "--gpu-mem", "24"]) == 0
    out = capsys.readouterr().out
    assert "Tokens that fit" in out and "vLLM" in out
    assert main(["plan", "--model", str(tmp_path / "nope"), "--gpu-mem", "24"]) == 2
    assert "model folder not found" in capsys.readouterr().err
    assert main(["plan", "--model", str(folder), "--gpu-mem", "24", "--utilization", "2"]) == 2
    assert "--utilization" in capsys.readouterr().err


def test_layers_a_checkpoint_keeps_unquantized_count_at_fp16():
    ct = {"quant_method": "compressed-tensors", "format": "pack-quantized",
          "config_groups": {"group_0": {"weights": {"num_bits": 4, "group_size": 128}}}}
    plain = make_plan(shape_from_config({**LLAMA2_7B, "quantization_config": ct}), PlanRequest(gpu_mem_gib=24))
    kept = make_plan(shape_from_config({**LLAMA2_7B, "quantization_config": {**ct, "ignore": [
        "lm_head", r"re:.*mlp\.down_proj.*"]}}), PlanRequest(gpu_mem_gib=24))
    down = 32 * 4096 * 11008  # down_proj weights of Llama-2-7B
    assert plain.weights_format == "awq4" and kept.weight_bytes - plain.weight_bytes > down * 2 - down // 2 - down // 16
    assert any("kept in fp16" in a for a in kept.assumptions)
