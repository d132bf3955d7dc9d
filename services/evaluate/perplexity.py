"""Perplexity over windows of a token stream (imports torch: job runner / tests only)."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from services.messages import msg
from services.progress import Cancelled, ProgressFn, never_cancelled, no_progress


@dataclass
class PerplexityResult:
    perplexity: float
    nll_sum: float
    tokens: int  # tokens scored
    windows: int


def windows(n_tokens: int, context: int, stride: int | None = None) -> list[tuple[int, int, int]]:
    """(begin, end, first scored position) of each window.

    stride = context (default): non-overlapping windows, each scored on all tokens but its first.
    stride < context: overlapping windows; each scores only tokens the previous windows did not.
    """
    stride = stride or context
    if stride > context:
        raise ValueError(msg("stride must not exceed the context length"))
    out, prev_end, begin = [], 0, 0
    while begin < n_tokens - 1:
        end = min(begin + context, n_tokens)
        first = 1 if stride == context or begin == 0 else max(1, prev_end - begin)
        out.append((begin, end, first))
        prev_end = end
        if end == n_tokens:
            break
        begin += stride
    return out


def perplexity(model, ids: list[int], context: int = 512, stride: int | None = None, device: str = "cpu",
               kv: str = "fp16", progress: ProgressFn = no_progress,
               cancelled: Callable[[], bool] = never_cancelled) -> PerplexityResult:
    """exp(mean negative log-likelihood) of `ids` under `model`, window by window.

    With `kv` other than fp16, each window runs through a cache that stores keys and values
    quantized, so every position attends to quantized K/V as in the serving engine.
    """
    import torch
    import torch.nn.functional as F

    from services.evaluate.kvquant import quantized_cache

    spans = windows(len(ids), context, stride)
    if not spans:
        raise ValueError(msg("need at least 2 tokens for a perplexity"))
    nll, count = 0.0, 0
    for i, (b, e, first) in enumerate(spans):
        if cancelled():
            raise Cancelled()
        x = torch.tensor([ids[b:e]], device=device)
        with torch.no_grad():
            if kv == "fp16":
                logits = model(x, use_cache=False).logits[0].float()
            else:
                logits = model(x, past_key_values=quantized_cache(kv, model.config), use_cache=True).logits[0].float()
        # position p predicts token p+1; score tokens first..e-b-1
        logp = F.log_softmax(logits[first - 1:-1], dim=-1)
        target = x[0, first:]
        nll -= float(logp.gather(1, target.unsqueeze(1)).sum())
        count += int(target.numel())
        progress(i + 1, len(spans), f"window {i + 1}/{len(spans)}")
    return PerplexityResult(math.exp(nll / count), nll, count, len(spans))
