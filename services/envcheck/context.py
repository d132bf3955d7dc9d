"""What checks need besides the probe: the output folder and what QuantDesk has stored."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

TESTED_TRANSFORMERS = "5.17"
TESTED_AUTOAWQ = "0.2.9"


@dataclass(frozen=True)
class CheckContext:
    output_dir: str
    msvc_env: dict | None = None  # the captured vcvars64 environment, when stored


def join(system: str, *parts: str) -> str:
    """Join path parts with the target system's rules (Windows paths on a Linux test box too)."""
    cls = PureWindowsPath if system == "windows" else PurePosixPath
    return str(cls(*parts))


def version_tuple(text: str | None) -> tuple[int, ...]:
    """"12.4.1" -> (12, 4, 1); "2.13.0+cu128" -> (2, 13, 0); junk -> ()."""
    out = []
    for part in (text or "").split("+")[0].split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)
