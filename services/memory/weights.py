"""Bytes of a model's weights as stored in each format.

fp16/bf16: 2 bytes a parameter (fp32: 4). awq4 (AutoAWQ GEMM layout, per linear layer in->out with group g):
qweight int32 [in, out/8] + qzeros int32 [in/g, out/8] + scales fp16 [in/g, out]; biases, norms,
embeddings and lm_head stay fp16. int8 and w8a8 (W8A8): 1 byte a weight + an fp16 scale per output channel.
w4a8 (QServe's W4A8 layout): 4-bit weights + an fp16 scale per output channel, and either an fp16 scaled zero
per output channel (group -1, per channel) or an int8 scale and int8 zero per group of g inputs (progressive
g128); 8-bit activations are made at run time and stored nowhere. fp8: 1 byte a weight + one fp32 scale per
layer. Embeddings and lm_head are counted once when tied.
"""
from __future__ import annotations

from services.messages import msg
from services.modelinfo import ModelShape

WEIGHT_FORMATS = ("fp16", "bf16", "fp32", "awq4", "int8", "fp8", "w4a8", "w8a8")
PER_CHANNEL = -1  # group size of one scale per output channel (w4a8)


def _linear_bytes(fmt: str, n_in: int, n_out: int, group_size: int) -> int:
    if fmt in ("fp16", "bf16"):
        return n_in * n_out * 2
    if fmt == "fp32":
        return n_in * n_out * 4
    groups = 1 if group_size == PER_CHANNEL else -(-n_in // group_size)
    if fmt == "awq4":
        return n_in * n_out // 2 + groups * n_out // 2 + groups * n_out * 2
    if fmt in ("int8", "w8a8"):
        return n_in * n_out + n_out * 2
    if fmt == "w4a8":
        if group_size == PER_CHANNEL:
            return n_in * n_out // 2 + n_out * 2 * 2
        return n_in * n_out // 2 + groups * n_out * 2 + n_out * 2
    if fmt == "fp8":
        return n_in * n_out + 4
    raise ValueError(msg("unknown weight format {format!r}; choose one of {formats}", format=fmt,
                         formats=", ".join(WEIGHT_FORMATS)))


def weight_bytes(shape: ModelShape, fmt: str = "fp16", group_size: int = 128,
                 kept: tuple[str, ...] = ()) -> dict[str, int]:
    """Return {"linear", "embeddings", "other", "total"} bytes for `fmt`; linear layers whose full name
    (model.layers.N.mlp.down_proj) matches a `kept` pattern (a substring, or `re:REGEX`) stay fp16."""
    import re

    def stays(name: str) -> bool:
        return any(re.match(k[3:], name) if k.startswith("re:") else k in name for k in kept)

    linear = sum(_linear_bytes("fp16" if stays(f"model.layers.{n}.{name}") else fmt, i, o, group_size)
                 for n in range(shape.layers) for name, i, o in shape.linear_layers)
    per_layer_other = 2 * shape.hidden  # input and post-attention norms
    if shape.attention_bias:
        per_layer_other += (shape.heads + 2 * shape.kv_heads) * shape.head_dim
    if shape.mlp_bias:
        per_layer_other += 2 * shape.intermediate + shape.hidden
    elem = 4 if fmt == "fp32" else 2
    other = (shape.layers * per_layer_other + shape.hidden) * elem  # fp16 (fp32 for fp32), plus the final norm
    emb = shape.vocab * shape.hidden * elem
    embeddings = emb if shape.tied_embeddings else 2 * emb
    return {"linear": linear, "embeddings": embeddings, "other": other, "total": linear + embeddings + other}
