"""Read a .gguf back and compare it with the model it came from (job runner and tests: torch, transformers).

The comparison loads the GGUF through transformers' GGUF loader, which dequantizes every tensor to
float32: it checks the file's contents and metadata, not llama.cpp's kernels.
"""
from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.messages import msg

SAMPLE_TEXT = ("Return a new list of the items, sorted by key (default: ascending).\n"
               "If the file does not exist, raise FileNotFoundError; otherwise 1234 bytes are read.\n")


def _field(reader: Any, key: str) -> Any:
    f = reader.fields.get(key)
    return None if f is None else f.contents()


def read_back(path: Path) -> dict:
    """{"tensor_count", "tensors": {name: (shape rows-first, type name)}, "metadata": {...}, "bytes"}."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    arch = _field(reader, "general.architecture")
    tokens = _field(reader, "tokenizer.ggml.tokens") or []
    meta = {"arch": arch, "name": _field(reader, "general.name"), "file_type": _field(reader, "general.file_type"),
            "block_count": _field(reader, f"{arch}.block_count"),
            "context_length": _field(reader, f"{arch}.context_length"),
            "embedding_length": _field(reader, f"{arch}.embedding_length"),
            "head_count": _field(reader, f"{arch}.attention.head_count"),
            "head_count_kv": _field(reader, f"{arch}.attention.head_count_kv"),
            "vocab_size": _field(reader, f"{arch}.vocab_size") or len(tokens), "tokens": len(tokens),
            "tokenizer_model": _field(reader, "tokenizer.ggml.model"),
            "tokenizer_pre": _field(reader, "tokenizer.ggml.pre"),
            "bos_token_id": _field(reader, "tokenizer.ggml.bos_token_id"),
            "eos_token_id": _field(reader, "tokenizer.ggml.eos_token_id"),
            "chat_template": bool(_field(reader, "tokenizer.chat_template"))}
    tensors = {t.name: (tuple(int(d) for d in reversed(t.shape)), t.tensor_type.name) for t in reader.tensors}
    return {"tensor_count": len(tensors), "tensors": tensors, "metadata": meta, "bytes": Path(path).stat().st_size}


@contextlib.contextmanager
def _alone(gguf_file: Path) -> Iterator[Path]:
    """A folder holding only the GGUF: transformers prefers a tokenizer.json or config.json beside it."""
    with tempfile.TemporaryDirectory(prefix="qd-gguf-", ignore_cleanup_errors=True) as tmp:
        target = Path(tmp) / "model.gguf"
        try:
            os.link(gguf_file, target)
        except OSError:  # another volume, or no hard links
            shutil.copy2(gguf_file, target)
        yield target


def _scores(src: Any, other: Any, ids: list[int], context: int) -> dict:
    """Logits error, top-1 agreement and both perplexities over non-overlapping windows of `ids`."""
    import torch
    import torch.nn.functional as F

    from services.evaluate.perplexity import windows

    diff = ref = 0.0
    agree = count = 0
    nll = [0.0, 0.0]
    for b, e, first in windows(len(ids), context):
        x = torch.tensor([ids[b:e]])
        with torch.no_grad():
            a, o = (m(x, use_cache=False).logits[0].float() for m in (src, other))
        diff += float((a - o).pow(2).sum())
        ref += float(a.pow(2).sum())
        agree += int((a.argmax(-1) == o.argmax(-1)).sum())
        count += a.shape[0]
        target = x[0, first:]
        for k, logits in enumerate((a, o)):
            nll[k] -= float(F.log_softmax(logits[first - 1:-1], -1).gather(1, target.unsqueeze(1)).sum())
    scored = sum(e - b - first for b, e, first in windows(len(ids), context))
    ppl = [math.exp(v / scored) for v in nll]
    return {"tokens": len(ids), "logits_rel_error": math.sqrt(diff / ref) if ref else float("nan"),
            "top1_agreement": agree / count, "source_perplexity": ppl[0], "gguf_perplexity": ppl[1],
            "perplexity_ratio": ppl[1] / ppl[0]}


def compare_with_source(model_dir: Path, gguf_file: Path, token_ids: list[int] | None = None,
                        text: str | None = None, context: int = 256) -> dict:
    """Source (float32) against the GGUF as transformers loads it, on `token_ids` (or `text` tokenized by the
    source tokenizer): logits_rel_error (||a-b|| / ||a||), top1_agreement, both perplexities and their ratio;
    tokenizer_matches (the GGUF's tokenizer encodes a sample as the source does, special tokens aside) and
    chat_template_matches. Holds both models in float32 memory at once."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src_tok = AutoTokenizer.from_pretrained(str(model_dir))
    sample = text or SAMPLE_TEXT
    ids = token_ids or src_tok.encode(sample, add_special_tokens=False)
    if len(ids) < 2:
        raise ValueError(msg("need at least 2 tokens to compare"))
    with _alone(Path(gguf_file)) as alone:
        gg_tok = AutoTokenizer.from_pretrained(str(alone.parent), gguf_file=alone.name)
        other = AutoModelForCausalLM.from_pretrained(str(alone.parent), gguf_file=alone.name, dtype=torch.float32)
    src = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    out = _scores(src.eval(), other.eval(), list(ids), context)
    out["tokenizer_matches"] = (gg_tok.encode(sample, add_special_tokens=False)
                                == src_tok.encode(sample, add_special_tokens=False))
    out["chat_template_matches"] = (gg_tok.chat_template or None) == (src_tok.chat_template or None)
    return out
