"""Turn a perplexity change into a verdict line, with thresholds the user can change."""
from __future__ import annotations

from dataclasses import dataclass

from services.messages import msg


@dataclass(frozen=True)
class Thresholds:
    fine_pct: float = 3.0  # up to this much worse: fine
    caution_pct: float = 10.0  # up to this: check answers before shipping; beyond: do not ship


def verdict(delta_pct: float | None, kv: str, is_baseline: bool, t: Thresholds = Thresholds(),
            what: str | None = None) -> tuple[str, str]:
    """(level, text): level is "baseline", "fine", "caution" or "bad"; `what` names the thing not to ship
    (default: the KV policy, or "these weights")."""
    if is_baseline or delta_pct is None:
        return "baseline", msg("baseline")
    what = what or (f"{kv} KV" if kv != "fp16" else msg("these weights"))
    if delta_pct <= t.fine_pct:
        return "fine", msg("perplexity {change:+.1f}%: fine", change=delta_pct)
    if delta_pct <= t.caution_pct:
        return "caution", msg("perplexity {change:+.1f}%: compare answers before shipping {what}", change=delta_pct,
                              what=what)
    return "bad", msg("perplexity {change:+.1f}%: do not ship {what} for this model", change=delta_pct, what=what)
