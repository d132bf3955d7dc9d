"""Group sizes of weight quantization against a model's layer widths (from config.json; no torch)."""
from __future__ import annotations

from services.messages import msg

GROUP_SIZES = (128, 64, 32)


def group_size_choice_problem(group_size: int) -> list[str]:
    return [] if group_size in GROUP_SIZES else [msg("group size must be one of {sizes}", sizes=", ".join(map(str, GROUP_SIZES)))]


def layer_inputs(text: dict) -> dict[str, int]:
    """Input sizes of the linear layers weight quantization groups, by the config field they come from."""
    hidden = int(text["hidden_size"])
    heads = int(text.get("num_attention_heads") or 1)
    head_dim = int(text.get("head_dim") or hidden // heads)
    dims = {msg("hidden_size (q/k/v/gate/up inputs)"): hidden,
            msg("num_attention_heads x head_dim (o_proj input)"): heads * head_dim}
    for name in ("intermediate_size", "moe_intermediate_size", "shared_expert_intermediate_size"):
        if text.get(name):
            dims[msg("{field} (down_proj input)", field=name)] = int(text[name])
    return dims


def suggest_group(dims: dict[str, int]) -> int | None:
    return next((g for g in GROUP_SIZES if all(d % g == 0 for d in dims.values())), None)


def group_size_problem(text: dict, group_size: int) -> str | None:
    """None when `group_size` divides the input of every linear layer; else the message with a fix."""
    try:
        dims = layer_inputs(text)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None  # the config's own problems are reported elsewhere
    bad = {k: v for k, v in dims.items() if v % group_size}
    if not bad:
        return None
    name, value = next(iter(bad.items()))
    better = suggest_group(dims)
    advice = msg("use --group-size {group_size}", group_size=better) if better else \
        msg("no group size of 128/64/32 fits")
    return msg("group size {group_size} does not divide {name} = {value}; {advice}", group_size=group_size, name=name,
               value=value, advice=advice)
