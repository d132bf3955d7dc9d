"""The preview of a calibration source: what was read, statistics, and the samples a job would use.

Runs where the ML stack may be imported (the CLI or the job runner), never in the GUI process.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from services.datasets.errors import DatasetError
from services.datasets.readers import plain_chat
from services.datasets.sampling import CalibrationSpec, build_samples
from services.datasets.source import collect_texts
from services.datasets.stats import cjk_share, histogram, quantiles
from services.messages import msg
from services.progress import ProgressFn, never_cancelled, no_progress


def load_tokenizer(folder: str | Path):
    """A transformers tokenizer from a local folder; DatasetError when there is none."""
    path = Path(folder)
    if not path.is_dir():
        raise DatasetError(msg("tokenizer folder not found: {folder}", folder=folder))
    if not any((path / f).exists() for f in ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")):
        raise DatasetError(msg("{folder} has no tokenizer files (tokenizer.json, tokenizer.model or vocab.json)",
                               folder=folder))
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path))
    except Exception as exc:
        raise DatasetError(msg("could not load the tokenizer in {folder}: {error}", folder=folder, error=exc)) from exc


def chat_renderer(tokenizer):
    """Render chat `messages` with the model's chat template when it has one."""
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        return plain_chat

    def render(messages: list) -> str:
        try:
            return tokenizer.apply_chat_template(messages, tokenize=False)
        except Exception:
            return plain_chat(messages)

    return render


def preview(spec: CalibrationSpec, tokenizer_dir: str | None = None, first_n: int = 5,
            progress: ProgressFn = no_progress, cancelled: Callable[[], bool] = never_cancelled) -> dict:
    """Read, measure and (with a tokenizer) sample `spec.source`; return a JSON-ready dict."""
    spec.validate()
    started = time.monotonic()
    tokenizer = load_tokenizer(tokenizer_dir) if tokenizer_dir else None
    texts, info, limited = collect_texts(spec.source, spec.field, spec.text_split, spec.min_chars, spec.max_texts,
                                         chat=chat_renderer(tokenizer), progress=progress, cancelled=cancelled)
    out: dict = {
        "source": spec.source,
        "encoding": info.encoding,
        "field": info.field or None,
        "files": info.files,
        "texts": len(texts),
        "chars": sum(len(t) for t in texts),
        "stopped_at_limit": limited,
        "cjk_share": round(cjk_share(texts), 4),
        "first_texts": [t[:500] for t in texts[:first_n]],
        "settings": spec.to_dict(),
        "tokens": None,
        "samples_available": None,
        "samples": 0,
        "token_hash": None,
        "warnings": [],
    }
    if limited:
        out["warnings"].append(msg("read the first {count:,} texts only (enough for calibration)", count=len(texts)))
    if tokenizer is not None:
        cal = build_samples(texts, tokenizer, spec, progress, cancelled)
        lengths = cal.token_lengths
        out["tokens"] = {
            "total": cal.total_tokens,
            "quantiles": quantiles(lengths),
            "histogram": histogram(lengths),
            "shorter_than_seqlen": round(sum(n < spec.seqlen for n in lengths) / len(lengths), 4),
        }
        out["samples_available"] = cal.samples_available
        out["samples"] = len(cal.ids)
        out["token_hash"] = cal.token_hash
        out["first_sample"] = tokenizer.decode(cal.ids[0])[:500]
        out["warnings"] += cal.warnings
    out["seconds"] = round(time.monotonic() - started, 3)
    return out
