"""Every adaptation AutoAWQ 0.2.9 needs on torch 2.13 / transformers 5.17, kept in one place.

1. CPU correctness: `AwqQuantizer._compute_best_scale` saves the block's state as
   `{k: v.cpu() ...}`, which is no copy for tensors already on the CPU; the grid search's in-place
   `fc.weight.mul_` then changes the "saved" weights and every scaled layer ends up wrong
   (a real 135M model: perplexity 7.49 -> 670,743). `cpu_state_copy_fix` makes the saved state a copy.
2. Per-layer progress: AutoAWQ's layer loop is `tqdm(range(n), desc="AWQ")`; `layer_progress`
   swaps that tqdm for one that emits job progress events with an ETA.
3. Loading: `device_map={"": "cpu"}` (accelerate wants a dict), `trust_remote_code` only on consent
   (AutoAWQ defaults it to True). AutoAWQ moves one layer at a time to the GPU when there is one.
Imports torch/awq: call only from the job runner.
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from services.jobs.events import Emitter, Eta
from services.messages import msg


@contextlib.contextmanager
def cpu_state_copy_fix(enabled: bool = True) -> Iterator[None]:
    """Make the state `_compute_best_scale` saves a real copy when the block lives on the CPU."""
    from awq.quantize.quantizer import AwqQuantizer

    original = AwqQuantizer._compute_best_scale
    if not enabled:
        yield
        return

    @functools.wraps(original)
    def fixed(self, x, w_mean, x_mean, module2inspect, *args, **kwargs):
        real_state_dict = module2inspect.state_dict

        def copied_state_dict(*a, **k):
            return {name: t.detach().clone() if t.device.type == "cpu" else t
                    for name, t in real_state_dict(*a, **k).items()}

        module2inspect.state_dict = copied_state_dict  # an instance attribute shadows the method
        try:
            return original(self, x, w_mean, x_mean, module2inspect, *args, **kwargs)
        finally:
            del module2inspect.state_dict

    AwqQuantizer._compute_best_scale = fixed
    try:
        yield
    finally:
        AwqQuantizer._compute_best_scale = original


@contextlib.contextmanager
def layer_progress(events: Emitter) -> Iterator[None]:
    """Report AutoAWQ's per-layer loops ("AWQ", "Packing") as progress events."""
    import awq.quantize.quantizer as quantizer_module

    original = quantizer_module.tqdm

    def reporting_tqdm(iterable, desc: str | None = None, **_kw):
        items = list(iterable)
        total = len(items)
        def step(where: str) -> str:
            if desc == "AWQ":
                return msg("quantizing: {where}", where=where)
            if desc == "Packing":
                return msg("packing: {where}", where=where)
            return msg("working: {where}", where=where) if not desc else f"{desc}: {where}"

        eta = Eta(total)
        events.progress(0, total, msg("layer"), step(msg("layer {layer}/{layers}", layer=1, layers=total)), None)
        for i, item in enumerate(items):
            yield item
            done = i + 1
            nxt = msg("layer {layer}/{layers}", layer=done + 1, layers=total) if done < total else msg("done")
            events.progress(done, total, msg("layer"), step(nxt), eta.remaining(done))

    quantizer_module.tqdm = reporting_tqdm
    try:
        yield
    finally:
        quantizer_module.tqdm = original


def load_for_quantization(model_dir: str, dtype: str, trust_remote_code: bool):
    """AutoAWQ's model wrapper, loaded on the CPU (layers move to the GPU one by one while quantizing)."""
    import torch
    from awq import AutoAWQForCausalLM

    return AutoAWQForCausalLM.from_pretrained(
        model_dir, torch_dtype=getattr(torch, dtype), trust_remote_code=trust_remote_code,
        device_map={"": "cpu"}, low_cpu_mem_usage=True, use_cache=False)


def quantize(model, tokenizer, quant_config: dict, samples: list[list[int]], seqlen: int, events: Emitter,
             fix_cpu: bool = True) -> None:
    """Run AutoAWQ on exactly `samples` (token ids, each `seqlen` long) with progress events."""
    with cpu_state_copy_fix(fix_cpu), layer_progress(events):
        model.quantize(tokenizer, quant_config=quant_config, calib_data=samples, max_calib_samples=len(samples),
                       max_calib_seq_len=seqlen)
