"""The AutoAWQ backend's work, in the job runner only (imports torch and awq)."""
from __future__ import annotations

import gc
from pathlib import Path

import torch

from services.jobs.events import Emitter
from services.messages import msg
from services.quant.awq_loader import load_awq_model
from services.quant.backends import autoawq_patches as patches
from services.quant.backends.autoawq import AwqSettings
from services.quant.backends.base import QuantizeInputs
from services.quant.logits_check import logits_check
from services.quant.settings import QuantSettings


def quantize(inputs: QuantizeInputs, events: Emitter) -> None:
    s = inputs.settings
    assert isinstance(s, AwqSettings)
    events.stage("load", msg("loading {model} ({dtype})", model=inputs.model_dir.name, dtype=s.dtype))
    model = patches.load_for_quantization(str(inputs.model_dir), s.dtype, s.trust_remote_code)
    events.stage("quantize", msg("AWQ W{bits} group {group_size} on {device}", bits=s.bits, group_size=s.group_size,
                                 device=inputs.device))
    patches.quantize(model, inputs.tokenizer, s.quant_config(), inputs.samples, s.seqlen, events)
    events.stage("save", msg("writing {name}", name=inputs.partial.name))
    model.save_quantized(str(inputs.partial))
    del model
    gc.collect()


def verify(folder: Path, sample: list[int], device: str, s: QuantSettings) -> dict:
    assert isinstance(s, AwqSettings)
    if s.version != "gemm":
        return {"logits_finite": None, "sample_tokens": 0, "sample_perplexity": None,
                "skipped": "GEMV checkpoints are checked only through AutoAWQ's CUDA kernels; "
                           "load it in vLLM/LMDeploy"}
    return logits_check(load_awq_model(folder, dtype=torch.float32, device=device), sample, device)
