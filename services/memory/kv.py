"""KV-cache bytes per token for each cache policy.

fp16: 2 (K and V) x layers x kv_heads x head_dim x 2 bytes.
int8/int4 (LMDeploy quant_policy 8/4): asymmetric per head per token, with an fp16 scale and zero
point for each K and V head of each token: 2 x layers x kv_heads x (head_dim x bits/8 + 4).
fp8 (vLLM kv_cache_dtype fp8_e4m3/e5m2): 1 byte an element (per-tensor scales, negligible).
"""
from __future__ import annotations

from services.messages import msg
from services.modelinfo import ModelShape

KV_POLICIES = ("fp16", "int8", "int4", "fp8")


def kv_heads_per_gpu(shape: ModelShape, tp: int = 1) -> int:
    """KV heads each GPU holds under tensor parallelism (replicated when tp > kv_heads)."""
    return max(1, shape.kv_heads // tp) if tp > 1 else shape.kv_heads


def kv_bytes_per_token(shape: ModelShape, policy: str = "fp16", tp: int = 1) -> int:
    """Bytes one token of context costs in the KV cache of one GPU."""
    heads = kv_heads_per_gpu(shape, tp)
    d = shape.head_dim
    per_head = {
        "fp16": d * 2,
        "int8": d + 4,
        "int4": d // 2 + 4,
        "fp8": d,
    }.get(policy)
    if per_head is None:
        raise ValueError(msg("unknown KV policy {policy!r}; choose one of {policies}", policy=policy,
                             policies=", ".join(KV_POLICIES)))
    return 2 * shape.layers * heads * per_head
