"""KV-cache use read from a server's Prometheus `/metrics`: vLLM's usage share and pool size, our
llama.cpp launcher's cells in use, or any engine's `*cache_usage_perc` gauge."""
from __future__ import annotations

import re
from dataclasses import dataclass

LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+([-+0-9.eEinfNa]+)")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class KvSample:
    usage: float | None  # share of the pool in use, 0..1
    used_tokens: float | None
    capacity_tokens: float | None


def parse(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line.strip())
        if not m:
            continue
        try:
            value = float(m.group(4))
        except ValueError:
            continue
        out.setdefault(m.group(1), []).append((dict(LABEL.findall(m.group(3) or "")), value))
    return out


def _first(metrics: dict, *names: str) -> float | None:
    for n in names:
        if metrics.get(n):
            return metrics[n][0][1]
    return None


def kv_sample(text: str) -> KvSample | None:
    """The KV-cache use in `text`, or None when the server reports none."""
    m = parse(text)
    used = _first(m, "quantdesk_kv_cache_tokens_used")
    if used is not None:
        cap = _first(m, "quantdesk_kv_cache_tokens_capacity")
        return KvSample(used / cap if cap else None, used, cap)
    usage = _first(m, "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")
    if usage is None:
        usage = next((v[0][1] for k, v in m.items() if k.endswith("cache_usage_perc") and v), None)
    if usage is None:
        return None
    capacity = None
    for labels, _ in m.get("vllm:cache_config_info", []):
        try:
            capacity = float(labels["num_gpu_blocks"]) * float(labels["block_size"])
        except (KeyError, ValueError):
            pass
    return KvSample(usage, usage * capacity if capacity else None, capacity)
