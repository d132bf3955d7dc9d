"""A sensitivity scan's settings as its job stores them (no torch: the panel and the CLI check them)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from services.messages import msg

METHODS = ("rtn", "awq")


@dataclass
class ScanSettings:
    text: str = "wikitext2"
    text_field: str | None = None
    max_tokens: int = 2048
    context: int = 512
    bits: int = 4
    group_size: int = 128
    unit: str = "layer"  # layer | block
    method: str = "rtn"  # rtn | awq
    device: str = "auto"
    # awq: calibration text for the scale search (None: the tokens after the scored ones in `text`)
    calib: str | None = None
    calib_tokens: int = 512
    budget_mb: float | None = None  # advise which units to keep in fp16 within this many MB (and measure it)

    def problems(self) -> list[str]:
        out = []
        if self.method not in METHODS:
            out.append(msg("--method is {choices}, not {method!r}", choices=" or ".join(METHODS), method=self.method))
        if self.method == "awq" and not 64 <= self.calib_tokens <= 1_000_000:
            out.append(msg("--calib-tokens must be between 64 and 1000000 for --method awq"))
        if self.budget_mb is not None and (isinstance(self.budget_mb, bool) or self.budget_mb < 0):
            out.append(msg("--budget-mb must be 0 or more (megabytes of fp16 layers to keep)"))
        if self.unit not in ("layer", "block"):
            out.append(msg("--unit is layer or block"))
        if self.bits not in (2, 3, 4, 8):
            out.append(msg("--bits is 2, 3, 4 or 8"))
        if self.group_size < 1:
            out.append(msg("--group-size must be 1 or more"))
        if self.context < 8:
            out.append(msg("--context must be at least 8 tokens"))
        if self.max_tokens < 16:
            out.append(msg("--max-tokens must be at least 16"))
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ScanSettings:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


SCAN_ARCHS = ("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM")


def scan_problems(model, s: ScanSettings) -> list[str]:
    """Everything about a scan that can be known without torch; each says what to change."""
    from pathlib import Path

    from services.checkpoint import format_from_config
    from services.modelfiles import check_weights
    from services.modelinfo import ModelConfigError, read_config, shape_from_config

    problems = s.problems()
    model = Path(model)
    try:
        cfg = read_config(model)
        shape = shape_from_config(cfg)
    except ModelConfigError as exc:
        return [str(exc), *problems]
    arch = (cfg.get("architectures") or ["?"])[0] if isinstance(cfg.get("architectures"), list) else "?"
    if arch not in SCAN_ARCHS:
        problems.append(msg("the scan runs on {archs}; this model is {arch}", archs=", ".join(SCAN_ARCHS), arch=arch))
    if format_from_config(cfg).quantized:
        problems.append(msg("this model is already quantized: scan the unquantized source model"))
    if s.group_size >= 1 and (shape.hidden % s.group_size or shape.intermediate % s.group_size):
        problems.append(msg("--group-size {group} does not divide hidden {hidden} and intermediate {intermediate}: "
                            "use 64 or 32", group=s.group_size, hidden=shape.hidden, intermediate=shape.intermediate))
    if shape.max_positions and s.context > shape.max_positions:
        problems.append(msg("--context {context} exceeds the model's max_position_embeddings {limit}", context=s.context,
                            limit=shape.max_positions))
    problems += check_weights(model)[0]
    return problems
