"""AWQ settings as a job stores them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

GROUP_SIZES = (128, 64, 32)
VERSIONS = ("gemm", "gemv")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("float16", "bfloat16")


@dataclass
class AwqSettings:
    bits: int = 4
    group_size: int = 128
    zero_point: bool = True
    version: str = "gemm"
    calib: str = "pileval"
    calib_field: str | None = None
    samples: int = 128
    seqlen: int = 512
    calib_mode: str = "concat"
    seed: int = 42
    device: str = "auto"
    dtype: str = "float16"
    keep: list[str] = field(default_factory=list)  # modules left unquantized (AutoAWQ modules_to_not_convert)
    trust_remote_code: bool = False
    overwrite: bool = False

    def problems(self) -> list[str]:
        """What is wrong with the settings themselves (the model is checked in preflight)."""
        out = []
        if self.bits != 4:
            out.append("AutoAWQ quantizes to 4 bits only: use --bits 4")
        if self.group_size not in GROUP_SIZES:
            out.append(f"group size must be one of {', '.join(map(str, GROUP_SIZES))}")
        if self.version not in VERSIONS:
            out.append(f"version must be gemm or gemv, not {self.version!r}")
        if self.device not in DEVICES:
            out.append(f"device must be one of {', '.join(DEVICES)}")
        if self.dtype not in DTYPES:
            out.append(f"dtype must be one of {', '.join(DTYPES)}")
        if not 1 <= self.samples <= 4096:
            out.append("samples must be between 1 and 4096 (128 is typical)")
        if not 16 <= self.seqlen <= 32768:
            out.append("sequence length must be between 16 and 32768 (512 or 2048 are typical)")
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> AwqSettings:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def quant_config(self) -> dict:
        """AutoAWQ's quant_config for these settings."""
        cfg = {"zero_point": self.zero_point, "q_group_size": self.group_size, "w_bit": self.bits,
               "version": self.version.upper()}
        if self.keep:
            cfg["modules_to_not_convert"] = list(self.keep)
        return cfg
