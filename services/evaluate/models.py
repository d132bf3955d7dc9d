"""Load a model folder for evaluation (unquantized, AWQ or compressed-tensors) and check that tokenizers match."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from services.checkpoint import AWQ, COMPRESSED_TENSORS, checkpoint_format
from services.messages import msg


def load_for_eval(folder: str | Path, device: str = "cpu"):
    """The model in float32 on the CPU (fast there) or float16 on CUDA; quantized weights are dequantized once."""
    import torch
    from transformers import AutoModelForCausalLM

    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    fmt = checkpoint_format(folder)
    if fmt.kind == AWQ:
        from services.quant.awq_loader import load_awq_model

        return load_awq_model(folder, dtype=dtype, device=device)
    if fmt.kind == COMPRESSED_TENSORS:
        from transformers import CompressedTensorsConfig

        return AutoModelForCausalLM.from_pretrained(  # dequantized once; activation quantization still simulated
            str(folder), dtype=dtype, quantization_config=CompressedTensorsConfig(dequantize=True)).to(device).eval()
    if fmt.quantized:
        raise ValueError(msg("{name} is a {format} checkpoint; this version evaluates "
                             "unquantized, AWQ and compressed-tensors checkpoints", name=Path(folder).name,
                             format=fmt.describe()))
    return AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype).to(device).eval()


def tokenizer_fingerprint(tokenizer) -> str:
    """A hash of the vocabulary and special tokens: equal fingerprints tokenize text the same way."""
    vocab = sorted(tokenizer.get_vocab().items())
    special = sorted(str(t) for t in tokenizer.all_special_tokens)
    return hashlib.sha256(json.dumps([vocab, special], ensure_ascii=False).encode()).hexdigest()
