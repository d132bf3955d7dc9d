"""What `save_quantized` leaves out: tokenizer, chat template, generation and processor configs,
and `quantdesk.json`, the record of how the model was made."""
from __future__ import annotations

import hashlib
import json
import platform
import shutil
import time
from pathlib import Path

SIDE_FILES = (
    "tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json", "added_tokens.json",
    "vocab.json", "vocab.txt", "merges.txt", "spiece.model", "qwen.tiktoken", "chat_template.jinja",
    "chat_template.json", "generation_config.json", "preprocessor_config.json", "processor_config.json",
    "video_preprocessor_config.json", "tokenization_*.py", "LICENSE*", "README.md",
)


def copy_side_files(src: Path, dst: Path) -> list[str]:
    """Copy tokenizer, chat template, generation and processor files; return their names."""
    copied = []
    for pattern in SIDE_FILES:
        for f in sorted(src.glob(pattern)):
            if f.is_file():
                shutil.copy2(f, dst / f.name)
                copied.append(f.name)
    return copied


def restore_config_fields(src: Path, dst: Path, fields=("use_cache",)) -> None:
    """Put back config fields AutoAWQ changed for quantizing (it loads with use_cache=False and saves that)."""
    source = json.loads((src / "config.json").read_text(encoding="utf-8-sig"))
    path = dst / "config.json"
    cfg = json.loads(path.read_text(encoding="utf-8"))
    text = cfg.get("text_config") if isinstance(cfg.get("text_config"), dict) else cfg
    for name in fields:
        text[name] = source.get(name, (source.get("text_config") or {}).get(name, True))
    path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def folder_hash(folder: Path, patterns=("config.json", "*.safetensors", "pytorch_model*.bin")) -> str:
    """sha256 over the config and weight files (names and contents, in name order)."""
    h = hashlib.sha256()
    files = sorted({f for p in patterns for f in folder.glob(p) if f.is_file()})
    for f in files:
        h.update(f.name.encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
    return h.hexdigest()


def folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def versions() -> dict:
    import importlib.metadata as md

    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("torch", "transformers", "autoawq", "llmcompressor", "compressed-tensors", "accelerate", "quantdesk"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = None
    try:
        import torch

        out["cuda"] = torch.version.cuda
    except ImportError:
        pass
    return out


def write_record(folder: Path, record: dict) -> Path:
    path = folder / "quantdesk.json"
    path.write_text(json.dumps({"written": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **record}, indent=2,
                               ensure_ascii=False), encoding="utf-8")
    return path
