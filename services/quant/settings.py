"""Quantization settings every backend shares (calibration, device, output); a backend's own
settings extend `QuantSettings` (e.g. services/quant/backends/autoawq.py's AwqSettings)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TypeVar

from services.messages import msg

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("float16", "bfloat16")
CALIB_MODES = ("concat", "truncate")

S = TypeVar("S", bound="QuantSettings")


@dataclass
class QuantSettings:
    method: str = "awq"
    backend: str = "autoawq"
    calib: str = "pileval"
    calib_field: str | None = None
    samples: int = 128
    seqlen: int = 512
    calib_mode: str = "concat"
    seed: int = 42
    device: str = "auto"
    dtype: str = "float16"
    keep: list[str] = field(default_factory=list)  # modules left unquantized
    trust_remote_code: bool = False
    overwrite: bool = False  # replace an earlier QuantDesk output at --out
    force: bool = False  # ... even one that is not a QuantDesk output (the user confirmed)

    def problems(self) -> list[str]:
        """What is wrong with the settings themselves (the model is checked in preflight)."""
        out = []
        if self.device not in DEVICES:
            out.append(msg("device must be one of {choices}", choices=", ".join(DEVICES)))
        if self.dtype not in DTYPES:
            out.append(msg("dtype must be one of {choices}", choices=", ".join(DTYPES)))
        if self.calib_mode not in CALIB_MODES:
            out.append(msg("calibration mode must be one of {choices}", choices=", ".join(CALIB_MODES)))
        if not isinstance(self.samples, int) or not 1 <= self.samples <= 4096:
            out.append(msg("samples must be between 1 and 4096 (128 is typical)"))
        if not isinstance(self.seqlen, int) or not 16 <= self.seqlen <= 32768:
            out.append(msg("sequence length must be between 16 and 32768 (512 or 2048 are typical)"))
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls: type[S], d: dict) -> S:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
