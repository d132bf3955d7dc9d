"""The user's settings: one typed model saved as JSON in the config dir, with a schema version."""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from services.paths import user_dirs

log = logging.getLogger("quantdesk.settings")

SCHEMA_VERSION = 1
LANGUAGES = ("en", "zh_CN")
THEMES = ("system", "light", "dark")


@dataclass
class Settings:
    language: str = "en"
    output_dir: str = ""
    job_concurrency: int = 1
    theme: str = "system"  # "system" follows the desktop's light or dark scheme
    last_panel: str = "overview"  # the main window falls back when the id is unknown
    window_geometry: str = ""  # base64 of QMainWindow.saveGeometry()
    window_state: str = ""
    recent: dict = field(default_factory=dict)  # e.g. {"datasets": [...], "models": [...]}

    def validate(self) -> dict[str, str]:
        """Return {field: what to change} for each invalid field (empty when all is well)."""
        errors = {}
        if self.language not in LANGUAGES:
            errors["language"] = f"language must be one of {', '.join(LANGUAGES)}, not {self.language!r}"
        if self.theme not in THEMES:
            errors["theme"] = f"theme must be one of {', '.join(THEMES)}, not {self.theme!r}"
        if not isinstance(self.job_concurrency, int) or not 1 <= self.job_concurrency <= 16:
            errors["job_concurrency"] = "job concurrency must be a whole number from 1 to 16"
        return errors


def settings_path() -> Path:
    return user_dirs().config / "settings.json"


def _migrate(raw: dict) -> dict:
    """Bring an older settings document up to SCHEMA_VERSION."""
    version = raw.pop("schema_version", 0)
    if version < 1:
        raw.setdefault("job_concurrency", 1)
    return raw


def load_settings(path: Path | None = None) -> Settings:
    """Read settings; a missing or broken file gives defaults (and a warning), never an exception."""
    path = path or settings_path()
    if not path.exists():
        return Settings()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError(f"a JSON {type(raw).__name__}, not an object")
        raw = _migrate(raw)
    except (OSError, ValueError) as exc:
        log.warning("settings file %s unreadable (%s); using defaults", path, exc)
        return Settings()
    known = {f.name for f in fields(Settings)}
    s = Settings(**{k: v for k, v in raw.items() if k in known})
    s.recent = _clean_recent(s.recent)
    defaults = Settings()
    for name, problem in s.validate().items():
        log.warning("settings: %s; using the default", problem)
        setattr(s, name, getattr(defaults, name))
    return s


def _clean_recent(recent: object) -> dict:
    """{list name: [paths]} with everything else dropped (a hand-edited file must not break a panel)."""
    if not isinstance(recent, dict):
        log.warning("settings: recent is a JSON %s, not an object; starting it empty", type(recent).__name__)
        return {}
    clean = {k: [p for p in v if isinstance(p, str) and p] for k, v in recent.items()
             if isinstance(k, str) and isinstance(v, list)}
    if clean != recent:
        log.warning("settings: entries of the wrong type in recent were dropped")
    return clean


def save_settings(s: Settings, path: Path | None = None) -> Path:
    """Write settings atomically (temp file, then rename)."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"schema_version": SCHEMA_VERSION, **asdict(s)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return path


def default_output_dir(s: Settings) -> Path:
    """Where outputs go when the user names no folder."""
    return Path(s.output_dir) if s.output_dir else Path.home() / "QuantDesk"
