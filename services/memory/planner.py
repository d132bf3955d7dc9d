"""What fits on a GPU: the engine's rule for sizing the KV cache, applied to one model.

vLLM: gpu_memory_utilization x TOTAL memory, minus weights, the activation peak of its profiling
run and other memory; the rest is KV cache in 16-token blocks.
LMDeploy (TurboMind): cache_max_entry_count x FREE memory after the weights are loaded (a value
>= 1 is a block count); 64-token blocks. So quantizing the KV cache alone does not lower LMDeploy's
memory use: it fits more tokens into the same fraction.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from services.memory.assumptions import format_notes
from services.memory.kv import KV_POLICIES, kv_bytes_per_token, kv_heads_per_gpu
from services.memory.weights import PER_CHANNEL, WEIGHT_FORMATS, weight_bytes
from services.messages import msg
from services.modelinfo import ModelShape

GIB = 1024**3
ENGINES = ("vllm", "lmdeploy")
BLOCK_TOKENS = {"vllm": 16, "lmdeploy": 64}
DEFAULT_OTHER_GIB = {"vllm": 1.0, "lmdeploy": 0.5}


@dataclass
class PlanRequest:
    weights: str = "auto"  # auto (from quantization_config) | fp16 | bf16 | awq4 | int8 | fp8 | w4a8 | w8a8
    group_size: int = 128  # -1: per output channel (awq4, w4a8)
    kv: str = "fp16"
    engine: str = "vllm"
    gpu_mem_gib: float = 24.0
    utilization: float = 0.9  # vLLM gpu_memory_utilization
    cache_max_entry_count: float = 0.8  # LMDeploy
    tp: int = 1
    context: int = 4096
    other_gib: float | None = None  # CUDA context, NCCL, CUDA graphs; engine default when None
    max_num_batched_tokens: int = 2048  # vLLM profiling run
    max_num_seqs: int = 256

    def validate(self) -> None:
        """Raise ValueError naming the first setting to change."""
        import math

        flags = {"gpu_mem_gib": "--gpu-mem", "utilization": "--utilization",
                 "cache_max_entry_count": "--cache-max-entry-count", "other_gib": "--other-gib"}
        for name, flag in flags.items():
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(msg("{flag} must be a finite number, not {value}", flag=flag, value=value))
        if self.other_gib is not None and self.other_gib < 0:
            raise ValueError(msg("--other-gib must be 0 or more"))
        if self.engine not in ENGINES:
            raise ValueError(msg("unknown engine {engine!r}; choose one of {engines}", engine=self.engine,
                                 engines=", ".join(ENGINES)))
        if self.gpu_mem_gib <= 0:
            raise ValueError(msg("GPU memory must be more than 0 GiB"))
        if not 0 < self.utilization <= 1:
            raise ValueError(msg("--utilization must be in (0, 1], e.g. 0.9"))
        if self.cache_max_entry_count <= 0:
            raise ValueError(msg("--cache-max-entry-count must be > 0 (a fraction < 1 or a block count >= 1)"))
        if self.tp < 1:
            raise ValueError(msg("--tp must be 1 or more"))
        if self.context < 1:
            raise ValueError(msg("--context must be 1 or more tokens"))
        if self.group_size < 1 and self.group_size != PER_CHANNEL:
            raise ValueError(msg("--group-size must be 1 or more, or -1 for one scale per output channel"))
        if self.weights not in ("auto", *WEIGHT_FORMATS):
            raise ValueError(msg("unknown weight format {format!r}; choose one of auto, {formats}", format=self.weights,
                                 formats=", ".join(WEIGHT_FORMATS)))
        if self.kv not in KV_POLICIES:
            raise ValueError(msg("unknown KV policy {policy!r}; choose one of {policies}", policy=self.kv,
                                 policies=", ".join(KV_POLICIES)))


@dataclass
class Plan:
    engine: str
    rule: str
    weights_format: str
    kv_policy: str
    tp: int
    gpu_mem_bytes: int
    weight_bytes: int  # the whole model
    weight_bytes_per_gpu: int
    kv_bytes_per_token: int  # per GPU
    kv_budget_bytes: int  # per GPU
    activation_bytes: int
    other_bytes: int
    free_bytes: int  # per GPU, left after weights, KV budget, activations and other
    block_tokens: int
    blocks: int
    max_tokens: int
    context: int
    max_sequences_at_context: int
    fits: bool
    assumptions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    group_size: int | None = None  # of the weights' scales, when the format has groups (-1: per channel)

    def to_dict(self) -> dict:
        return asdict(self)


def detect_weight_format(shape: ModelShape) -> tuple[str, int | None, tuple[str, ...]]:
    """The stored format from config.json's quantization_config: (format, group size or None, kept modules)."""
    from services.checkpoint import format_from_config

    fmt = format_from_config({"quantization_config": shape.quantization, "torch_dtype": shape.dtype})
    if fmt.kind == "unquantized" and shape.dtype == "float32":
        return "fp32", None, ()
    return fmt.planner_format, fmt.group_size if fmt.planner_format == "awq4" else None, fmt.kept


def valid_tp(shape: ModelShape, group_size: int | None = None) -> list[int]:
    """Tensor parallel sizes up to 16 that split the attention and KV heads (and AWQ groups) evenly."""
    out = []
    for tp in range(1, 17):
        if shape.heads % tp or shape.kv_heads % tp:
            continue
        if group_size and (shape.intermediate % tp or (shape.intermediate // tp) % group_size):
            continue
        out.append(tp)
    return out


def check_tp(shape: ModelShape, tp: int, group_size: int | None) -> None:
    """Raise ValueError when `tp` cannot split this model, naming the sizes that can."""
    if tp == 1:
        return
    heads, kv_heads = shape.heads % tp, shape.kv_heads % tp
    if heads and kv_heads:
        what = msg("{heads} attention heads and the {kv_heads} KV heads", heads=shape.heads, kv_heads=shape.kv_heads)
    elif heads:
        what = msg("{heads} attention heads", heads=shape.heads)
    elif kv_heads:
        what = msg("{kv_heads} KV heads", kv_heads=shape.kv_heads)
    elif group_size and (shape.intermediate % tp or (shape.intermediate // tp) % group_size):
        what = msg("intermediate_size {size} / tp into groups of {group_size}", size=shape.intermediate,
                   group_size=group_size)
    else:
        return
    valid = ", ".join(map(str, valid_tp(shape, group_size)))
    raise ValueError(msg("tensor parallel {tp} does not divide the {what}; use --tp {valid}", tp=tp, what=what,
                         valid=valid))


def _activation_bytes(shape: ModelShape, req: PlanRequest) -> int:
    """Estimate of vLLM's profiling peak: one batch of max_num_batched_tokens plus fp32 logits."""
    per_token = (2 * shape.intermediate // req.tp + 4 * shape.hidden
                 + (shape.heads + 2 * shape.kv_heads) * shape.head_dim // req.tp) * 2
    return req.max_num_batched_tokens * per_token + min(req.max_num_seqs, req.max_num_batched_tokens) * shape.vocab * 4


def make_plan(shape: ModelShape, req: PlanRequest) -> Plan:
    """Apply the engine's sizing rule; every assumption made is listed in the plan."""
    req.validate()
    fmt, group = req.weights, req.group_size
    assumptions: list[str] = []
    kept: tuple[str, ...] = ()
    if fmt == "auto":
        fmt, stored_group, kept = detect_weight_format(shape)
        group = stored_group or group
        assumptions.append(msg("weights format {format} read from config.json", format=fmt)
                           + ("; " + msg("{modules} kept in fp16", modules=", ".join(kept)) if kept else ""))
    grouped = fmt in ("awq4", "w4a8")
    check_tp(shape, req.tp, group if grouped and group != PER_CHANNEL else None)
    notes, cautions = format_notes(fmt, group, req.kv, req.engine)
    assumptions += notes
    w_total = weight_bytes(shape, fmt, group, kept)["total"]
    w_gpu = -(-w_total // req.tp)
    kv_tok = kv_bytes_per_token(shape, req.kv, req.tp)
    total = int(req.gpu_mem_gib * GIB)
    other = int((req.other_gib if req.other_gib is not None else DEFAULT_OTHER_GIB[req.engine]) * GIB)
    block = BLOCK_TOKENS[req.engine]
    warnings: list[str] = list(cautions)

    if req.engine == "vllm":
        act = _activation_bytes(shape, req)
        budget = int(total * req.utilization) - w_gpu - act - other
        rule = msg("vLLM: KV budget = gpu_memory_utilization {utilization:g} x total {total:.1f} GiB - weights - "
                   "activation peak - other", utilization=req.utilization, total=total / GIB)
        assumptions.append(msg("activation peak estimated for max_num_batched_tokens={tokens}, max_num_seqs={seqs} "
                               "(fp16 activations, fp32 logits)", tokens=req.max_num_batched_tokens,
                               seqs=req.max_num_seqs))
        blocks = max(0, budget) // (block * kv_tok)
    else:
        act = 0
        free_after_weights = total - w_gpu - other
        if req.cache_max_entry_count < 1:
            budget = int(free_after_weights * req.cache_max_entry_count)
            rule = msg("LMDeploy: KV budget = cache_max_entry_count {count:g} x free memory after weights "
                       "({free:.2f} GiB)", count=req.cache_max_entry_count, free=free_after_weights / GIB)
            blocks = max(0, budget) // (block * kv_tok)
        else:
            blocks = int(req.cache_max_entry_count)
            budget = blocks * block * kv_tok
            rule = msg("LMDeploy: cache_max_entry_count {blocks} >= 1 is a block count: {blocks} blocks of {block} "
                       "tokens", blocks=blocks, block=block)
            if budget > free_after_weights:
                warnings.append(msg("{blocks} blocks need {need:.2f} GiB but only {free:.2f} GiB is free after the "
                                    "weights", blocks=blocks, need=budget / GIB, free=free_after_weights / GIB))
        if req.kv in ("int8", "int4") and req.cache_max_entry_count < 1:
            assumptions.append(msg("KV quantization does not lower LMDeploy's memory use: it fills the same fraction "
                                   "with more tokens; lower --cache-max-entry-count to save memory"))
        if req.kv == "fp8":
            warnings.append(msg("LMDeploy has no fp8 KV cache (quant_policy 0, 4 or 8); fp8 is vLLM's kv_cache_dtype"))
    if req.engine == "vllm" and req.kv in ("int8", "int4"):
        warnings.append(msg("vLLM has no int8/int4 KV cache; use --kv-cache-dtype fp8 or LMDeploy's --quant-policy"))

    max_tokens = blocks * block
    blocks_per_seq = -(-req.context // block)
    seqs = blocks // blocks_per_seq
    used = w_gpu + max(0, budget) + act + other
    fits = budget > 0 and seqs >= 1
    if budget <= 0:
        warnings.append(msg("does not fit: weights {weights:.2f} GiB + activations and other {rest:.2f} GiB leave no "
                            "room for a KV cache on {gpu:g} GiB", weights=w_gpu / GIB, rest=(act + other) / GIB,
                            gpu=req.gpu_mem_gib))
    elif seqs < 1:
        warnings.append(msg("the KV cache holds {tokens} tokens: not one sequence of {context} tokens",
                            tokens=max_tokens, context=req.context))
    if shape.max_positions and req.context > shape.max_positions:
        warnings.append(msg("context {context} exceeds the model's max_position_embeddings {limit}",
                            context=req.context, limit=shape.max_positions))
    if req.tp > 1:
        assumptions.append(msg("tensor parallel {tp}: weights split evenly, {heads} of {kv_heads} KV heads per GPU; "
                               "figures are per GPU", tp=req.tp, heads=kv_heads_per_gpu(shape, req.tp),
                               kv_heads=shape.kv_heads))
    assumptions.append(msg("other memory (CUDA context, runtime buffers) {other:.2f} GiB per GPU", other=other / GIB))
    assumptions.append(msg("{block}-token blocks; a sequence of {context} tokens takes {blocks} blocks", block=block,
                           context=req.context, blocks=blocks_per_seq))
    return Plan(
        engine=req.engine, rule=rule, weights_format=fmt, kv_policy=req.kv, tp=req.tp, gpu_mem_bytes=total,
        weight_bytes=w_total, weight_bytes_per_gpu=w_gpu, kv_bytes_per_token=kv_tok, kv_budget_bytes=max(0, budget),
        activation_bytes=act, other_bytes=other, free_bytes=total - used, block_tokens=block, blocks=blocks,
        max_tokens=max_tokens, context=req.context, max_sequences_at_context=seqs, fits=fits,
        assumptions=assumptions, warnings=warnings, group_size=group if grouped else None,
    )


def kv_curve(shape: ModelShape, contexts: list[int], policies=("fp16", "int8", "int4", "fp8"),
             sequences: int = 1, tp: int = 1) -> dict[str, list[int]]:
    """KV-cache bytes per GPU of `sequences` sequences at each context length, per policy."""
    return {p: [kv_bytes_per_token(shape, p, tp) * c * sequences for c in contexts] for p in policies}
