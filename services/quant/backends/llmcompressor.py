"""The llm-compressor 0.14 backend: GPTQ W4A16, SmoothQuant + GPTQ W8A8, FP8 (dynamic or static) and
AWQ, written as compressed-tensors checkpoints that vLLM loads.

This module describes the backend and imports no ML library; the work (and every adaptation
llm-compressor needs on a CPU) is in llmcompressor_run.py, imported only in the job runner.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from services.messages import msg
from services.quant.backends.base import QuantBackend, Setting
from services.quant.groups import GROUP_SIZES, group_size_choice_problem, group_size_problem
from services.quant.settings import QuantSettings

# method -> (llm-compressor scheme, weight bits, needs calibration data)
METHODS = {
    "gptq": ("W4A16", 4, True),
    "awq": ("W4A16_ASYM", 4, True),
    "w8a8": ("W8A8", 8, True),
    "fp8-dynamic": ("FP8_DYNAMIC", 8, False),
    "fp8": ("FP8", 8, True),
}
ACTORDER = ("static", "weight", "none")  # GPTQ in llm-compressor 0.14 takes static or weight
# where vLLM runs each kind of checkpoint (compute capability of the GPU)
RUNS_ON = {
    4: msg("vLLM runs W4A16 compressed-tensors through its Marlin kernels on sm80+ (Ampere or newer)"),
    "w8a8": msg("vLLM's int8 W8A8 kernels need sm75+ (Turing or newer)"),
    "fp8": msg("vLLM's FP8 W8A8 kernels need sm89+ (Ada, Hopper); sm80 GPUs run FP8 as weight-only (Marlin)"),
}


def linear_names(cfg: dict) -> list[str]:
    """Full names of a decoder's linear layers (Llama/Qwen2 layout) and lm_head, from config.json."""
    text = cfg["text_config"] if isinstance(cfg.get("text_config"), dict) else cfg
    inner = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
             "mlp.up_proj", "mlp.down_proj")
    layers = int(text.get("num_hidden_layers") or 0)
    return [f"model.layers.{i}.{n}" for i in range(layers) for n in inner] + ["lm_head"]


def keep_matches(keep: str, cfg: dict) -> bool:
    names = linear_names(cfg)
    if keep.startswith("re:"):
        try:
            pattern = re.compile(keep[3:])
        except re.error:
            return True  # reported as a settings problem
        return any(pattern.match(n) for n in names)
    return any(keep in n for n in names)


@dataclass
class LlmcSettings(QuantSettings):
    method: str = "gptq"
    backend: str = "llmcompressor"
    group_size: int = 128
    actorder: str = "static"
    dampening_frac: float = 0.01
    smoothing_strength: float = 0.8

    @property
    def scheme(self) -> str:
        return METHODS[self.method][0]

    @property
    def bits(self) -> int:
        return METHODS[self.method][1]

    @property
    def grouped(self) -> bool:
        return self.method in ("gptq", "awq")

    def problems(self) -> list[str]:
        out = super().problems()
        if self.method not in METHODS:
            out.append(msg("llm-compressor offers {methods}, not {method!r}", methods=", ".join(METHODS), method=self.method))
        out += group_size_choice_problem(self.group_size)
        if self.actorder not in ACTORDER:
            out.append(msg("--actorder must be one of {choices}", choices=", ".join(ACTORDER)))
        if not 0 < self.dampening_frac < 1:
            out.append(msg("--dampening-frac must be between 0 and 1 (0.01 is typical)"))
        if not 0 < self.smoothing_strength <= 1:
            out.append(msg("--smoothing-strength must be more than 0 and at most 1 (0.8 is typical)"))
        for keep in self.keep:
            if keep.startswith("re:"):
                try:
                    re.compile(keep[3:])
                except re.error as exc:
                    out.append(msg("--keep {keep}: not a valid regular expression ({error})", keep=keep, error=exc))
        return out

    def to_dict(self) -> dict:
        """The settings, without those the method does not use (so the record says what was applied)."""
        d = super().to_dict()
        for st in LlmCompressorBackend.schema:
            if not st.applies(self.method):
                d.pop(st.name, None)
        return d

    def ignore(self) -> list[str]:
        """llm-compressor's ignore list: lm_head, then --keep names (a plain name matches as a substring,
        like AutoAWQ's; `re:` patterns pass through)."""
        return ["lm_head", *(k if k.startswith("re:") else f"re:.*{re.escape(k)}.*" for k in self.keep
                              if k != "lm_head")]


class LlmCompressorBackend(QuantBackend):
    name = "llmcompressor"
    methods = tuple(METHODS)
    settings_class = LlmcSettings
    runner = "services.quant.backends.llmcompressor_run"
    schema = (
        Setting("group_size", int, 128, "weights per scale group (GPTQ and AWQ)", GROUP_SIZES, ("gptq", "awq")),
        Setting("actorder", str, "static", "GPTQ activation ordering", ACTORDER, ("gptq",)),
        Setting("dampening_frac", float, 0.01, "GPTQ dampening of the Hessian diagonal", (), ("gptq", "w8a8")),
        Setting("smoothing_strength", float, 0.8, "SmoothQuant migration strength (W8A8)", (), ("w8a8",)),
    )

    def output_format(self, s: QuantSettings) -> str:
        return "compressed-tensors"

    def needs_calibration(self, s: QuantSettings) -> bool:
        return METHODS.get(s.method, ("", 0, True))[2]

    def output_ratio(self, s: QuantSettings) -> float:
        return 0.32 if METHODS.get(s.method, ("", 4, True))[1] == 4 else 0.55

    def check_model(self, cfg: dict, s: QuantSettings) -> tuple[list[str], list[str]]:
        assert isinstance(s, LlmcSettings)
        errors: list[str] = []
        text: dict = cfg["text_config"] if isinstance(cfg.get("text_config"), dict) else cfg
        if s.method in METHODS and s.grouped and (problem := group_size_problem(text, s.group_size)):
            errors.append(problem)
        errors += [msg("--keep {keep!r}: give a module name or a re: pattern, not an empty one", keep=k)
                   for k in s.keep if not k.strip()]
        warnings = [msg("--keep {keep} matches no linear layer of this model (e.g. model.layers.0.mlp.down_proj, "
                        "mlp.down_proj, re:.*down_proj): nothing is kept for it", keep=k)
                    for k in s.keep if k.strip() and not keep_matches(k, cfg)]
        return errors, warnings

    def notes(self, s: QuantSettings) -> list[str]:
        if s.method not in METHODS:
            return []
        key = 4 if METHODS[s.method][1] == 4 else ("w8a8" if s.method == "w8a8" else "fp8")
        return [RUNS_ON[key]]
