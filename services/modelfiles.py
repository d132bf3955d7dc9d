"""A model folder's weight files, checked without loading them (no torch): present, whole, complete."""
from __future__ import annotations

import json
import struct
from pathlib import Path

from services.messages import msg

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
                return msg("{name} is truncated ({size} bytes)", name=path.name, size=size)
            n = struct.unpack("<Q", head)[0]
            if n > min(SAFETENSORS_MAX_HEADER, size - 8):
                return msg("{name} has a damaged header", name=path.name)
            header = json.loads(fh.read(n))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return msg("{name} cannot be read as safetensors ({reason})", name=path.name, reason=exc)
    if not isinstance(header, dict):
        return msg("{name} has a damaged header", name=path.name)
    end = max((int(v["data_offsets"][1]) for k, v in header.items()
               if k != "__metadata__" and isinstance(v, dict) and "data_offsets" in v), default=0)
    if 8 + n + end > size:
        return msg("{name} is truncated: its header lists {listed:,} bytes of tensors but the file has {size:,}",
                   name=path.name, listed=8 + n + end, size=size)
    return None


def check_weights(model_dir: Path) -> tuple[list[str], list[str], list[Path]]:
    """(errors, warnings, weight files) of a model folder's weights, read without loading them."""
    errors: list[str] = []
    warnings: list[str] = []
    files = weight_files(model_dir)
    if not files:
        errors.append(msg("no weights in {path} (no *.safetensors or pytorch_model*.bin): "
                          "download the full model, not only its config", path=model_dir))
    index = model_dir / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
            missing = sorted(x for x in shards if not (model_dir / x).is_file())
            if missing:
                errors.append(msg("{count} weight shard(s) missing, e.g. {name}: the download is incomplete",
                                  count=len(missing), name=missing[0]))
        except (ValueError, KeyError, TypeError, AttributeError):
            warnings.append(msg("model.safetensors.index.json is unreadable"))
    for f in files:
        if f.suffix == ".safetensors" and (problem := safetensors_problem(f)):
            errors.append(msg("{problem}: download the model again", problem=problem))
    return errors, warnings, files
