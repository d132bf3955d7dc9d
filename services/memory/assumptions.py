"""What the planner assumes about a weight format and a KV policy, in words for the plan (and its JSON)."""
from __future__ import annotations

from services.memory.weights import PER_CHANNEL
from services.messages import msg

ENGINE_NAMES = {"vllm": "vLLM", "lmdeploy": "LMDeploy"}


def format_notes(fmt: str, group_size: int, kv: str, engine: str) -> tuple[list[str], list[str]]:
    """(assumptions, warnings) for weights stored as `fmt` with `group_size` and a `kv` cache under `engine`."""
    notes: list[str] = []
    warnings: list[str] = []
    if fmt == "w4a8":
        scales = (msg("an fp16 scaled zero point per output channel (per-channel, group -1)")
                  if group_size == PER_CHANNEL
                  else msg("an int8 scale and zero point per group of {group_size} inputs", group_size=group_size))
        notes.append(msg("w4a8 weights as QServe stores them: 4 bits a weight, an fp16 scale per output channel and "
                         "{scales}; activations are quantized to 8 bits at run time and take no stored memory",
                         scales=scales))
        name = ENGINE_NAMES.get(engine, engine)
        warnings.append(msg("{engine} does not run QServe's W4A8 checkpoints: this applies {engine}'s sizing rule to "
                            "W4A8 weights; serve them with QServe (quantdesk export --target qserve)", engine=name))
    elif fmt == "w8a8":
        notes.append(msg("w8a8 weights: int8 with an fp16 scale per output channel (vLLM's compressed-tensors W8A8, "
                         "QServe's W8A8); activations are quantized to 8 bits at run time"))
    if kv in ("int8", "int4"):
        notes.append(msg("KV {policy}: {bits}-bit keys and values, asymmetric, with an fp16 scale and zero point per "
                         "head and token (LMDeploy's quant_policy {bits}; QServe's KV{bits} is laid out alike)",
                         policy=kv, bits=kv[3:]))
    return notes, warnings
