"""Everything about an export that can be known before its job starts (no torch): the input folder,
the settings, the GPU to size for, the target's rules and the output path."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.checkpoint import format_from_config
from services.jobs.outputs import check_output
from services.messages import msg
from services.modelfiles import check_weights
from services.modelinfo import ModelConfigError, read_config, shape_from_config
from services.targets.base import Target, TargetInput
from services.targets.gpus import Gpu, resolve_gpu
from services.targets.registry import get_target


@dataclass
class ExportCheck:
    params: dict[str, Any] = field(default_factory=dict)
    gpu: Gpu | None = None
    source: TargetInput | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def export_params(target: Target, raw: dict) -> tuple[dict, list[str]]:
    """The target's settings from `raw` (defaults filled, types and ranges checked); (params, errors)."""
    params: dict[str, Any] = {"target": target.name}
    errors = []
    names = {s.name for s in target.schema}
    for key, value in raw.items():
        if key not in names and key not in ("target", "source_of") and value is not None:
            errors.append(msg("--{flag} does not apply to the {target} target", flag=key.replace("_", "-"),
                              target=target.name))
    for s in target.schema:
        try:
            params[s.name] = s.coerce(raw.get(s.name, s.default)) if raw.get(s.name) is not None else s.default
        except ValueError as exc:
            errors.append(str(exc))
            continue
        lo_hi = s.bounds
        if lo_hi and params[s.name] is not None and not lo_hi[0] <= params[s.name] <= lo_hi[1]:
            lo, hi = (int(b) for b in lo_hi) if s.type is int else lo_hi
            errors.append(msg("{flag} must be between {lo} and {hi}, not {value}", flag=s.flag, lo=lo, hi=hi,
                              value=params[s.name]))
    if raw.get("source_of"):
        params["source_of"] = raw["source_of"]
    return params, errors


def read_input(model: Path) -> TargetInput:
    """The checkpoint's config, format and shape; ValueError saying what is wrong with the folder."""
    if not model.is_absolute():
        raise ValueError(msg("model path {path} is relative: give a full path", path=model))
    if not model.is_dir():
        raise ValueError(msg("{path} is not a folder: give the model folder (with config.json)", path=model))
    try:
        cfg = read_config(model)
        shape = shape_from_config(cfg)
    except ModelConfigError as exc:
        raise ValueError(str(exc)) from exc
    errors, _, _ = check_weights(model)
    if errors:
        raise ValueError("; ".join(errors))
    return TargetInput(model, cfg, format_from_config(cfg), shape)


def detected_gpu() -> Gpu | None:
    """The first NVIDIA GPU NVML sees, or None."""
    from services.telemetry.gpu import NvmlReader

    reader = NvmlReader()
    gpus = reader.devices() if reader.available else []
    if not gpus:
        return None
    g = gpus[0]
    cc = g.compute_capability
    return Gpu(g.name, round(g.memory_total / 1024**3, 1), cc[0] * 10 + cc[1] if cc else None)


def check_export(model: str | Path, out: str | Path, target_name: str, raw: dict, *, overwrite: bool = False,
                 force: bool = False, detect=detected_gpu) -> ExportCheck:
    return check_target(model, target_name, raw, detect=detect,
                        output=lambda: check_output(out, [model], overwrite=overwrite, force=force))


def check_target(model: str | Path, target_name: str, raw: dict, *, detect=detected_gpu,
                 output=None) -> ExportCheck:
    """The target's verdict on `model` with `raw` settings (and `output()`'s, when given); the serve job
    uses it to rebuild an engine's command for the GPU it runs on."""
    r = ExportCheck()
    try:
        target = get_target(target_name)
    except ValueError as exc:
        r.errors.append(str(exc))
        return r
    r.params, r.errors = export_params(target, raw)
    try:
        r.source = read_input(Path(model))
    except ValueError as exc:
        r.errors.append(str(exc))
    if output is not None:
        out_check = output()
        r.errors += out_check.errors
        r.warnings += out_check.warnings
    if r.source is None or any(s.name not in r.params for s in target.schema):
        return r  # a setting that did not parse: the target's rules need them all
    if any(s.name == "gpu" for s in target.schema):
        try:
            explicit = r.params.get("gpu") is not None or r.params.get("gpu_mem") is not None
            r.gpu = resolve_gpu(r.params.get("gpu"), r.params.get("gpu_mem"), None if explicit else detect())
        except ValueError as exc:
            r.errors.append(str(exc))
            return r
        if r.gpu is not None:
            sizes = any(s.name == "gpu_mem" for s in target.schema)  # script-only targets only take advice from it
            gpu = r.gpu.describe()
            r.notes.append((msg("sized for {gpu}", gpu=gpu) if sizes else msg("planned for {gpu}", gpu=gpu)) if explicit
                           else (msg("sized for {gpu} (detected)", gpu=gpu) if sizes
                                 else msg("planned for {gpu} (detected)", gpu=gpu)))
    v = target.check(r.source, r.params, r.gpu)
    r.errors += v.errors
    r.warnings += v.warnings
    r.notes += v.notes
    r.info.update(v.info)
    return r
