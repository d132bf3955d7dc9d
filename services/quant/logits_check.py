"""The check every quantize job ends with: the written model gives finite logits on one sample (runner only)."""
from __future__ import annotations

import math


def logits_check(model, sample: list[int], device: str) -> dict:
    """{"logits_finite", "sample_tokens", "sample_perplexity"} of `model` on `sample`."""
    import torch

    ids = torch.tensor([sample], device=device)
    with torch.no_grad():
        out = model(ids, labels=ids)
    loss = float(out.loss)
    return {"logits_finite": bool(torch.isfinite(out.logits).all()), "sample_tokens": len(sample),
            "sample_perplexity": round(math.exp(loss), 3) if math.isfinite(loss) and loss < 50 else None}
