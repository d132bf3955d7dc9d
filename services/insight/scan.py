"""Layer sensitivity: quantize one linear layer (or one decoder block) at a time, everything else in
full precision, and measure what it costs on held-out tokens (perplexity change and the KL divergence
of the next-token distribution against the unquantized model). Job runner only (torch).

Activations are reused: one reference pass caches each block's input per window, and a unit in block
b runs only blocks b..N from that cache, so a scan costs about (units x half the blocks) block passes.
`method` rtn rounds each weight to nearest; awq (services/insight/awq.py) first records every linear layer's
input on calibration tokens in one more forward pass, then searches each unit's activation-aware scales on
those recordings (no forward pass) before the same measurement.
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

from services.insight.settings import ScanSettings
from services.messages import msg

MODULE_TYPES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
__all__ = ["ScanSettings", "fake_quantize", "scan"]


def fake_quantize(weight, bits: int, group: int):
    """Round-to-nearest (asymmetric, per group of input columns) in float: the quantized weight's values."""
    import torch

    levels = 2**bits - 1
    rows, cols = weight.shape
    w = weight.float().reshape(rows, cols // group, group)
    mx, mn = w.amax(-1, keepdim=True), w.amin(-1, keepdim=True)
    scale = (mx - mn).clamp(min=1e-8) / levels
    zero = (-mn / scale).round()
    q = torch.clamp((w / scale).round() + zero, 0, levels)
    return ((q - zero) * scale).reshape(rows, cols).to(weight.dtype)


def quantized_bytes(n_params: int, cols: int, bits: int, group: int) -> int:
    """Packed weights plus an fp16 scale and zero per group."""
    return n_params * bits // 8 + (n_params // group) * 4


def units_of(model, unit: str, group: int) -> list[tuple[str, int, list]]:
    """(name, block index, [(module name, Linear)]) for each unit; layers whose width the group does not divide
    are left out (they would stay unquantized)."""
    import torch

    blocks = model.get_decoder().layers
    out = []
    for b, block in enumerate(blocks):
        linears = [(f"model.layers.{b}.{n}", m) for n, m in block.named_modules()
                   if isinstance(m, torch.nn.Linear) and m.in_features % group == 0]
        if unit == "block":
            out.append((f"model.layers.{b}", b, linears))
        else:
            out += [(name, b, [(name, m)]) for name, m in linears]
    return out


def module_type(name: str) -> str:
    last = name.rsplit(".", 1)[-1]
    return last if last in MODULE_TYPES else re.sub(r"\d+", "N", last)


class _Runner:
    """Forward passes that start at block b from cached inputs."""

    def __init__(self, model, windows: list[list[int]], device: str):
        import torch

        self.model, self.device = model, device
        self.blocks = model.get_decoder().layers
        self.inputs: list[list] = [[] for _ in self.blocks]  # [block][window] -> hidden states in
        self.windows = [torch.tensor([w], device=device) for w in windows]
        self.ref: list = []  # per window: reference log-probs of the scored positions

    def reference(self) -> None:
        import torch

        hooks = [blk.register_forward_pre_hook(lambda m, args, i=i: self.inputs[i].append(args[0].detach()))
                 for i, blk in enumerate(self.blocks)]
        try:
            with torch.no_grad():
                for x in self.windows:
                    self.ref.append(torch.log_softmax(self.model(x, use_cache=False).logits[0, :-1].float(), -1))
        finally:
            for h in hooks:
                h.remove()

    def logprobs(self, start: int):
        """Log-probs per window with blocks < start skipped (their output taken from the cache)."""
        import torch

        skipped = list(self.blocks[:start])
        current: dict = {}
        for blk in skipped:
            blk.forward = lambda hidden_states, *a, **k: hidden_states
        hook = self.blocks[start].register_forward_pre_hook(
            lambda m, args: (current["h"], *args[1:])) if start > 0 else None
        try:
            with torch.no_grad():
                for w, x in enumerate(self.windows):
                    if start > 0:
                        current["h"] = self.inputs[start][w]
                    yield w, torch.log_softmax(self.model(x, use_cache=False).logits[0, :-1].float(), -1)
        finally:
            for blk in skipped:
                del blk.forward  # the class's forward again
            if hook is not None:
                hook.remove()

    def score(self, start: int) -> tuple[float, float]:
        """(perplexity, mean KL(reference || this)) over all scored tokens."""
        nll = kl = 0.0
        n = 0
        for w, lp in self.logprobs(start):
            target = self.windows[w][0, 1:]
            nll -= float(lp.gather(1, target.unsqueeze(1)).sum())
            ref = self.ref[w]
            kl += float((ref.exp() * (ref - lp)).sum())
            n += target.numel()
        return math.exp(nll / n), kl / n


def scan(model, ids: list[int], s: ScanSettings, device: str = "cpu",
         progress: Callable[[int, int, str, float | None], None] | None = None,
         calib_ids: list[int] | None = None, stage: Callable[[str, str], None] | None = None) -> dict:
    """Rank the units by the damage their quantization alone does; `progress(done, total, name, eta_s)`.
    With s.method "awq", `calib_ids` are the calibration tokens for the scale search (not the scored ones)."""
    windows = [ids[b:b + s.context] for b in range(0, len(ids) - 1, s.context)]
    windows = [w for w in windows if len(w) >= 2]
    run = _Runner(model, windows, device)
    t0 = time.monotonic()
    run.reference()
    reference_s = time.monotonic() - t0  # one evaluation of the unquantized model on these tokens
    base_ppl, _ = run.score(0)
    units = units_of(model, s.unit, s.group_size)
    weights = _Weights(s)
    calib_s = 0.0
    if s.method == "awq":
        if stage:
            stage("calibrate", msg("recording every linear layer's input on {count} calibration tokens",
                                      count=len(calib_ids or [])))
        t1 = time.monotonic()
        weights.calibrate(model, calib_ids or [], units, device)
        calib_s = time.monotonic() - t1
    rows = []
    started = time.monotonic()
    for i, (name, block, mods) in enumerate(units):
        weights.prepare(mods)
        saved = [m.weight.data.clone() for _, m in mods]
        for mod_name, m in mods:
            m.weight.data = weights.quantized(mod_name, m)
        try:
            ppl, kl = run.score(block)
        finally:
            for (_, m), w in zip(mods, saved, strict=True):
                m.weight.data = w
        n_params = sum(m.weight.numel() for _, m in mods)
        q_bytes = sum(quantized_bytes(m.weight.numel(), m.in_features, s.bits, s.group_size) for _, m in mods)
        row = {"name": name, "block": block, "type": "block" if s.unit == "block" else module_type(name),
               "params": n_params, "fp16_bytes": 2 * n_params, "quantized_bytes": q_bytes,
               "perplexity": ppl, "delta_pct": 100 * (ppl / base_ppl - 1), "kl": kl}
        if s.method == "awq":
            row["alpha"] = [round(weights.alpha[n], 3) for n, _ in mods]
        rows.append(row)
        if progress:
            done = i + 1
            eta = (time.monotonic() - started) / done * (len(units) - done)
            progress(done, len(units), name, eta)
    rows.sort(key=lambda r: r["kl"], reverse=True)
    for rank, r in enumerate(rows, 1):
        r["rank"] = rank
    by_type: dict[str, dict] = {}
    for r in rows:
        t = by_type.setdefault(r["type"], {"type": r["type"], "units": 0, "kl": 0.0, "max_kl": 0.0})
        t["units"] += 1
        t["kl"] += r["kl"]
        t["max_kl"] = max(t["max_kl"], r["kl"])
    # everything quantized, and everything but the most sensitive unit: what keeping it would buy
    all_q = _all_but(run, units, set(), weights)
    top = rows[0]["name"] if rows else None
    keep_top = _all_but(run, units, {top}, weights) if top else None
    seconds = time.monotonic() - t0
    result = {"tokens": sum(len(w) - 1 for w in windows), "windows": len(windows), "base_perplexity": base_ppl,
            "units": rows, "by_type": sorted(by_type.values(), key=lambda t: t["kl"], reverse=True),
            "all_quantized": {"perplexity": all_q[0], "kl": all_q[1]},
            "keep_most_sensitive": {"name": top, "perplexity": keep_top[0], "kl": keep_top[1]} if keep_top else None,
            "seconds": round(seconds, 2), "reference_seconds": round(reference_s, 3),
            "calibrate_seconds": round(calib_s, 3), "cost_ratio": round(seconds / max(reference_s, 1e-9), 1),
            "calib_tokens": len(calib_ids or []) if s.method == "awq" else 0,
            "unit": s.unit, "bits": s.bits, "group_size": s.group_size, "method": s.method}
    if s.budget_mb is not None:  # the advice for this budget, predicted and measured (one more pass)
        from services.insight.advice import advise

        adv = advise(result, s.budget_mb)
        adv["measured_perplexity"], adv["measured_kl"] = _all_but(run, units, set(adv["keep"]), weights)
        result["advice"] = adv
    return result


class _Weights:
    """The quantized weight of each linear layer under the scan's method (AWQ scales searched once per unit)."""

    def __init__(self, s: ScanSettings):
        self.s = s
        self.stats: dict = {}
        self.scales: dict[str, object] = {}
        self.alpha: dict[str, float] = {}

    def calibrate(self, model, calib_ids: list[int], units, device: str) -> None:
        import torch

        from services.insight.awq import collect_inputs

        windows = [torch.tensor([calib_ids[b:b + self.s.context]], device=device)
                   for b in range(0, len(calib_ids), self.s.context) if len(calib_ids[b:b + self.s.context]) >= 2]
        linears = {n: m for _, _, mods in units for n, m in mods}
        self.stats = collect_inputs(model, windows, linears)

    def prepare(self, mods) -> None:
        if self.s.method != "awq":
            return
        from services.insight.awq import search_scales

        for name, (scales, alpha) in search_scales(mods, self.stats, self.s.bits, self.s.group_size).items():
            self.scales[name], self.alpha[name] = scales, alpha

    def quantized(self, name: str, m):
        if self.s.method != "awq":
            return fake_quantize(m.weight.data, self.s.bits, self.s.group_size)
        from services.insight.awq import scaled_weight

        if name not in self.scales:
            self.prepare([(name, m)])
        return scaled_weight(m.weight.data, self.scales[name], self.s.bits, self.s.group_size)


def _all_but(run: _Runner, units, keep: set, weights: _Weights) -> tuple[float, float]:
    """(perplexity, KL) with every unit quantized except those in `keep` (weights restored after)."""
    saved = []
    for name, _, mods in units:
        if name in keep:
            continue
        for mod_name, m in mods:
            saved.append((m, m.weight.data.clone()))
            m.weight.data = weights.quantized(mod_name, m)
    try:
        return run.score(0)
    finally:
        for m, w in saved:
            m.weight.data = w
