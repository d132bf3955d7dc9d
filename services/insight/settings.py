"""A sensitivity scan's settings as its job stores them (no torch: the panel and the CLI check them)."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class ScanSettings:
    text: str = "wikitext2"
    text_field: str | None = None
    max_tokens: int = 2048
    context: int = 512
    bits: int = 4
    group_size: int = 128
    unit: str = "layer"  # layer | block
    method: str = "rtn"
    device: str = "auto"

    def problems(self) -> list[str]:
        out = []
        if self.method != "rtn":
            out.append("--method awq is not built yet for the scan: use --method rtn (round to nearest, no "
                       "calibration); AWQ's per-layer scales would need a calibration pass per layer")
        if self.unit not in ("layer", "block"):
            out.append("--unit is layer or block")
        if self.bits not in (2, 3, 4, 8):
            out.append("--bits is 2, 3, 4 or 8")
        if self.group_size < 1:
            out.append("--group-size must be 1 or more")
        if self.context < 8:
            out.append("--context must be at least 8 tokens")
        if self.max_tokens < 16:
            out.append("--max-tokens must be at least 16")
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ScanSettings:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
