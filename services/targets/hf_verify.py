"""The transformers target's check, in the job runner: load with the project's loader and generate."""
from __future__ import annotations

from services.jobs.events import Emitter
from services.messages import msg
from services.targets.base import BuildInputs
from services.targets.hf import PROMPT


def verify(b: BuildInputs, events: Emitter) -> dict:
    """Load with the project's loader on this machine, generate a few tokens, check the logits."""
    import torch
    from transformers import AutoTokenizer

    from services.evaluate.models import load_for_eval

    events.stage("verify", msg("loading the model and generating"))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tok = AutoTokenizer.from_pretrained(str(b.source.model))
    model = load_for_eval(b.source.model, device)
    ids = tok(PROMPT, return_tensors="pt").input_ids.to(device)
    with torch.no_grad():
        logits = model(ids).logits
        out = model.generate(ids, max_new_tokens=8, do_sample=False,
                             pad_token_id=tok.pad_token_id or tok.eos_token_id)
    finite = bool(torch.isfinite(logits).all())
    return {"ok": finite, "device": device, "logits_finite": finite,
            "generated": tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True),
            "new_tokens": int(out.shape[1] - ids.shape[1])}
