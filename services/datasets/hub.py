"""Load a named dataset with the `datasets` library, offline-aware and with bounded waiting.

When the hub cannot be reached (offline, firewall, HF_HUB_OFFLINE=1) this says so in one line and
names the fallbacks: the local HF cache, a local file, a mirror (HF_ENDPOINT) or ModelScope.
Runs in a child process (the CLI or the job runner): it imports `datasets`.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from services.datasets.catalog import CATALOG
from services.datasets.errors import DatasetError
from services.datasets.reachable import fallbacks, hub_endpoint, hub_unreachable, offline_requested
from services.datasets.readers import TEXT_FIELDS, ReadInfo
from services.messages import msg


def _go_offline(datasets) -> None:
    """Make huggingface_hub and datasets use the cache only (no retries against an unreachable hub).

    They read HF_HUB_OFFLINE when imported, so the flags are set on the modules too.
    """
    import huggingface_hub.constants as hub_constants

    os.environ["HF_HUB_OFFLINE"] = os.environ["HF_DATASETS_OFFLINE"] = "1"
    hub_constants.HF_HUB_OFFLINE = True
    datasets.config.HF_HUB_OFFLINE = datasets.config.HF_DATASETS_OFFLINE = True


def iter_named(name: str, info: ReadInfo) -> Iterator[str]:
    """Texts of a named dataset (streamed when online, from the cache when offline)."""
    d = CATALOG.get(name)
    if d is None:
        raise DatasetError(msg("unknown dataset {name!r}; names: {names} (or a local path)", name=name,
                               names=", ".join(CATALOG)))
    reason = msg("offline mode is on (HF_HUB_OFFLINE)") if offline_requested() else ""
    if not reason:
        unreachable = hub_unreachable()
        if unreachable:
            reason = msg("the hub {endpoint} is unreachable ({reason})", endpoint=hub_endpoint(), reason=unreachable)
    try:
        import datasets
    except ImportError as exc:
        raise DatasetError(msg("named datasets need the `datasets` package: pip install datasets")) from exc
    if reason:
        _go_offline(datasets)
    kwargs = {"split": d.split}
    if d.data_files:
        kwargs["data_files"] = d.data_files
    try:
        if reason:
            ds = datasets.load_dataset(d.hub_id, d.config, **kwargs)  # from the cache only
        else:
            ds = datasets.load_dataset(d.hub_id, d.config, streaming=True, **kwargs)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        if reason:
            raise DatasetError(msg("{name}: {reason} and {hub_id} is not in the local cache; {fallbacks}", name=name,
                                   reason=reason, hub_id=d.hub_id, fallbacks=fallbacks(d))) from exc
        if d.note:
            raise DatasetError(msg("{name}: loading {hub_id} failed ({error}); {fallbacks} [{note}]", name=name,
                                   hub_id=d.hub_id, error=first, fallbacks=fallbacks(d), note=d.note)) from exc
        raise DatasetError(msg("{name}: loading {hub_id} failed ({error}); {fallbacks}", name=name, hub_id=d.hub_id,
                               error=first, fallbacks=fallbacks(d))) from exc
    info.encoding = msg("hub {hub_id} (from cache)", hub_id=d.hub_id) if reason else msg("hub {hub_id}", hub_id=d.hub_id)
    info.field = d.column
    info.files = 1
    for rec in ds:
        value = rec.get(d.column)
        if value:
            yield str(value)


def is_saved_dataset(path: Path) -> bool:
    return path.is_dir() and ((path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()
                              or (path / "state.json").exists())


def iter_saved(path: Path, info: ReadInfo, field: str | None = None) -> Iterator[str]:
    """Texts of a folder written by `datasets.save_to_disk` (a Dataset or a DatasetDict)."""
    import datasets

    ds = datasets.load_from_disk(str(path))
    if isinstance(ds, datasets.DatasetDict):
        split = "train" if "train" in ds else next(iter(ds))
        ds = ds[split]
    columns = ds.column_names
    if field and field not in columns:
        raise DatasetError(msg("{name} has no column {field!r}; columns: {columns}", name=path.name, field=field,
                               columns=", ".join(columns)))
    col = field or next((c for c in TEXT_FIELDS if c in columns), None)
    if col is None:
        raise DatasetError(msg("{name}: no text column; choose one with --field from: {columns}", name=path.name,
                               columns=", ".join(columns)))
    info.encoding, info.field, info.files = msg("saved dataset"), col, 1
    for value in ds[col] if len(ds) < 100_000 else (r[col] for r in ds):
        if value:
            yield str(value)
