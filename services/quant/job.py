"""The "quantize" job: pre-flight, calibration samples, AutoAWQ, output files, a check that it works.

Runs in the job runner process (imports torch, transformers, awq). Builds the output in
`<out>.partial/` and renames it to `<out>` only at the very end.
"""
from __future__ import annotations

import gc
import math
import shutil
import time
from pathlib import Path

from services.datasets.errors import DatasetError
from services.datasets.sampling import CalibrationSpec, build_samples
from services.datasets.source import collect_texts
from services.jobs.events import Emitter, JobFailure
from services.jobs.spec import JobSpec, partial_dir
from services.quant import awq_backend, writer
from services.quant.preflight import preflight
from services.quant.settings import AwqSettings


def resolve_device(requested: str) -> str:
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise JobFailure("--device cuda but no CUDA device is available to torch",
                         hint="run `quantdesk doctor` (CPU build of torch? driver?), or use --device cpu")
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def calibration(model_dir: Path, s: AwqSettings, events: Emitter):
    """(tokenizer, CalibrationSet) built from the job's calibration settings."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), trust_remote_code=s.trust_remote_code)
    spec = CalibrationSpec(source=s.calib, field=s.calib_field, samples=s.samples, seqlen=s.seqlen,
                           mode=s.calib_mode, seed=s.seed)
    try:
        texts, info, _ = collect_texts(spec.source, spec.field, spec.text_split, spec.min_chars, spec.max_texts)
        cal = build_samples(texts, tokenizer, spec)
    except DatasetError as exc:
        raise JobFailure(str(exc), hint="pick another calibration source (--calib)") from exc
    events.log(f"calibration: {len(cal.ids)} samples of {s.seqlen} tokens from {s.calib} "
               f"({info.encoding}); token hash {cal.token_hash[:16]}")
    for w in cal.warnings:
        events.log(w, "WARNING")
    return tokenizer, cal, info


def verify(folder: Path, sample: list[int], device: str, version: str = "gemm") -> dict:
    """Load the written checkpoint (dequantized) and check its logits on one calibration sample."""
    import torch

    if version != "gemm":
        return {"logits_finite": None, "sample_tokens": 0, "sample_perplexity": None,
                "skipped": "GEMV checkpoints are checked only through AutoAWQ's CUDA kernels; load it in vLLM/LMDeploy"}

    from services.quant.awq_loader import load_awq_model

    model = load_awq_model(folder, dtype=torch.float32, device=device)
    ids = torch.tensor([sample], device=device)
    with torch.no_grad():
        out = model(ids, labels=ids)
    finite = bool(torch.isfinite(out.logits).all())
    loss = float(out.loss)
    del model
    return {"logits_finite": finite, "sample_tokens": len(sample),
            "sample_perplexity": round(math.exp(loss), 3) if math.isfinite(loss) and loss < 50 else None}


def run(spec: JobSpec, events: Emitter) -> dict:
    started = time.monotonic()
    s = AwqSettings.from_dict(spec.params)
    model_dir, out = Path(spec.model), Path(spec.out)
    partial = partial_dir(out)

    events.stage("preflight", "checking the model, settings, disk and memory")
    report = preflight(model_dir, out, s)
    for w in report.warnings:
        events.log(w, "WARNING")
    if not report.ok:
        raise JobFailure(report.errors[0], hint="; ".join(report.errors[1:]))
    device = resolve_device(s.device)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)

    events.stage("calibration", f"{s.samples} samples of {s.seqlen} tokens from {s.calib}")
    tokenizer, cal, calib_info = calibration(model_dir, s, events)

    events.stage("load", f"loading {model_dir.name} ({s.dtype})")
    model = awq_backend.load_for_quantization(str(model_dir), s.dtype, s.trust_remote_code)

    events.stage("quantize", f"AWQ W{s.bits} group {s.group_size} on {device}")
    t_q = time.monotonic()
    awq_backend.quantize(model, tokenizer, s.quant_config(), cal.ids, s.seqlen, events)
    quantize_s = time.monotonic() - t_q

    events.stage("save", f"writing {partial.name}")
    model.save_quantized(str(partial))
    del model
    gc.collect()
    copied = writer.copy_side_files(model_dir, partial)
    writer.restore_config_fields(model_dir, partial)

    events.stage("verify", "loading the result and checking its logits")
    check = verify(partial, cal.ids[0][: min(s.seqlen, 256)], device, s.version)
    if check["logits_finite"] is False:
        raise JobFailure("the quantized model gives non-finite logits", hint="try --dtype float16 or another group size")

    in_bytes = report.info.get("weights_bytes") or 0
    out_bytes = writer.folder_size(partial)
    record = {
        "tool": "quantdesk",
        "method": "awq",
        "backend": "autoawq",
        "source_model": str(model_dir.resolve()),
        "source_sha256": writer.folder_hash(model_dir),
        "settings": s.to_dict(),
        "calibration": {"source": s.calib, "encoding": calib_info.encoding, "field": calib_info.field or None,
                        "samples": len(cal.ids), "seqlen": s.seqlen, "mode": s.calib_mode, "seed": s.seed,
                        "token_hash": cal.token_hash},
        "device": device,
        "versions": writer.versions(),
        "duration_s": round(time.monotonic() - started, 2),
        "quantize_s": round(quantize_s, 2),
        "input_bytes": in_bytes,
        "output_bytes": out_bytes,
        "copied_files": copied,
        "check": check,
    }
    writer.write_record(partial, record)
    if out.exists():
        shutil.rmtree(out)  # preflight allowed it (--overwrite)
    partial.rename(out)
    events.artifact(str(out), "model")
    return {"out": str(out), "input_bytes": in_bytes, "output_bytes": out_bytes,
            "ratio": round(in_bytes / out_bytes, 2) if out_bytes else None, "duration_s": record["duration_s"],
            "quantize_s": record["quantize_s"], "device": device, "check": check,
            "calibration_token_hash": cal.token_hash}
