"""Check a quantization before any weights load: the folder, its config and weight files, the
backend's own rules (architecture, group size), the output path, disk and memory. Every problem
says what to change."""
from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.datasets.catalog import CATALOG
from services.datasets.reachable import cached_names, named_source_problem
from services.jobs.outputs import check_output
from services.messages import msg
from services.modelfiles import check_weights
from services.modelinfo import ModelConfigError, ModelShape, read_config, shape_from_config, text_config
from services.quant.backends import get_backend
from services.quant.groups import group_size_problem, layer_inputs, suggest_group
from services.quant.settings import QuantSettings

GIB = 1024**3


@dataclass
class PreflightReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {"ok": self.ok, "errors": self.errors, "warnings": self.warnings, "info": self.info}


def _dir_free(path: Path) -> int:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free


def _ram_free() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


# the files a Hugging Face tokenizer is read from (fast, SentencePiece, BPE, WordPiece)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt", "spiece.model")


def preflight(model_dir: str | Path, out_dir: str | Path, s: QuantSettings,
              disk_free: Callable[[Path], int] = _dir_free, memory_free: Callable[[], int] = _ram_free,
              calib_problem: Callable[[str], str | None] = named_source_problem) -> PreflightReport:
    """Everything that can be known before loading weights."""
    r = PreflightReport(errors=list(s.problems()))
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    try:
        backend = get_backend(s.backend, s.method)
    except ValueError as exc:
        r.errors.append(str(exc))
        return r
    if backend.needs_calibration(s) and s.calib.strip().lower() not in CATALOG and not Path(s.calib).exists():
        r.errors.append(msg("calibration source {source} does not exist: pick a file or folder, or a dataset name "
                            "({names})", source=s.calib, names=", ".join(CATALOG)))
    elif backend.needs_calibration(s) and (problem := calib_problem(s.calib)):
        r.errors.append(problem)
        r.info["calib_fallbacks"] = cached_names()
    if not model_dir.is_absolute():
        r.errors.append(msg("model path {path} is relative: give a full path", path=model_dir))
        return r
    try:
        cfg = read_config(model_dir)
        text = text_config(cfg)
    except ModelConfigError as exc:
        r.errors.append(str(exc))
        return r
    errors, warnings, files = check_weights(model_dir)
    r.errors += errors
    r.warnings += warnings
    if not any((model_dir / n).is_file() for n in TOKENIZER_FILES) and not list(model_dir.glob("*.tiktoken")):
        r.warnings.append(msg("no tokenizer in {path} ({files}): the job reads calibration text and checks the "
                              "output with the model's tokenizer; copy its files from the original model",
                              path=model_dir, files=", ".join(TOKENIZER_FILES[:2])))
    quant = cfg.get("quantization_config")
    if quant:
        method = quant.get("quant_method", "?") if isinstance(quant, dict) else "?"
        r.errors.append(msg("this model is already quantized ({method}): start from the fp16/bf16 model", method=method))
    model_type = str(cfg.get("model_type") or text.get("model_type", ""))
    arch = (cfg.get("architectures") or [model_type or "unknown"])[0]
    r.info.update(model_type=model_type, architecture=arch, backend=backend.name,
                  output_format=backend.output_format(s), notes=backend.notes(s))
    if cfg.get("auto_map") and not s.trust_remote_code:
        r.errors.append(msg("this model ships its own Python code (auto_map in config.json); allow it with "
                            "--trust-remote-code only if you trust its author"))
    shape: ModelShape | None = None
    try:
        shape = shape_from_config(cfg)
    except ModelConfigError as exc:
        r.errors.append(str(exc))
    if shape is not None:
        errors, warnings = backend.check_model(cfg, s)
        r.errors += errors
        r.warnings += warnings
        limit = shape.max_positions
        if limit and s.seqlen > int(limit):
            advice = msg("use --seqlen {seqlen} or less", seqlen=min(int(limit), 2048))
            r.errors.append(msg("sequence length {seqlen} exceeds the model's max_position_embeddings {limit}: "
                                "{advice}", seqlen=s.seqlen, limit=limit, advice=advice))
            add_fix(r, "seqlen", min(int(limit), 2048), advice)
        group = getattr(s, "group_size", None)
        if isinstance(group, int) and group > 0 and group_size_problem(text, group):
            better = suggest_group(layer_inputs(text))
            if better:
                add_fix(r, "group_size", better, msg("use --group-size {group_size}", group_size=better))
    r.info.update(layers=text.get("num_hidden_layers"), hidden_size=text.get("hidden_size"),
                  dtype=str(text.get("torch_dtype") or text.get("dtype") or cfg.get("torch_dtype") or "float16"))

    weights = sum(f.stat().st_size for f in files)
    r.info["weights_bytes"] = weights
    est_out = int(weights * backend.output_ratio(s)) + 50 * 1024**2  # + what stays unquantized
    r.info["estimated_output_bytes"] = est_out
    inputs = [model_dir] + ([Path(s.calib)] if Path(s.calib).is_absolute() else [])
    out_check = check_output(out_dir, inputs, overwrite=s.overwrite, force=s.force)
    r.errors += out_check.errors
    r.warnings += out_check.warnings
    if out_check.errors:
        return r
    free = disk_free(out_dir)
    r.info["free_disk_bytes"] = free
    if free < est_out * 1.2:
        r.errors.append(msg("not enough disk space at {path}: {free:.1f} GiB free, about {need:.1f} GiB needed; "
                            "free some space or pick another output folder", path=out_dir.parent, free=free / GIB,
                            need=est_out * 1.2 / GIB))
    if shape is not None:
        widest = max(shape.hidden, shape.intermediate, shape.heads * shape.head_dim)
        samples = s.samples if backend.needs_calibration(s) else 0
        # a sequence length beyond the model's is an error above, not a reason to ask for more RAM
        seqlen = min(s.seqlen, int(shape.max_positions)) if shape.max_positions else s.seqlen
        act = samples * seqlen * (shape.hidden * 2 * 3 + widest * 2)  # layer inputs, outputs, widest feature
        need = weights + act
        r.info["estimated_memory_bytes"] = need
        avail = memory_free()
        r.info["free_memory_bytes"] = avail
        if need > avail:
            r.info["memory_short"] = True  # the panel asks for an explicit "start anyway"
            per_sample = act // max(1, samples)
            fit = (avail - weights) // per_sample if per_sample and avail > weights else 0
            advice = msg("lower --samples or --seqlen, or close other programs")
            if 0 < fit < samples:
                add_fix(r, "samples", int(fit), advice)
            r.warnings.append(msg("this job may need about {need:.1f} GiB of RAM but {free:.1f} GiB is free: {advice}",
                                  need=need / GIB, free=avail / GIB, advice=advice))
    return r


def add_fix(r: PreflightReport, setting: str, value, cli: str) -> None:
    """A one-click fix for the panel: set `setting` to `value`; `cli` is the message's command-line wording,
    which the panel leaves out beside the button."""
    r.info.setdefault("fixes", []).append({"setting": setting, "value": value, "cli": cli})


def local_view_check(model: str, out: str, params: dict, memory_free: Callable[[], int] | None = None
                     ) -> tuple[list[str], list[str], list[str]]:
    """Pre-flight over the local view of a cluster job's paths, its memory the cluster's (errors, warnings, notes)."""
    s = get_backend(params.get("backend"), params["method"]).settings(params)
    report = preflight(Path(model), Path(out), s, memory_free=memory_free or _ram_free,
                       calib_problem=lambda name: None)  # the cluster downloads (or has) its data itself
    return report.errors, report.warnings, list(report.info.get("notes", []))
