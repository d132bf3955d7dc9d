"""Per-user folders (platformdirs); QUANTDESK_HOME overrides them all (tests, portable installs)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "QuantDesk"


@dataclass(frozen=True)
class UserDirs:
    config: Path
    data: Path
    logs: Path
    cache: Path

    def ensure(self) -> UserDirs:
        for p in (self.config, self.data, self.logs, self.cache):
            p.mkdir(parents=True, exist_ok=True)
        return self


def user_dirs() -> UserDirs:
    """Return the per-user folders, created on first use."""
    home = os.environ.get("QUANTDESK_HOME")
    if home:
        root = Path(home)
        dirs = UserDirs(root / "config", root / "data", root / "logs", root / "cache")
    else:
        dirs = UserDirs(
            Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        )
    return dirs.ensure()
