"""GPUs a user can name instead of a memory size: memory and compute capability (what the kernels need)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from services.messages import msg


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_gib: float
    sm: int | None  # compute capability as 75, 80, 89, 90...; None: not known

    def describe(self) -> str:
        return f"{self.name} ({self.memory_gib:g} GiB" + (f", sm{self.sm})" if self.sm else ")")


# (pattern, name, GiB, sm): first match wins, so the more specific names come first
KNOWN: tuple[tuple[str, str, float, int], ...] = (
    (r"h200", "H200", 141, 90), (r"h100.*(nvl|94)", "H100 NVL", 94, 90), (r"h100|h800", "H100", 80, 90),
    (r"a[18]00.*40", "A100 40GB", 40, 80), (r"a100|a800", "A100 80GB", 80, 80), (r"l40s?", "L40S", 48, 89),
    (r"l20", "L20", 48, 89), (r"\bl4\b", "L4", 24, 89), (r"a10g", "A10G", 24, 86), (r"\ba10\b", "A10", 24, 86),
    (r"a6000", "RTX A6000", 48, 86), (r"6000 ada", "RTX 6000 Ada", 48, 89), (r"t4", "T4", 16, 75),
    (r"v100.*32", "V100 32GB", 32, 70), (r"v100", "V100 16GB", 16, 70),
    (r"5090", "RTX 5090", 32, 120), (r"5080", "RTX 5080", 16, 120), (r"4090", "RTX 4090", 24, 89),
    (r"4080", "RTX 4080", 16, 89), (r"4070 ti super", "RTX 4070 Ti SUPER", 16, 89), (r"4070", "RTX 4070", 12, 89),
    (r"4060 ti.*16", "RTX 4060 Ti 16GB", 16, 89), (r"4060", "RTX 4060", 8, 89), (r"3090", "RTX 3090", 24, 86),
    (r"3080.*12", "RTX 3080 12GB", 12, 86), (r"3080", "RTX 3080", 10, 86), (r"3060", "RTX 3060", 12, 86),
    (r"2080 ti", "RTX 2080 Ti", 11, 75),
)


def gpu_names() -> list[str]:
    return [name for _, name, _, _ in KNOWN]


def find_gpu(name: str) -> Gpu:
    """A GPU by a name such as "4090", "RTX 4090" or "A100 40GB"; ValueError listing the names known."""
    text = name.strip().lower().replace("-", " ").replace("_", " ")
    for pattern, known, gib, sm in KNOWN:
        if text and re.search(pattern, text):
            return Gpu(known, gib, sm)
    raise ValueError(msg("unknown GPU {name!r}: pass --gpu-mem GIB instead, or one of {names}", name=name,
                         names=", ".join(gpu_names())))


def resolve_gpu(name: str | None, memory_gib: float | None, detected: Gpu | None = None) -> Gpu | None:
    """The GPU to plan for: --gpu-mem overrides the named (or detected) GPU's memory; None when nothing is known."""
    base = find_gpu(name) if name else detected
    if memory_gib is not None:
        if not memory_gib > 0 or memory_gib != memory_gib or memory_gib == float("inf"):
            raise ValueError(msg("--gpu-mem must be a positive number of GiB, not {value}", value=memory_gib))
        return Gpu(base.name if base else f"{memory_gib:g} GiB GPU", memory_gib, base.sm if base else None)
    return base
