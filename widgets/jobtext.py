"""How job states and times read in the panels."""
from __future__ import annotations

from widgets.i18n import translate
from widgets.service_text import translate_service

STATUS_COLOURS = {"queued": "#6b7280", "running": "#2563eb", "succeeded": "#059669", "failed": "#c62828",
                  "cancelled": "#b26a00", "interrupted": "#b26a00"}


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
    return f"{m} min {s:02d} s" if m else f"{s} s"


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
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s" if m else f"{seconds:.1f} s"
