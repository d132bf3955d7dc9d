"""Engine flags from the memory planner: how much of the GPU to hand vLLM or LMDeploy so that its KV
cache holds the sequences and context the user asked for (services/memory/planner.py has the rules)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from services.memory.planner import BLOCK_TOKENS, GIB, Plan, PlanRequest, make_plan
from services.messages import msg
from services.modelinfo import ModelShape
from services.targets.gpus import Gpu

MAX_FRACTION = 0.95  # leave the rest for the driver, other processes and estimation error


@dataclass
class Sizing:
    engine: str
    fraction: float | None  # vLLM gpu_memory_utilization or LMDeploy cache_max_entry_count; None: engine default
    plan: Plan | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"engine": self.engine, "fraction": self.fraction, "plan": self.plan.to_dict() if self.plan else None,
                "notes": self.notes, "errors": self.errors}


def context_limit(cfg: dict, shape: ModelShape) -> int | None:
    """The longest context the model takes: max_position_embeddings, stretched by linear/dynamic/yarn rope scaling."""
    from services.modelinfo import text_config

    limit = shape.max_positions
    rope = text_config(cfg).get("rope_scaling")
    if limit and isinstance(rope, dict):
        kind = str(rope.get("rope_type") or rope.get("type") or "")
        factor = rope.get("factor")
        if kind in ("linear", "dynamic", "yarn") and isinstance(factor, int | float) and factor > 1:
            base = rope.get("original_max_position_embeddings") or limit
            limit = max(limit, int(base * factor))
    return limit


def resolve_context(params: dict, cfg: dict, shape: ModelShape, default: int = 4096) -> tuple[int, str | None]:
    """(the context to serve, an error): the user's --context, or 4096 capped at the model's limit."""
    limit = context_limit(cfg, shape)
    asked = params.get("context")
    if asked is None:
        return (min(default, limit) if limit else default), None
    if limit and asked > limit:
        return asked, f"--context {asked} exceeds the model's limit of {limit} tokens: lower it"
    return asked, None


def _ceil2(x: float) -> float:
    return math.ceil(x * 100 - 1e-9) / 100


def size_engine(engine: str, shape: ModelShape, gpu: Gpu | None, context: int, max_seqs: int, kv: str,
                tp: int, weights: str = "auto", group_size: int = 128) -> Sizing:
    """The fraction flag that fits `max_seqs` sequences of `context` tokens, or errors saying what to change."""
    s = Sizing(engine, None)
    if gpu is None:
        s.notes.append(msg("no GPU given or detected: the memory flag is left at the engine's default; pass --gpu "
                           "NAME or --gpu-mem GIB to size it"))
        return s
    need_tokens = max_seqs * -(-context // BLOCK_TOKENS[engine]) * BLOCK_TOKENS[engine]
    req = PlanRequest(weights=weights, group_size=group_size, kv=kv, engine=engine, gpu_mem_gib=gpu.memory_gib,
                      utilization=1.0, cache_max_entry_count=0.5, tp=tp, context=context, max_num_seqs=max_seqs)
    try:
        probe = make_plan(shape, req)
    except ValueError as exc:
        s.errors.append(str(exc))
        return s
    need = need_tokens * probe.kv_bytes_per_token
    total = probe.gpu_mem_bytes
    if engine == "vllm":
        fixed = probe.weight_bytes_per_gpu + probe.activation_bytes + probe.other_bytes
        fraction = _ceil2((fixed + need) / total)
        room = total * MAX_FRACTION - fixed
    else:
        free_after_weights = total - probe.weight_bytes_per_gpu - probe.other_bytes
        fraction = _ceil2(need / free_after_weights) if free_after_weights > 0 else math.inf
        room = free_after_weights * MAX_FRACTION
    if fraction > MAX_FRACTION:
        s.errors.append(msg(
            "{seqs} sequences of {context} tokens need {need:.2f} GiB of KV cache but {gpu} has room for {room:.2f} "
            "GiB after the weights ({weights:.2f} GiB per GPU): lower --context or --max-seqs, use a smaller KV cache "
            "(--kv), more GPUs (--tp) or a GPU with more memory", seqs=max_seqs, context=context, need=need / GIB,
            gpu=gpu.describe(), room=max(0, room) / GIB, weights=probe.weight_bytes_per_gpu / GIB))
        s.plan = probe
        return s
    s.fraction = max(fraction, 0.05)
    final = PlanRequest(**{**req.__dict__, "utilization": s.fraction if engine == "vllm" else 0.9,
                           "cache_max_entry_count": s.fraction if engine != "vllm" else 0.8})
    s.plan = make_plan(shape, final)
    s.notes.append(msg("sized for {seqs} sequences of {context} tokens on {gpu}: the KV cache holds {tokens} tokens "
                       "({full} sequences at full context)", seqs=max_seqs, context=context, gpu=gpu.describe(),
                       tokens=s.plan.max_tokens, full=s.plan.max_sequences_at_context))
    return s
