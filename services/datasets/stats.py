"""Statistics of calibration text: counts, CJK share, token-length quantiles and histogram."""
from __future__ import annotations


def cjk_share(texts: list[str], limit_chars: int = 2_000_000) -> float:
    """Share of CJK ideographs, kana and hangul among non-space characters (of the first `limit_chars`)."""
    cjk = other = 0
    seen = 0
    for t in texts:
        for ch in t:
            if ch.isspace():
                continue
            o = ord(ch)
            if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x3040 <= o <= 0x30FF or 0xAC00 <= o <= 0xD7AF \
                    or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F:
                cjk += 1
            else:
                other += 1
        seen += len(t)
        if seen >= limit_chars:
            break
    return cjk / (cjk + other) if cjk + other else 0.0


def quantiles(values: list[int], qs=(0.0, 0.1, 0.5, 0.9, 1.0)) -> dict[str, int]:
    if not values:
        return {}
    s = sorted(values)
    return {f"p{int(q * 100)}": s[min(len(s) - 1, int(round(q * (len(s) - 1))))] for q in qs}


def histogram(values: list[int], bins: int = 30) -> dict:
    """{"edges": [...bins+1], "counts": [...bins]} over [0, max]."""
    if not values:
        return {"edges": [], "counts": []}
    top = max(values) or 1
    width = max(1, -(-top // bins))
    edges = [i * width for i in range(bins + 1)]
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, v // width)] += 1
    return {"edges": edges, "counts": counts}
