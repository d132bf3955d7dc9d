"""The environment every job QuantDesk starts gets: the captured MSVC x64 tools and user overrides."""
from __future__ import annotations

import json
import os
from pathlib import Path

from services.envcheck.vcvars import apply_delta, load_msvc_env
from services.messages import msg

OVERRIDES_FILE = "job_env.json"


def load_overrides(config_dir: Path) -> dict[str, str]:
    """The user's job variables; ValueError naming the file when it is not a JSON object of strings."""
    path = config_dir / OVERRIDES_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ValueError(msg("{path} is unreadable ({error}): fix it or delete it", path=path, error=exc)) from exc
    if not isinstance(data, dict):
        raise ValueError(msg("{path} must hold a JSON object of NAME: \"value\" pairs, not a {type}", path=path,
                             type=type(data).__name__))
    bad = sorted(str(k) for k, v in data.items() if not isinstance(v, str) or "\0" in v)
    if bad:
        raise ValueError(msg("the job environment has non-text values for {names}: fix them in {path} (every value "
                             "must be a string)", names=", ".join(bad), path=path))
    return data


def set_overrides(config_dir: Path, values: dict[str, str]) -> dict[str, str]:
    """Merge `values` into the stored overrides (an empty value removes the variable)."""
    try:
        current = load_overrides(config_dir)
    except ValueError:
        current = {}  # replaced by what the user sets now
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
