"""The environment every job QuantDesk starts gets: the captured MSVC x64 tools and user overrides."""
from __future__ import annotations

import json
import os
from pathlib import Path

from services.envcheck.vcvars import apply_delta, load_msvc_env

OVERRIDES_FILE = "job_env.json"


def load_overrides(config_dir: Path) -> dict[str, str]:
    try:
        return dict(json.loads((config_dir / OVERRIDES_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def set_overrides(config_dir: Path, values: dict[str, str]) -> dict[str, str]:
    """Merge `values` into the stored overrides (an empty value removes the variable)."""
    current = load_overrides(config_dir)
    for k, v in values.items():
        if v:
            current[k] = v
        else:
            current.pop(k, None)
    (config_dir / OVERRIDES_FILE).write_text(json.dumps(current, indent=1, ensure_ascii=False), encoding="utf-8")
    return current


def job_environment(config_dir: Path, base: dict[str, str] | None = None, windows: bool | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) plus the stored MSVC delta (Windows) and overrides."""
    env = dict(os.environ if base is None else base)
    windows = os.name == "nt" if windows is None else windows
    if windows:
        env = apply_delta(env, load_msvc_env(config_dir))
    env.update(load_overrides(config_dir))
    return env
