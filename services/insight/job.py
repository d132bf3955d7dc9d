"""The "scan" job: load the model once, tokenize the held-out text, scan, return the ranking."""
from __future__ import annotations

from pathlib import Path

from services.evaluate.settings import EvalSettings
from services.insight.scan import scan
from services.insight.settings import ScanSettings
from services.jobs.events import Emitter, JobFailure
from services.jobs.spec import JobSpec
from services.messages import msg

MIN_TOKENS = 64


def run(spec: JobSpec, events: Emitter) -> dict:
    import torch
    from transformers import AutoTokenizer

    from services.evaluate.job import text_tokens
    from services.evaluate.models import load_for_eval
    from services.quant.job import resolve_device

    s = ScanSettings.from_dict(spec.params)
    if problems := s.problems():
        raise JobFailure(problems[0], hint="; ".join(problems[1:]), bad_input=True)
    model_dir = Path(spec.model)
    device = resolve_device(s.device)
    events.stage("load", msg("loading {name}", name=model_dir.name))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        model = load_for_eval(model_dir, device)
    except (OSError, ValueError) as exc:
        raise JobFailure(msg("cannot load {folder}: {reason}", folder=model_dir, reason=exc), bad_input=True) from exc
    if any(p.dtype != torch.float32 for p in model.parameters()) and device == "cpu":
        model = model.float()
    own_calib = s.method == "awq" and not s.calib  # calibrate on the tokens after the scored ones
    extra = s.calib_tokens if own_calib else 0
    ids, _ = text_tokens(EvalSettings(text=s.text, text_field=s.text_field, max_tokens=s.max_tokens + extra),
                         tokenizer)
    ids, calib_ids = ids[: s.max_tokens], ids[s.max_tokens:]
    if len(ids) < MIN_TOKENS:
        raise JobFailure(msg("{text} gives {count} tokens; a scan needs at least {need} to rank anything", text=s.text,
                             count=len(ids), need=MIN_TOKENS),
                         hint=msg("pick a longer held-out text"), bad_input=True)
    if s.method == "awq" and s.calib:
        calib_ids = text_tokens(EvalSettings(text=s.calib, max_tokens=s.calib_tokens), tokenizer)[0]
    if s.method == "awq" and len(calib_ids) < MIN_TOKENS:
        raise JobFailure(msg("{text} has {count} tokens left after the {scored} scored ones; the AWQ "
                             "scan needs at least {need} more to calibrate on", text=s.text, count=len(calib_ids),
                             scored=s.max_tokens, need=MIN_TOKENS),
                         hint=msg("lower --max-tokens, or give separate calibration text with --awq-calib"),
                         bad_input=True)
    what = f"W{s.bits} g{s.group_size}"
    what = msg("{what} with AWQ scales", what=what) if s.method == "awq" else what
    events.stage("scan", msg("{count} held-out tokens, one {unit} at a time at {what}", count=len(ids),
                             unit=msg("block") if s.unit == "block" else msg("layer"), what=what))
    result = scan(model, ids, s, device,
                  progress=lambda done, total, name, eta: events.progress(done, total, s.unit, name, eta),
                  calib_ids=calib_ids if s.method == "awq" else None, stage=events.stage)
    result["model"] = str(model_dir)
    result["text"] = s.text
    return result
