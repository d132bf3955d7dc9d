"""The planner's figures against what transformers and AutoAWQ really allocate and write."""
import pytest

from services.memory import kv_bytes_per_token, weight_bytes
from services.modelinfo import read_model_shape

pytestmark = pytest.mark.slow


def test_kv_bytes_per_token_equal_a_real_transformers_cache(tiny_llama):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama), dtype=torch.bfloat16)
    tokens = 37
    ids = torch.arange(3, 3 + tokens).unsqueeze(0)
    with torch.no_grad():
        cache = model(ids, use_cache=True).past_key_values
    allocated = sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers)
    assert allocated / tokens == kv_bytes_per_token(read_model_shape(tiny_llama), "fp16")


def test_awq_weight_bytes_within_1pct_of_an_autoawq_checkpoint(tiny_llama, tmp_path):
    from awq import AutoAWQForCausalLM
    from safetensors import safe_open
    from transformers import AutoTokenizer

    from tests.tinymodels import stdlib_docstrings

    model = AutoAWQForCausalLM.from_pretrained(str(tiny_llama), device_map={"": "cpu"})
    tok = AutoTokenizer.from_pretrained(str(tiny_llama))
    model.quantize(tok, quant_config={"zero_point": True, "q_group_size": 64, "w_bit": 4, "version": "GEMM"},
                   calib_data=stdlib_docstrings()[:32], max_calib_samples=8, max_calib_seq_len=64)
    model.save_quantized(str(tmp_path))
    real_total = real_linear = 0
    with safe_open(str(tmp_path / "model.safetensors"), "pt") as f:
        for name in f.keys():
            t = f.get_tensor(name)
            real_total += t.numel() * t.element_size()
            if name.endswith(("qweight", "qzeros", "scales")):
                real_linear += t.numel() * t.element_size()
    planned = weight_bytes(read_model_shape(tmp_path), "awq4", 64)
    assert planned["linear"] == real_linear
    assert abs(planned["total"] - real_total) / real_total < 0.01
