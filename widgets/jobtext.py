"""How job states, times and sizes read in the panels (sizes in GiB everywhere)."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from widgets.i18n import translate
from widgets.service_text import translate_service

KIND_NAMES = {
    "quantize": QT_TRANSLATE_NOOP("Jobs", "quantize"), "eval": QT_TRANSLATE_NOOP("Jobs", "evaluate"),
    "export": QT_TRANSLATE_NOOP("Jobs", "export"), "scan": QT_TRANSLATE_NOOP("Jobs", "layer scan"),
    "serve": QT_TRANSLATE_NOOP("Jobs", "serve"), "runtime": QT_TRANSLATE_NOOP("Jobs", "ML runtime install"),
    "engine": QT_TRANSLATE_NOOP("Jobs", "engine install"), "selftest": QT_TRANSLATE_NOOP("Jobs", "self-test"),
    "probe": QT_TRANSLATE_NOOP("Jobs", "cluster check"), "fetch": QT_TRANSLATE_NOOP("Jobs", "fetch"),
}


def kind_text(kind: str) -> str:
    """A job kind as the interface names it (a kind from a newer version: as it is)."""
    return translate("Jobs", KIND_NAMES[kind]) if kind in KIND_NAMES else kind


def status_text(status: str) -> str:
    return {"queued": translate("Jobs", "queued"), "running": translate("Jobs", "running"),
            "succeeded": translate("Jobs", "succeeded"), "failed": translate("Jobs", "failed"),
            "cancelled": translate("Jobs", "cancelled"), "interrupted": translate("Jobs", "interrupted")}.get(status, status)


def error_text(error: str) -> str:
    """A job's error ("message — hint", both from the services) in the interface's language."""
    return " — ".join(translate_service(part) for part in error.split(" — "))


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    m, s = divmod(int(seconds), 60)
    return minutes_seconds(m, s) if m else translate("Jobs", "%1 s").replace("%1", str(s))


def minutes_seconds(m: int, s: int) -> str:
    return translate("Jobs", "%1 min %2 s").replace("%1", str(m)).replace("%2", f"{s:02d}")


NOISE = ("%|", "it/s]", "s/it]", "DeprecationWarning", "FutureWarning", "UserWarning", "warnings.warn(",
         "We will use 90% of the memory", "Loading weights:", "Writing model shards:")


def is_noise(line: str) -> bool:
    """Library chatter the filtered log hides: progress bars, Python warnings and their source lines."""
    stripped = line.strip()
    return not stripped or any(n in line for n in NOISE) or "\r" in line


def filtered(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not is_noise(line))


def duration_text(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return ""
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    if h:
        return translate("Jobs", "%1 h %2 min").replace("%1", str(h)).replace("%2", f"{m:02d}")
    return minutes_seconds(m, s) if m else translate("Jobs", "%1 s").replace("%1", f"{seconds:.1f}")


GIB = 1024**3


def size_text(n: float) -> str:
    """Bytes in GiB, with the decimals a small model needs too: 14.20 GiB, 0.512 GiB, 0.0031 GiB."""
    g = n / GIB
    return f"{g:.2f} GiB" if g >= 10 else f"{g:.3f} GiB" if g >= 0.1 else f"{g:.4f} GiB"
