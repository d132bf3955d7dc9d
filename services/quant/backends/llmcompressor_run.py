"""The llm-compressor backend's work, in the job runner only (imports torch, llmcompressor).

Every adaptation llm-compressor 0.14 needs here is in this module:
1. CPU: AWQ's smoothing calls `IntermediatesCache.pin_memory`, which raises "Cannot access
   accelerator device when none is available" without a GPU; pinning only speeds up copies to a
   GPU, so `cpu_pin_memory_fix` makes it a no-op when torch has no accelerator
   (tests/integration/test_llmcompressor.py shows the upstream failure without it).
2. Progress and cancel: the sequential pipeline calls `_get_batches(..., desc="(i/n): Calibrating")`
   once per layer; `layer_progress` wraps it to emit progress with an ETA and to honour a cancel
   between layers (hooks are removed before the cancel goes on).
3. Calibration is the job's own token ids, as an in-memory `datasets.Dataset` (no tokenizing, no hub).
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import torch

from services.jobs.events import Emitter, Eta
from services.messages import msg
from services.quant.backends.base import QuantizeInputs
from services.quant.backends.llmcompressor import LlmcSettings
from services.quant.logits_check import logits_check
from services.quant.settings import QuantSettings


@contextlib.contextmanager
def cpu_pin_memory_fix(enabled: bool = True) -> Iterator[None]:
    from llmcompressor.pipelines.cache import IntermediatesCache

    original = IntermediatesCache.pin_memory
    if enabled and not torch.accelerator.is_available():
        IntermediatesCache.pin_memory = lambda self, *a, **k: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        IntermediatesCache.pin_memory = original  # type: ignore[method-assign]


@contextlib.contextmanager
def layer_progress(events: Emitter, passes: int) -> Iterator[None]:
    """Progress per decoder layer (and pass: SmoothQuant + GPTQ go over the layers twice); cancel between layers."""
    import llmcompressor.pipelines.sequential.pipeline as seq

    original = seq._get_batches
    state = {"pass": 0, "eta": None}

    def reporting(activations, num_batches, input_names, desc, *a, **k):
        m = re.match(r"\((\d+)/(\d+)\): (\w+)", str(desc))
        if m:
            i, n, phase = int(m.group(1)), int(m.group(2)), m.group(3)
            if i == 1 and phase == "Calibrating":
                state["pass"] += 1
            total = n * max(passes, state["pass"])
            if state["eta"] is None:
                state["eta"] = Eta(total)
            done = (state["pass"] - 1) * n + i - 1
            where = msg("layer {layer}/{layers}", layer=i, layers=n - 1) if i < n else \
                msg("final norm and head")  # the last subgraph is the tail
            step = {"Calibrating": msg("calibrating: {where}", where=where),
                    "Propagating": msg("propagating: {where}", where=where)}.get(phase, f"{phase.lower()}: {where}")
            if passes > 1:
                step = msg("pass {done}/{passes}, {step}", done=state["pass"], passes=passes, step=step)
            events.progress(done, total, msg("layer"), step, state["eta"].remaining(done))
        yield from original(activations, num_batches, input_names, desc, *a, **k)

    seq._get_batches = reporting
    try:
        yield
    finally:
        seq._get_batches = original


def recipe(s: LlmcSettings) -> list:
    from compressed_tensors.quantization import QuantizationArgs, QuantizationScheme
    from llmcompressor.modifiers.gptq import GPTQModifier
    from llmcompressor.modifiers.quantization import QuantizationModifier
    from llmcompressor.modifiers.transform.awq import AWQModifier
    from llmcompressor.modifiers.transform.smoothquant import SmoothQuantModifier

    ignore = s.ignore()
    actorder = None if s.actorder == "none" else s.actorder
    if s.method in ("gptq", "awq"):
        weights = QuantizationArgs(num_bits=4, type="int", symmetric=s.method == "gptq", strategy="group",
                                   group_size=s.group_size)
        groups = {"group_0": QuantizationScheme(targets=["Linear"], weights=weights)}
        if s.method == "gptq":
            return [GPTQModifier(config_groups=groups, ignore=ignore, actorder=actorder,
                                 dampening_frac=s.dampening_frac)]
        return [AWQModifier(duo_scaling=True), QuantizationModifier(config_groups=groups, ignore=ignore)]
    if s.method == "w8a8":
        return [SmoothQuantModifier(smoothing_strength=s.smoothing_strength),
                GPTQModifier(targets="Linear", scheme="W8A8", ignore=ignore, dampening_frac=s.dampening_frac)]
    return [QuantizationModifier(targets="Linear", scheme=s.scheme, ignore=ignore)]


def quantize(inputs: QuantizeInputs, events: Emitter) -> None:
    from llmcompressor import active_session, oneshot
    from transformers import AutoModelForCausalLM

    s = inputs.settings
    assert isinstance(s, LlmcSettings)
    events.stage("load", msg("loading {model} ({dtype})", model=inputs.model_dir.name, dtype=s.dtype))
    model = AutoModelForCausalLM.from_pretrained(str(inputs.model_dir), dtype=getattr(torch, s.dtype),
                                                 trust_remote_code=s.trust_remote_code)
    mods = recipe(s)
    data = {}
    if inputs.samples:
        from datasets import Dataset

        data = {"dataset": Dataset.from_dict({"input_ids": inputs.samples,
                                              "attention_mask": [[1] * len(x) for x in inputs.samples]}),
                "num_calibration_samples": len(inputs.samples), "max_seq_length": s.seqlen,
                "shuffle_calibration_samples": False}
    events.stage("quantize", msg("{method} ({scheme}) with llm-compressor on {device}", method=s.method, scheme=s.scheme,
                                 device=inputs.device))
    try:
        with cpu_pin_memory_fix(), layer_progress(events, passes=2 if s.method == "w8a8" else 1):
            oneshot(model=model, processor=inputs.tokenizer, recipe=mods, output_dir=None, log_dir=None, **data)
    except BaseException:
        active_session().reset()
        for mod in mods:  # GPTQ removes its hooks only at the end of calibration
            if hasattr(mod, "remove_hooks"):
                mod.remove_hooks()
        raise
    events.stage("save", msg("writing {name}", name=inputs.partial.name))
    model.save_pretrained(str(inputs.partial), save_compressed=True)
    active_session().reset()


def verify(folder: Path, sample: list[int], device: str, s: QuantSettings) -> dict:
    from services.evaluate.models import load_for_eval

    return logits_check(load_for_eval(folder, device), sample, device)  # dequantized, as the evaluator loads it
