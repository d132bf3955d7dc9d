"""`quantdesk plan`: the memory planner on the command line (no Qt)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.cli import UsageError
from services.memory import ENGINES, KV_POLICIES, WEIGHT_FORMATS
from services.memory.planner import GIB, PlanRequest, make_plan
from services.modelinfo import ModelConfigError, format_params, read_model_shape


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, type=Path, help="model folder (with config.json)")
    p.add_argument("--weights", default="auto", choices=("auto", *WEIGHT_FORMATS),
                   help="weights format (default: as stored, from config.json)")
    p.add_argument("--group-size", type=int, default=128,
                   help="group size of awq4 / w4a8 weights (default 128; -1: one scale per output channel)")
    p.add_argument("--kv", default="fp16", choices=KV_POLICIES, help="KV-cache policy")
    p.add_argument("--engine", default="vllm", choices=ENGINES)
    p.add_argument("--gpu-mem", type=float, metavar="GIB", help="memory of one GPU (default: the first detected GPU)")
    p.add_argument("--utilization", type=float, default=0.9, help="vLLM gpu_memory_utilization (default 0.9)")
    p.add_argument("--cache-max-entry-count", type=float, default=0.8,
                   help="LMDeploy: fraction of free memory (< 1) or block count (>= 1); default 0.8")
    p.add_argument("--tp", type=int, default=1, help="tensor parallel size")
    p.add_argument("--context", type=int, default=4096, help="context length of one sequence")
    p.add_argument("--other-gib", type=float, help="other memory per GPU (default: engine's)")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def detected_gpu_gib() -> float | None:
    """Total memory of the first NVIDIA GPU, or None when NVML finds none."""
    from services.telemetry.gpu import NvmlReader

    reader = NvmlReader()
    gpus = reader.devices() if reader.available else []
    return gpus[0].memory_total / GIB if gpus else None


def weights_label(plan) -> str:
    """The format with its groups, e.g. `w4a8 per-channel`, `awq4 g128`."""
    if plan.group_size is None:
        return plan.weights_format
    return f"{plan.weights_format} " + ("per-channel" if plan.group_size == -1 else f"g{plan.group_size}")


def _fmt_bytes(n: float) -> str:
    for unit, size in (("GiB", GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.0f} B"


def run(args: argparse.Namespace) -> int:
    try:
        shape = read_model_shape(args.model)
    except ModelConfigError as exc:
        raise UsageError(str(exc)) from exc
    gpu = args.gpu_mem if args.gpu_mem is not None else detected_gpu_gib()
    if gpu is None:
        raise UsageError("no NVIDIA GPU detected: pass --gpu-mem GIB (e.g. --gpu-mem 24 for a 4090)")
    req = PlanRequest(weights=args.weights, group_size=args.group_size, kv=args.kv, engine=args.engine,
                      gpu_mem_gib=gpu, utilization=args.utilization,
                      cache_max_entry_count=args.cache_max_entry_count, tp=args.tp, context=args.context,
                      other_gib=args.other_gib)
    try:
        plan = make_plan(shape, req)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        print(json.dumps({"model": str(args.model), **plan.to_dict()}, ensure_ascii=False))
        return 0
    print(f"Model        {shape.architecture}: {shape.layers} layers, hidden {shape.hidden}, {shape.heads} heads "
          f"({shape.kv_heads} KV), head dim {shape.head_dim}, {format_params(shape.parameter_count())} parameters")
    rows = [
        (f"Weights ({weights_label(plan)})", f"{_fmt_bytes(plan.weight_bytes)} ({_fmt_bytes(plan.weight_bytes_per_gpu)} per GPU)"),
        (f"KV cache ({plan.kv_policy})", f"{plan.kv_bytes_per_token:,} bytes per token per GPU"),
        ("Engine rule", plan.rule),
        ("KV budget", f"{_fmt_bytes(plan.kv_budget_bytes)} per GPU"),
        ("Activations", _fmt_bytes(plan.activation_bytes)),
        ("Other", _fmt_bytes(plan.other_bytes)),
        ("Tokens that fit", f"{plan.max_tokens:,} ({plan.blocks:,} blocks of {plan.block_tokens})"),
        (f"Sequences at {plan.context}", f"{plan.max_sequences_at_context:,}"),
        ("Fits", "yes" if plan.fits else "NO"),
    ]
    for k, v in rows:
        print(f"{k:<24} {v}")
    for a in plan.assumptions:
        print(f"  assumption: {a}")
    for w in plan.warnings:
        print(f"  warning: {w}")
    return 0
