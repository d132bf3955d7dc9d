"""A model folder's weight files, checked without loading them (no torch): present, whole, complete."""
from __future__ import annotations

import json
import struct
from pathlib import Path

SAFETENSORS_MAX_HEADER = 100 * 1024**2


def weight_files(model_dir: Path) -> list[Path]:
    files = sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("pytorch_model*.bin"))
    return [f for f in files if f.is_file()]


def safetensors_problem(path: Path) -> str | None:
    """None when the header parses and the tensors it lists fit in the file; else what is wrong."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                return f"{path.name} is truncated ({size} bytes)"
            n = struct.unpack("<Q", head)[0]
            if n > min(SAFETENSORS_MAX_HEADER, size - 8):
                return f"{path.name} has a damaged header"
            header = json.loads(fh.read(n))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return f"{path.name} cannot be read as safetensors ({exc})"
    if not isinstance(header, dict):
        return f"{path.name} has a damaged header"
    end = max((int(v["data_offsets"][1]) for k, v in header.items()
               if k != "__metadata__" and isinstance(v, dict) and "data_offsets" in v), default=0)
    if 8 + n + end > size:
        return (f"{path.name} is truncated: its header lists {8 + n + end:,} bytes of tensors but the file has "
                f"{size:,}")
    return None


def check_weights(model_dir: Path) -> tuple[list[str], list[str], list[Path]]:
    """(errors, warnings, weight files) of a model folder's weights, read without loading them."""
    errors: list[str] = []
    warnings: list[str] = []
    files = weight_files(model_dir)
    if not files:
        errors.append(f"no weights in {model_dir} (no *.safetensors or pytorch_model*.bin): "
                        "download the full model, not only its config")
    index = model_dir / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
            missing = sorted(x for x in shards if not (model_dir / x).is_file())
            if missing:
                errors.append(f"{len(missing)} weight shard(s) missing, e.g. {missing[0]}: the download is incomplete")
        except (ValueError, KeyError, TypeError, AttributeError):
            warnings.append("model.safetensors.index.json is unreadable")
    for f in files:
        if f.suffix == ".safetensors" and (problem := safetensors_problem(f)):
            errors.append(f"{problem}: download the model again")
    return errors, warnings, files
