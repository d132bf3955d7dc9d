"""How job states and times read in the panels."""
from __future__ import annotations

from widgets.i18n import translate

STATUS_COLOURS = {"queued": "#6b7280", "running": "#2563eb", "succeeded": "#059669", "failed": "#c62828",
                  "cancelled": "#b26a00", "interrupted": "#b26a00"}


def status_text(status: str) -> str:
    return {"queued": translate("Jobs", "queued"), "running": translate("Jobs", "running"),
            "succeeded": translate("Jobs", "succeeded"), "failed": translate("Jobs", "failed"),
            "cancelled": translate("Jobs", "cancelled"), "interrupted": translate("Jobs", "interrupted")}.get(status, status)


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    m, s = divmod(int(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"
