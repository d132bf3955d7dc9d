"""What format a checkpoint is stored in, read from the checkpoint itself (no torch).

A folder's config.json `quantization_config` says awq (with its GEMM/GEMV version), gptq,
compressed-tensors (with its pack-quantized / int-quantized / float-quantized format) or fp8; no
quantization_config is an unquantized model; a `.gguf` file is GGUF. The planner, the evaluation
loader and the export targets ask here instead of guessing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from services.messages import msg

UNQUANTIZED, AWQ, GPTQ, COMPRESSED_TENSORS, FP8, GGUF = (
    "unquantized", "awq", "gptq", "compressed-tensors", "fp8", "gguf")


@dataclass(frozen=True)
class CheckpointFormat:
    kind: str
    weight_bits: int | None = None
    group_size: int | None = None  # None: per channel (or not applicable)
    version: str | None = None  # AWQ: gemm | gemv; compressed-tensors: its format
    dtype: str | None = None  # of the unquantized tensors
    kept: tuple[str, ...] = ()  # modules left unquantized (compressed-tensors ignore, AWQ modules_to_not_convert)

    @property
    def quantized(self) -> bool:
        return self.kind != UNQUANTIZED

    @property
    def planner_format(self) -> str:
        """The memory planner's name for these weights."""
        if self.kind in (AWQ, GPTQ) or (self.kind == COMPRESSED_TENSORS and self.weight_bits == 4):
            return "awq4"
        if self.kind == FP8 or self.version == "float-quantized":
            return "fp8"
        if self.kind == COMPRESSED_TENSORS:
            return "int8"
        return "bf16" if self.dtype == "bfloat16" else "fp16"

    def describe(self) -> str:
        if self.kind == UNQUANTIZED:
            return self.dtype or msg("unquantized")
        parts = [self.kind]
        if self.weight_bits:
            parts.append(f"W{self.weight_bits}")
        if self.group_size:
            parts.append(f"g{self.group_size}")
        if self.version:
            parts.append(self.version)
        return " ".join(parts)


def _int(value, default: int | None = None) -> int | None:
    """A positive whole number from a config value; `default` for anything else (-1 means per channel)."""
    if isinstance(value, bool):
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        return default
    exact = n == value or (isinstance(value, str) and value.strip() == str(n))
    return n if n > 0 and exact else default


def _names(value) -> tuple[str, ...]:
    return tuple(str(k) for k in value) if isinstance(value, list) else ()


def _compressed_tensors(q: dict) -> CheckpointFormat:
    bits = group = None
    groups = q.get("config_groups")
    for grp in (groups.values() if isinstance(groups, dict) else []):
        w = grp.get("weights") if isinstance(grp, dict) else None
        if isinstance(w, dict):
            bits, group = _int(w.get("num_bits")), _int(w.get("group_size"))
        break
    kept = tuple(k for k in _names(q.get("ignore")) if k != "lm_head")
    return CheckpointFormat(COMPRESSED_TENSORS, bits, group, str(q.get("format") or "") or None, kept=kept)


def format_from_config(cfg: dict) -> CheckpointFormat:
    text: dict = cfg["text_config"] if isinstance(cfg.get("text_config"), dict) else cfg
    dtype = str(text.get("torch_dtype") or text.get("dtype") or cfg.get("torch_dtype") or cfg.get("dtype")
                or "float16").replace("torch.", "")
    q = cfg.get("quantization_config")
    if not isinstance(q, dict) or not q:
        return CheckpointFormat(UNQUANTIZED, dtype=dtype)
    method = str(q.get("quant_method", "")).lower()
    if method == AWQ:
        return CheckpointFormat(AWQ, _int(q.get("bits", q.get("w_bit", 4))),
                                _int(q.get("group_size", q.get("q_group_size", 128))),
                                str(q.get("version") or "gemm").lower(), dtype, kept=_names(q.get("modules_to_not_convert")))
    if method == GPTQ:
        return CheckpointFormat(GPTQ, _int(q.get("bits", 4)), _int(q.get("group_size", 128)), None, dtype)
    if method == COMPRESSED_TENSORS:
        return _compressed_tensors(q)
    if method == FP8:
        return CheckpointFormat(FP8, 8, None, None, dtype)
    return CheckpointFormat(method or "unknown", _int(q.get("bits")), _int(q.get("group_size")), None, dtype)


def checkpoint_format(path: str | Path) -> CheckpointFormat:
    """The format of a model folder or a `.gguf` file; raises ValueError when it is neither."""
    path = Path(path)
    if path.is_file():
        with open(path, "rb") as fh:
            if fh.read(4) == b"GGUF":
                return CheckpointFormat(GGUF)
        raise ValueError(msg("{path} is a file but not a GGUF model", path=path))
    cfg_path = path / "config.json"
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ValueError(msg("cannot read {path}: {reason}", path=cfg_path, reason=exc)) from exc
    if not isinstance(cfg, dict):
        raise ValueError(msg("{path} is not a JSON object", path=cfg_path))
    return format_from_config(cfg)
