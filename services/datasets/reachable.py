"""Whether the hub's named datasets can be read now (offline mode, an unreachable hub, the local cache),
without importing `datasets`: pre-flight asks this in the GUI process."""
from __future__ import annotations

import os
import urllib.request
from pathlib import Path

from services.datasets.catalog import CATALOG, NamedDataset
from services.messages import msg

REACH_TIMEOUT_S = 5.0


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def offline_requested() -> bool:
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def hub_unreachable(timeout: float = REACH_TIMEOUT_S) -> str:
    """"" when the hub answers within `timeout`, else the reason."""
    try:
        with urllib.request.urlopen(urllib.request.Request(hub_endpoint(), method="HEAD"), timeout=timeout):
            return ""
    except Exception as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"


def cached(d: NamedDataset) -> bool:
    """True when a copy of `d` is in the local Hugging Face cache (hub files or a prepared dataset)."""
    home = Path(os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface")
    hub = Path(os.environ.get("HF_HUB_CACHE") or home / "hub")
    prepared = Path(os.environ.get("HF_DATASETS_CACHE") or home / "datasets")
    return (hub / f"datasets--{d.hub_id.replace('/', '--')}").is_dir() or \
        (prepared / d.hub_id.replace("/", "___")).is_dir()


def named_source_problem(name: str, unreachable=None) -> str | None:
    """Why the named dataset cannot be read now (offline and not cached), or None; checked before a job
    starts so it does not fail after loading the model. `unreachable` replaces the hub probe in tests."""
    d = CATALOG.get(name.strip().lower())
    if d is None or cached(d):
        return None
    offline = offline_requested()
    reason = msg("offline mode is on (HF_HUB_OFFLINE)") if offline else \
        (unreachable or (lambda: hub_unreachable(timeout=2.0)))()
    if not reason:
        return None
    if not offline and not reason.startswith("offline"):
        reason = msg("the hub {endpoint} cannot be reached ({reason})", endpoint=hub_endpoint(), reason=reason)
    return msg("calibration dataset {name} cannot be read: {reason} and it is not in the local cache; {fallbacks}",
               name=d.name, reason=reason, fallbacks=fallbacks(d))


def cached_names() -> list[str]:
    """The named datasets this machine has in its cache (offline fallbacks)."""
    return [n for n, d in CATALOG.items() if cached(d)]


def fallbacks(d: NamedDataset) -> str:
    text = msg("use a local .txt/.jsonl/.parquet/.csv file or folder, a folder saved with save_to_disk, or set "
               "HF_ENDPOINT to a mirror")
    return text + ("; " + msg("ModelScope: {name}", name=d.modelscope) if d.modelscope else "")
