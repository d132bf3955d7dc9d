"""Evaluation settings as a job stores them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from services.evaluate.precision import settings_problems
from services.messages import msg

# KV-cache policies QuantDesk simulates (services/evaluate/kvquant.py applies them)
KV_POLICIES = ("fp16", "int8", "int4", "fp8", "fp8_e4m3", "fp8_e5m2")


@dataclass
class EvalSettings:
    baseline: str | None = None  # model folder to compare against (default: the model itself with fp16 KV)
    also: list[str] = field(default_factory=list)  # more candidate model folders, after the job's model
    kv: list[str] = field(default_factory=lambda: ["fp16"])
    text: str = "wikitext2"
    text_field: str | None = None
    max_tokens: int = 16384
    context: int = 512
    stride: int | None = None
    prompts: str | None = None  # a prompts file; None: the project's English and Chinese set
    answers: bool = True
    max_new_tokens: int = 32
    device: str = "auto"
    # simulated precisions of the job's model (services/evaluate/precision.py), each at each group size
    precision: list[str] = field(default_factory=list)
    group_size: list[int] = field(default_factory=lambda: [128])

    def problems(self) -> list[str]:
        out = [f"unknown KV policy {k!r}; choose from {', '.join(KV_POLICIES)}" for k in self.kv if k not in KV_POLICIES]
        out += settings_problems(self.precision, self.group_size)
        if self.context < 8:
            out.append(msg("--context must be at least 8 tokens"))
        if self.stride is not None and not 1 <= self.stride <= self.context:
            out.append(msg("--stride must be between 1 and --context"))
        if self.max_tokens < 16:
            out.append(msg("--max-tokens must be at least 16"))
        if not 1 <= self.max_new_tokens <= 1024:
            out.append(msg("answers need 1 to 1024 new tokens"))
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> EvalSettings:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
