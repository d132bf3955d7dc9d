"""The AutoAWQ 0.2.9 backend: AWQ W4A16 in AutoAWQ's GEMM or GEMV layout.

This module describes the backend (settings, rules) and imports no ML library; the work is in
autoawq_run.py (runner only) and its adaptations to torch 2.13 / transformers 5.17 (the CPU copy
fix, per-layer progress, the loading arguments) in autoawq_patches.py.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.messages import msg
from services.quant.backends.base import QuantBackend, Setting
from services.quant.groups import GROUP_SIZES, group_size_choice_problem, group_size_problem
from services.quant.settings import QuantSettings

VERSIONS = ("gemm", "gemv")
# AutoAWQ 0.2.9's AWQ_CAUSAL_LM_MODEL_MAP (tests/unit/test_quant_preflight.py keeps this in step)
MODEL_TYPES = (
    "mpt", "llama", "opt", "exaone", "falcon", "bloom", "gptj", "gpt_bigcode", "mistral", "mixtral", "gpt_neox",
    "aquila", "qwen", "baichuan", "llava", "qwen2", "qwen3", "qwen3_moe", "gemma", "gemma2", "stablelm", "starcoder2",
    "llava_next", "phi3", "phi3_v", "cohere", "deepseek_v2", "deepseek_v3", "minicpm", "internlm2", "minicpm3",
    "qwen2_vl", "qwen2_5_vl", "qwen2_5_omni", "RefinedWeb", "RefinedWebModel", "Yi",
)


@dataclass
class AwqSettings(QuantSettings):
    bits: int = 4
    group_size: int = 128
    zero_point: bool = True
    version: str = "gemm"

    def problems(self) -> list[str]:
        out = super().problems()
        if self.bits != 4:
            out.append(msg("AutoAWQ quantizes to 4 bits only: use --bits 4"))
        out += group_size_choice_problem(self.group_size)
        if self.version not in VERSIONS:
            out.append(msg("version must be gemm or gemv, not {version!r}", version=self.version))
        return out

    def quant_config(self) -> dict:
        """AutoAWQ's quant_config for these settings."""
        cfg = {"zero_point": self.zero_point, "q_group_size": self.group_size, "w_bit": self.bits,
               "version": self.version.upper()}
        if self.keep:
            cfg["modules_to_not_convert"] = list(self.keep)
        return cfg


class AutoAwqBackend(QuantBackend):
    name = "autoawq"
    methods = ("awq",)
    settings_class = AwqSettings
    schema = (
        Setting("bits", int, 4, "weight bits (AutoAWQ: 4 only)", (4,)),
        Setting("group_size", int, 128, "weights per scale/zero group", GROUP_SIZES),
        Setting("zero_point", bool, True, "asymmetric quantization with a zero point"),
        Setting("version", str, "gemm", "kernel layout: gemm (vLLM, LMDeploy) or gemv (batch 1)", VERSIONS),
    )

    runner = "services.quant.backends.autoawq_run"

    def output_format(self, s: QuantSettings) -> str:
        return "awq"

    def check_model(self, cfg: dict, s: QuantSettings) -> tuple[list[str], list[str]]:
        assert isinstance(s, AwqSettings)
        errors: list[str] = []
        text: dict = cfg["text_config"] if isinstance(cfg.get("text_config"), dict) else cfg
        model_type = str(cfg.get("model_type") or text.get("model_type", ""))
        arch = (cfg.get("architectures") or [model_type or "unknown"])[0]
        if model_type not in MODEL_TYPES:
            errors.append(msg("AutoAWQ does not support {architecture} (model_type {model_type!r}); supported: "
                              "{supported}", architecture=arch, model_type=model_type, supported=", ".join(MODEL_TYPES)))
        warnings = []
        names = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
                 "mlp.up_proj", "mlp.down_proj")
        for keep in s.keep:
            hit = [n for n in names if keep in n]
            if hit:  # AutoAWQ's scaling looks these up by name: leaving one out crashes it mid-job
                errors.append(msg("AutoAWQ cannot leave {modules} unquantized (its scaling needs every linear layer "
                                  "of a decoder block): use --method awq --backend llmcompressor --keep {keep}",
                                  modules=", ".join(hit), keep=keep))
            elif keep.startswith("re:"):
                errors.append(msg("--keep {keep}: AutoAWQ takes module names, not re: patterns", keep=keep))
            else:
                warnings.append(msg("--keep {keep} matches none of a decoder layer's linear layers ({names}): it only "
                                    "applies to other modules with that name", keep=keep, names=", ".join(names)))
        if problem := group_size_problem(text, s.group_size):
            errors.append(problem)
        return errors, warnings
