"""Mixed precision advice from a scan: which units to keep in fp16 within a size budget, and the perplexity that
predicts (no torch: the panel recomputes it as the budget slider moves).

The prediction is additive: each unit's measured perplexity change (quantized alone, everything else fp16) is
assumed to add up, so perplexity = unquantized + the sum of the changes of the units left quantized. Units are
chosen greedily by damage per MB of fp16 kept, the damage being the unit's KL divergence (the scan's ranking: a
per-unit perplexity change on a few thousand tokens is noisy, and can even be negative). The scan itself measures
the everything-quantized model and, with a budget, the advised one, so how far the additive model is off is on
the record.
"""
from __future__ import annotations

MB = 1e6
PREDICTION_MODEL = ("additive: unquantized perplexity + the sum of the measured per-unit perplexity changes of "
                    "the units left quantized")


def unit_cost(u: dict) -> int:
    """Bytes that keeping unit `u` in fp16 adds over quantizing it."""
    return max(0, int(u["fp16_bytes"]) - int(u["quantized_bytes"]))


def delta(u: dict, base: float) -> float:
    return float(u["perplexity"]) - base


def choose(result: dict, budget_mb: float) -> list[dict]:
    """The units to keep, best value first, whose fp16 cost fits in `budget_mb`."""
    budget = budget_mb * MB
    candidates = [u for u in result["units"] if u["kl"] > 0]
    candidates.sort(key=lambda u: (u["kl"] / max(unit_cost(u), 1), u["kl"]), reverse=True)
    kept, spent = [], 0
    for u in candidates:
        if spent + unit_cost(u) <= budget:
            kept.append(u)
            spent += unit_cost(u)
    return kept


def predict(result: dict, keep: list[str]) -> float:
    """Predicted perplexity with every unit quantized but those named in `keep` (PREDICTION_MODEL)."""
    base = float(result["base_perplexity"])
    kept = set(keep)
    return base + sum(delta(u, base) for u in result["units"] if u["name"] not in kept)


def advise(result: dict, budget_mb: float) -> dict:
    """{"budget_mb", "keep", "extra_mb", "from_perplexity", "to_perplexity", "base_perplexity", "model"}."""
    kept = choose(result, budget_mb)
    names = [u["name"] for u in kept]
    return {"budget_mb": budget_mb, "keep": names, "extra_mb": round(sum(unit_cost(u) for u in kept) / MB, 4),
            "base_perplexity": float(result["base_perplexity"]), "from_perplexity": predict(result, []),
            "to_perplexity": predict(result, names), "model": PREDICTION_MODEL}


def max_budget_mb(result: dict) -> float:
    """What keeping every unit that hurts would cost (the slider's end)."""
    return sum(unit_cost(u) for u in result["units"] if u["kl"] > 0) / MB


def advice_line(adv: dict) -> str:
    """One line for the terminal."""
    n = len(adv["keep"])
    if not n:
        return (f"no unit fits in {adv['budget_mb']:g} MB: raise --budget-mb (predicted perplexity stays "
                f"{adv['from_perplexity']:.3f})")
    return (f"keep these {n} {'layer' if n == 1 else 'layers'} in fp16: +{adv['extra_mb']:.2f} MB, perplexity from "
            f"{adv['from_perplexity']:.3f} to {adv['to_perplexity']:.3f} (predicted)")
