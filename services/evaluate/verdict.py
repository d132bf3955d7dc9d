"""Turn a perplexity change and the answers' agreement into a verdict line, with thresholds the user can change.

Perplexity alone misleads: a variant whose greedy answers agree only half the time with the baseline's is
not "fine" however close its perplexity is. The worse of the two decides; the line says which one did.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.messages import msg


@dataclass(frozen=True)
class Thresholds:
    fine_pct: float = 3.0  # up to this much worse: fine
    caution_pct: float = 10.0  # up to this: check answers before shipping; beyond: do not ship
    agree_fine: float = 0.6  # answers agreeing at least this much with the baseline's: fine (the smoke test's bar)
    agree_caution: float = 0.3  # below this: do not ship


RANK = {"fine": 0, "caution": 1, "bad": 2}


def verdict(delta_pct: float | None, kv: str, is_baseline: bool, t: Thresholds = Thresholds(),
            what: str | None = None, agreement: float | None = None) -> tuple[str, str]:
    """(level, text): level is "baseline", "fine", "caution" or "bad"; `what` names the thing not to ship
    (default: the KV policy, or "these weights"); `agreement` (0..1, None: not compared) can only lower it."""
    if is_baseline or delta_pct is None:
        return "baseline", msg("baseline")
    what = what or (f"{kv} KV" if kv != "fp16" else msg("these weights"))
    by_ppl = "fine" if delta_pct <= t.fine_pct else "caution" if delta_pct <= t.caution_pct else "bad"
    by_answers = None if agreement is None else \
        "fine" if agreement >= t.agree_fine else "caution" if agreement >= t.agree_caution else "bad"
    if by_answers is not None and RANK[by_answers] > RANK[by_ppl]:  # the answers decide
        if by_answers == "caution":
            return "caution", msg("perplexity {change:+.1f}%, but the answers agree only {agree:.0%} with the "
                                  "baseline's: compare answers before shipping {what}", change=delta_pct,
                                  agree=agreement, what=what)
        return "bad", msg("perplexity {change:+.1f}%, but the answers agree only {agree:.0%} with the baseline's: "
                          "do not ship {what} for this model", change=delta_pct, agree=agreement, what=what)
    if delta_pct <= t.fine_pct:
        return "fine", msg("perplexity {change:+.1f}%: fine", change=delta_pct)
    if delta_pct <= t.caution_pct:
        return "caution", msg("perplexity {change:+.1f}%: compare answers before shipping {what}", change=delta_pct,
                              what=what)
    return "bad", msg("perplexity {change:+.1f}%: do not ship {what} for this model", change=delta_pct, what=what)
