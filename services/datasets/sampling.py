"""Calibration samples from texts: one text per sample (truncated) or concatenated and cut into blocks.

The same CalibrationSpec and tokenizer always give the same token ids (a seeded shuffle), so a job
can store its spec and rebuild exactly the samples it used; `token_hash` proves it.
"""
from __future__ import annotations

import hashlib
import random
from array import array
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from services.datasets.errors import DatasetError
from services.messages import msg
from services.progress import Cancelled, ProgressFn, never_cancelled, no_progress

MODES = ("concat", "truncate")


@dataclass
class CalibrationSpec:
    source: str
    field: str | None = None
    text_split: str = "blocks"  # .txt: "blocks" (blank-line separated) or "lines"
    samples: int = 128
    seqlen: int = 512
    mode: str = "concat"
    seed: int = 42
    min_chars: int = 1
    max_texts: int = 50_000

    def validate(self) -> None:
        if self.mode not in MODES:
            raise DatasetError(msg("mode must be one of {modes}, not {mode!r}", modes=", ".join(MODES), mode=self.mode))
        if self.text_split not in ("blocks", "lines"):
            raise DatasetError(msg("text split must be 'blocks' or 'lines'"))
        if self.samples < 1 or self.seqlen < 8:
            raise DatasetError(msg("need at least 1 sample of at least 8 tokens"))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class CalibrationSet:
    ids: list[list[int]]
    samples_available: int
    total_tokens: int
    token_lengths: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def token_hash(self) -> str:
        return token_hash(self.ids)


def token_hash(ids: list[list[int]]) -> str:
    h = hashlib.sha256()
    for sample in ids:
        h.update(array("i", sample).tobytes())
        h.update(b"\xff\xff\xff\xff")
    return h.hexdigest()


def tokenize_all(texts: list[str], tokenizer, progress: ProgressFn = no_progress,
                 cancelled: Callable[[], bool] = never_cancelled, batch: int = 256) -> list[list[int]]:
    out: list[list[int]] = []
    for i in range(0, len(texts), batch):
        if cancelled():
            raise Cancelled()
        enc = tokenizer(texts[i:i + batch], add_special_tokens=False)["input_ids"]
        out.extend(enc)
        progress(min(i + batch, len(texts)), len(texts), msg("tokenizing"))
    return out


def build_samples(texts: list[str], tokenizer, spec: CalibrationSpec, progress: ProgressFn = no_progress,
                  cancelled: Callable[[], bool] = never_cancelled) -> CalibrationSet:
    """Tokenize `texts` and cut them into `spec.samples` samples of `spec.seqlen` tokens."""
    spec.validate()
    order = list(range(len(texts)))
    random.Random(spec.seed).shuffle(order)
    token_lists = tokenize_all([texts[i] for i in order], tokenizer, progress, cancelled)
    lengths = [len(t) for t in token_lists]
    total = sum(lengths)
    warnings: list[str] = []
    if spec.mode == "concat":
        eos = tokenizer.eos_token_id
        stream: list[int] = []
        for t in token_lists:
            stream.extend(t)
            if eos is not None:
                stream.append(eos)
        available = len(stream) // spec.seqlen
        ids = [stream[i * spec.seqlen:(i + 1) * spec.seqlen] for i in range(min(available, spec.samples))]
    else:
        long_enough = [t for t in token_lists if len(t) >= spec.seqlen]
        available = len(long_enough)
        ids = [t[:spec.seqlen] for t in long_enough[:spec.samples]]
    if available == 0:
        hint = (msg("lower --seqlen or add text") if spec.mode == "concat" else
                msg("use --mode concat, lower --seqlen, or pick longer texts"))
        longest = max(lengths, default=0)
        raise DatasetError(msg("fewer tokens than one sample: {total:,} tokens in all (longest text {longest:,}) for "
                               "samples of {seqlen} tokens; {hint}", total=total, longest=longest, seqlen=spec.seqlen,
                               hint=hint))
    if available < spec.samples:
        warnings.append(msg("the source gives only {available} samples of {seqlen} tokens ({samples} requested)",
                            available=available, seqlen=spec.seqlen, samples=spec.samples))
    return CalibrationSet(ids, available, total, lengths, warnings)
