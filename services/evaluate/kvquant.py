"""KV-cache quantization, simulated faithfully in transformers.

int8 / int4 follow LMDeploy's quant_policy 8 / 4: asymmetric, per head and per token, with an fp16
scale and zero point for each K and V head of each token. fp8 follows vLLM's kv_cache_dtype
fp8_e4m3 / fp8_e5m2 (per-tensor scale 1.0, vLLM's default without calibrated scales).
`QuantizedKVCache` quantizes what is stored, so every later token attends to the quantized keys and
values, as the engines do; it also covers a single forward pass (perplexity), where the whole window
is stored and then read back. Imports torch: job runner and tests only.
"""
from __future__ import annotations

from services.evaluate.settings import KV_POLICIES
from services.messages import msg


def fake_quant_asym(x, bits: int):
    """Quantize and dequantize along the last dim (head_dim): one scale and zero per (batch, head, token).

    As LMDeploy stores them: scale = (max - min) / (2^bits - 1) and zero = min, both in fp16;
    q = round((x - zero) / scale) in [0, 2^bits - 1]; x' = q * scale + zero.
    """
    import torch

    levels = 2**bits - 1
    xf = x.float()
    mn = xf.amin(dim=-1, keepdim=True)
    mx = xf.amax(dim=-1, keepdim=True)
    scale = ((mx - mn) / levels).clamp(min=1e-6).to(torch.float16).float()
    zero = mn.to(torch.float16).float()
    q = torch.clamp(torch.round((xf - zero) / scale), 0, levels)
    return (q * scale + zero).to(x.dtype)


def fake_quant_fp8(x, fmt: str = "e4m3"):
    import torch

    dtype = {"e4m3": torch.float8_e4m3fn, "e5m2": torch.float8_e5m2}[fmt]
    limit = torch.finfo(dtype).max
    return x.float().clamp(-limit, limit).to(dtype).to(x.dtype)


def fake_quant(x, policy: str):
    """Apply `policy` to a key or value tensor [batch, kv_heads, tokens, head_dim]."""
    if policy == "fp16":
        return x
    if policy == "int8":
        return fake_quant_asym(x, 8)
    if policy == "int4":
        return fake_quant_asym(x, 4)
    if policy in ("fp8", "fp8_e4m3"):
        return fake_quant_fp8(x, "e4m3")
    if policy == "fp8_e5m2":
        return fake_quant_fp8(x, "e5m2")
    raise ValueError(msg("unknown KV policy {policy!r}; choose from {policies}", policy=policy,
                         policies=", ".join(KV_POLICIES)))


def quantized_cache(policy: str, config=None):
    """A transformers DynamicCache that stores keys and values quantized with `policy`."""
    from transformers import DynamicCache

    class QuantizedKVCache(DynamicCache):
        kv_policy = policy

        def update(self, key_states, value_states, layer_idx, *args, **kwargs):
            return super().update(fake_quant(key_states, policy), fake_quant(value_states, policy), layer_idx,
                                  *args, **kwargs)

    return QuantizedKVCache(config=config) if config is not None else QuantizedKVCache()
