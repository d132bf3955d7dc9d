"""The "quantize" job: pre-flight, calibration samples, the backend, output files, a check that it works.

Runs in the job runner process (the backend imports torch). Builds the output in `<out>.partial/`
and moves it to `<out>` only at the very end (replacing an earlier output by a swap).
"""
from __future__ import annotations

import time
from pathlib import Path

from services.datasets.errors import DatasetError
from services.datasets.sampling import CalibrationSpec, build_samples
from services.datasets.source import collect_texts
from services.jobs.events import Emitter, JobFailure
from services.jobs.outputs import commit, make_partial, partial_path
from services.jobs.protocol import QuantizeSummary
from services.jobs.spec import JobSpec
from services.messages import msg
from services.quant import writer
from services.quant.backends import get_backend
from services.quant.backends.base import QuantizeInputs
from services.quant.preflight import preflight
from services.quant.settings import QuantSettings


def resolve_device(requested: str) -> str:
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise JobFailure(msg("--device cuda but no CUDA device is available to torch"),
                         hint=msg("run `quantdesk doctor` (CPU build of torch? driver?), or use --device cpu"),
                         bad_input=True)
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def load_tokenizer(model_dir: Path, s: QuantSettings):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir), trust_remote_code=s.trust_remote_code)


def verify_sample(tokenizer) -> list[int]:
    """Token ids of the built-in prompts: what a method without calibration data is checked on."""
    from services.evaluate.answers import load_prompts

    return tokenizer("\n\n".join(load_prompts(None)), add_special_tokens=False)["input_ids"][:256]


def calibration(model_dir: Path, s: QuantSettings, events: Emitter):
    """(tokenizer, CalibrationSet, source info) built from the job's calibration settings."""
    tokenizer = load_tokenizer(model_dir, s)
    spec = CalibrationSpec(source=s.calib, field=s.calib_field, samples=s.samples, seqlen=s.seqlen,
                           mode=s.calib_mode, seed=s.seed)
    try:
        texts, info, _ = collect_texts(spec.source, spec.field, spec.text_split, spec.min_chars, spec.max_texts)
        cal = build_samples(texts, tokenizer, spec)
    except DatasetError as exc:
        raise JobFailure(str(exc), hint=msg("pick another calibration source (--calib)"), bad_input=True) from exc
    events.log(msg("calibration: {count} samples of {seqlen} tokens from {source} ({encoding}); token hash {hash}",
                   count=len(cal.ids), seqlen=s.seqlen, source=s.calib, encoding=info.encoding,
                   hash=cal.token_hash[:16]))
    for w in cal.warnings:
        events.log(w, "WARNING")
    return tokenizer, cal, info


def run(spec: JobSpec, events: Emitter) -> QuantizeSummary:
    started = time.monotonic()
    try:
        backend = get_backend(spec.params.get("backend"), spec.params.get("method", "awq"))
    except ValueError as exc:
        raise JobFailure(str(exc), bad_input=True) from exc
    s = backend.settings(spec.params)
    model_dir, out = Path(spec.model), Path(str(spec.out))
    partial = partial_path(out)

    events.stage("preflight", msg("checking the model, settings, disk and memory"))
    report = preflight(model_dir, out, s)
    for w in report.warnings:
        events.log(w, "WARNING")
    if not report.ok:
        raise JobFailure(report.errors[0], hint="; ".join(report.errors[1:]), bad_input=True)
    device = resolve_device(s.device)
    make_partial(out)

    if backend.needs_calibration(s):
        events.stage("calibration", msg("{samples} samples of {seqlen} tokens from {source}", samples=s.samples,
                                        seqlen=s.seqlen, source=s.calib))
        tokenizer, cal, calib_info = calibration(model_dir, s, events)
        samples, check_sample = cal.ids, cal.ids[0][: min(s.seqlen, 256)]
        calib_record: dict | None = {
            "source": s.calib, "encoding": calib_info.encoding, "field": calib_info.field or None,
            "samples": len(cal.ids), "seqlen": s.seqlen, "mode": s.calib_mode, "seed": s.seed,
            "token_hash": cal.token_hash}
    else:
        tokenizer = load_tokenizer(model_dir, s)
        samples, check_sample, calib_record = [], verify_sample(tokenizer), None

    t_q = time.monotonic()
    backend.quantize(QuantizeInputs(model_dir, partial, s, tokenizer, samples, device), events)
    quantize_s = time.monotonic() - t_q
    copied = writer.copy_side_files(model_dir, partial)
    writer.restore_config_fields(model_dir, partial)

    events.stage("verify", msg("loading the result and checking its logits"))
    check = backend.verify(partial, check_sample, device, s)
    if check["logits_finite"] is False:
        raise JobFailure(msg("the quantized model gives non-finite logits"),
                         hint=msg("try --dtype float16 or another group size"))

    in_bytes = int(report.info.get("weights_bytes") or 0)
    duration_s = round(time.monotonic() - started, 2)
    out_bytes = writer.folder_size(partial)
    record = {
        "tool": "quantdesk",
        "job_id": spec.id,
        "method": s.method,
        "backend": backend.name,
        "format": backend.output_format(s),
        "source_model": str(model_dir.resolve()),
        "source_sha256": writer.folder_hash(model_dir),
        "settings": {**s.to_dict(), **({} if backend.needs_calibration(s) else {"calib": None})},
        "calibration": calib_record,
        "device": device,
        "versions": writer.versions(),
        "duration_s": duration_s,
        "quantize_s": round(quantize_s, 2),
        "input_bytes": in_bytes,
        "output_bytes": out_bytes,
        "copied_files": copied,
        "check": check,
    }
    writer.write_record(partial, record)
    events.check()  # a cancel that arrived during the last step still wins over the move into place
    commit(partial, out)
    events.artifact(str(out), "model")
    return QuantizeSummary(out=str(out), format=backend.output_format(s), input_bytes=in_bytes,
                           output_bytes=out_bytes, ratio=round(in_bytes / out_bytes, 2) if out_bytes else None,
                           duration_s=duration_s, quantize_s=round(quantize_s, 2), device=device,
                           check=check, calibration_token_hash=calib_record["token_hash"] if calib_record else None)
