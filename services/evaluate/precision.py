"""Simulated precisions for an evaluation: what each name means and what a model must allow (no torch).

A name says the bits of the weights (W), of the linear layers' inputs (A) and of the KV cache (KV), as
QServe names them: w4a8kv4 is 4-bit weights, 8-bit activations, a 4-bit KV cache. Here a name without
KV keeps the cache in 16 bits (QServe's own `--precision w4a8` means w4a8kv8). 8-bit weights are always
per output channel, as QServe's W8A8 stores them; 4-bit weights take the job's group sizes.
services/evaluate/fakequant.py applies them; the KV cache goes through services/evaluate/kvquant.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import gcd

from services.messages import msg
from services.modelinfo import ModelShape

PER_CHANNEL = -1


@dataclass(frozen=True)
class Precision:
    name: str
    weight_bits: int | None  # None: the weights stay as loaded
    act_bits: int | None  # None: the linear layers' inputs stay as computed
    kv: str  # a KV policy of services/evaluate/settings.py

    @property
    def label(self) -> str:
        return self.name.upper()

    def group(self, group_size: int) -> int:
        """The group size this precision uses for `group_size` (8-bit weights: per channel)."""
        return PER_CHANNEL if self.weight_bits == 8 else group_size


PRECISIONS: dict[str, Precision] = {p.name: p for p in (
    Precision("fp16", None, None, "fp16"),
    Precision("w4a16", 4, None, "fp16"),
    Precision("w4a8", 4, 8, "fp16"),
    Precision("w4a8kv4", 4, 8, "int4"),
    Precision("w4a8kv8", 4, 8, "int8"),
    Precision("w8a8", 8, 8, "fp16"),
    Precision("w8a8kv4", 8, 8, "int4"),
    Precision("w8a8kv8", 8, 8, "int8"),
)}


def get_precision(name: str) -> Precision:
    p = PRECISIONS.get(name)
    if p is None:
        raise ValueError(msg("unknown precision {name!r}; choose from {choices}", name=name, choices=", ".join(PRECISIONS)))
    return p


def group_text(group_size: int) -> str:
    return "per-channel" if group_size == PER_CHANNEL else f"g{group_size}"


def settings_problems(precisions: list[str], group_sizes: list[int]) -> list[str]:
    """What is wrong with these names and group sizes before any model is read; each says what to change."""
    out = [msg("unknown precision {name!r}; choose from {choices}", name=n, choices=", ".join(PRECISIONS))
           for n in precisions if n not in PRECISIONS]
    if precisions and not group_sizes:
        out.append(msg("--group-size needs at least one value: -1 (per output channel) or a group size such as 128"))
    for g in group_sizes:
        if isinstance(g, bool) or not isinstance(g, int) or (g != PER_CHANNEL and g < 1):
            out.append(msg("--group-size takes -1 (one scale per output channel) or a positive group size such as "
                           "128, not {value!r}", value=g))
    return out


def shape_problems(shape: ModelShape, precisions: list[str], group_sizes: list[int], name: str) -> list[str]:
    """Group sizes that do not divide every linear layer's input features of model `name`."""
    if not any(PRECISIONS[p].weight_bits == 4 for p in precisions if p in PRECISIONS):
        return []
    inputs = sorted({i for _, i, _ in shape.linear_layers})
    common = 0
    for i in inputs:
        common = gcd(common, i)
    out = []
    for g in dict.fromkeys(group_sizes):
        if not isinstance(g, int) or g < 1:
            continue
        bad = [(layer, i) for layer, i, _ in shape.linear_layers if i % g]
        if bad:
            layer, i = bad[0]
            hint = common & -common  # the largest power of two that divides every layer's inputs
            out.append(msg("--group-size {group} does not divide {name}'s {layer} input features ({features}): use -1 "
                           "(per output channel) or a group size that divides {common}, such as {hint}", group=g,
                           name=name, layer=layer, features=i, common=common, hint=hint))
    return out
