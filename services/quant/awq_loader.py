"""Load an AutoAWQ GEMM checkpoint for evaluation on any device, without AutoAWQ's kernels.

`AutoAWQForCausalLM.from_quantized` forces an IPEX kernel on the CPU, transformers 5 loads AWQ only
through gptqmodel, and `WQLinear_GEMM` takes the triton path whenever triton imports (and dies on a
machine without a GPU). Dequantizing each layer once into a plain `nn.Linear` sidesteps all three
and evaluates in float32 on the CPU far faster than dequantizing at every call.
"""
from __future__ import annotations

import json
from pathlib import Path

from services.messages import msg


def dequantize_linear(qweight, qzeros, scales, bits: int, group_size: int):
    """The [out, in] float weight of one AWQ GEMM layer."""
    from awq.utils.packing_utils import dequantize_gemm

    return dequantize_gemm(qweight, qzeros, scales, bits, group_size).T.contiguous()


def load_awq_model(folder: str | Path, dtype=None, device: str = "cpu"):
    """A transformers model whose quantized linears hold the dequantized AWQ weights."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForCausalLM

    folder = Path(folder)
    dtype = dtype or torch.float32
    cfg_raw = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    q = cfg_raw.get("quantization_config") or {}
    if q.get("quant_method") != "awq":
        raise ValueError(msg("{path} is not an AWQ checkpoint (no quantization_config with quant_method awq)", path=folder))
    if str(q.get("version", "gemm")).lower() != "gemm":
        raise ValueError(msg("{path} uses AWQ {version}; only GEMM checkpoints load without AutoAWQ's CUDA kernels",
                             path=folder, version=q.get("version")))
    bits, group = int(q.get("bits", 4)), int(q.get("group_size", 128))
    config = AutoConfig.from_pretrained(str(folder))
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # build a plain model; the weights are filled in below
    from accelerate import init_empty_weights

    with init_empty_weights(include_buffers=False):  # parameters on meta, buffers (rotary) real
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    state: dict = {}
    for f in sorted(folder.glob("*.safetensors")):
        state.update(load_file(str(f)))
    weights = {}
    for name in [k for k in state if k.endswith(".qweight")]:
        prefix = name[: -len(".qweight")]
        weights[prefix + ".weight"] = dequantize_linear(state.pop(name), state.pop(prefix + ".qzeros"),
                                                        state.pop(prefix + ".scales"), bits, group)
    weights.update(state)
    weights = {k: v.to(dtype) if v.is_floating_point() else v for k, v in weights.items()}
    if getattr(config, "tie_word_embeddings", False) and "lm_head.weight" not in weights:
        weights["lm_head.weight"] = weights["model.embed_tokens.weight"]
    missing, unexpected = model.load_state_dict(weights, strict=False, assign=True)
    if missing or unexpected:
        raise ValueError(msg("checkpoint does not match the model: missing {missing}, unexpected {unexpected}",
                             missing=missing[:3], unexpected=unexpected[:3]))
    model.tie_weights()
    return model.to(device).eval()
