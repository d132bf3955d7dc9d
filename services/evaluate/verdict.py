"""Turn a perplexity change into a verdict line, with thresholds the user can change."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    fine_pct: float = 3.0  # up to this much worse: fine
    caution_pct: float = 10.0  # up to this: check answers before shipping; beyond: do not ship


def verdict(delta_pct: float | None, kv: str, is_baseline: bool, t: Thresholds = Thresholds(),
            what: str | None = None) -> tuple[str, str]:
    """(level, text): level is "baseline", "fine", "caution" or "bad"; `what` names the thing not to ship
    (default: the KV policy, or "these weights")."""
    if is_baseline or delta_pct is None:
        return "baseline", "baseline"
    what = what or (f"{kv} KV" if kv != "fp16" else "these weights")
    sign = f"{delta_pct:+.1f}%"
    if delta_pct <= t.fine_pct:
        return "fine", f"perplexity {sign}: fine"
    if delta_pct <= t.caution_pct:
        return "caution", f"perplexity {sign}: compare answers before shipping {what}"
    return "bad", f"perplexity {sign}: do not ship {what} for this model"
