"""The interface every export target implements, and the settings they share.

A target reads the input checkpoint's format and shape, says what it refuses and why (`check`,
before any job starts), lists its prerequisites as doctor checks, builds its output into the job's
partial folder (`build`, in the job runner: it may import torch) and checks what it wrote (`verify`).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.checkpoint import CheckpointFormat
from services.envcheck.model import CheckResult, Fix
from services.jobs.events import Emitter
from services.messages import msg
from services.modelinfo import ModelShape
from services.schema import Setting
from services.targets.gpus import Gpu

KV_CHOICES = ("fp16", "int8", "int4", "fp8")

# The settings of all targets; each says which targets it applies to (CLI flags are built from these).
PARAMS: tuple[Setting, ...] = (
    Setting("gpu", str, None, "GPU to size for, e.g. 4090, A100 40GB (default: the first detected GPU)",
            methods=("vllm", "lmdeploy", "qserve")),
    Setting("gpu_mem", float, None, "memory of one GPU in GiB (overrides --gpu's)", methods=("vllm", "lmdeploy"),
            bounds=(0, 4096)),
    Setting("context", int, None, "longest sequence (prompt + answer) to serve (default 4096, or the model's "
            "limit if lower)", methods=("vllm", "lmdeploy"), bounds=(16, 1 << 20)),
    Setting("max_seqs", int, 8, "sequences served at once at that context", methods=("vllm", "lmdeploy", "qserve"),
            bounds=(1, 4096)),
    Setting("kv", str, "fp16", "KV cache: fp16, fp8 (vLLM), int8 or int4 (LMDeploy)", KV_CHOICES,
            methods=("vllm", "lmdeploy")),
    Setting("tp", int, 1, "tensor parallel size (GPUs)", methods=("vllm", "lmdeploy"), bounds=(1, 64)),
    Setting("port", int, 8000, "HTTP port of the server", methods=("vllm", "lmdeploy"), bounds=(1, 65535)),
    Setting("served_name", str, None, "model name clients ask for (default: the folder's name)",
            methods=("vllm", "lmdeploy")),
    Setting("engine", str, "auto", "LMDeploy engine: auto, turbomind or pytorch", ("auto", "turbomind", "pytorch"),
            methods=("lmdeploy",)),
    Setting("gguf_type", str, "q8_0", "GGUF tensor type: f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1 (here) or a "
            "K-quant such as q4_k_m (with llama-quantize)", methods=("gguf",)),
    Setting("gguf_verify", bool, True, "compare the file's logits with the source's (loads both in float32)",
            methods=("gguf",)),
    Setting("llama_quantize", str, None, "llama.cpp's llama-quantize, for K-quants (default: found on PATH)",
            methods=("gguf",)),
    Setting("precision", str, "w4a8kv4", "QServe precision: w4a8kv4 or w4a8kv8 (the same QoQ 4-bit weights)",
            ("w4a8kv4", "w4a8kv8"), methods=("qserve",)),
    Setting("group_size", str, "auto", "QServe weight groups: -1 (per channel, for A100-class GPUs), 128 (L40S and "
            "consumer GPUs) or auto (from --gpu)", ("auto", "-1", "128"), methods=("qserve",)),
    Setting("die_num", int, 1, "NPU dies to compile for", methods=("edge10",), bounds=(1, 64)),
    Setting("prefill", int, 512, "prefill sequence length", methods=("edge10",), bounds=(1, 1 << 16)),
    Setting("max_kv", int, 2048, "KV cache length (tokens)", methods=("edge10",), bounds=(16, 1 << 20)),
    Setting("die_remap", str, None, "LM_die_remap: 16 comma-separated die numbers (default 0..15)",
            methods=("edge10",)),
    Setting("vm_die_remap", str, None, "VM_die_remap for vision models: 16 die numbers (default 0..15)",
            methods=("edge10",)),
    Setting("compile_threads", int, 0, "COMPILE_THREAD for the compiler (0: its default; 1 avoids mixed-device "
            "failures)", methods=("edge10",), bounds=(0, 256)),
    Setting("image_tag", str, "latest", "tag of the vendor's tyquantize and tyllm images", methods=("edge10",)),
    Setting("registry", str, None, "the vendor's image registry host:port", methods=("edge10",)),
)


def module_check(module: str, package: str) -> CheckResult:
    """Is `module` installed in the ML runtime (looked up, not imported)?"""
    import importlib.util

    if importlib.util.find_spec(module) is not None:
        return CheckResult(f"module:{module}", package, "ok", msg("{package} is installed", package=package))
    return CheckResult(f"module:{module}", package, "fail", msg("{package} is not installed", package=package),
                       fix=Fix("command", msg("install {package}", package=package), command=f"pip install {package}"))


@dataclass
class TargetInput:
    """The checkpoint to export: its folder, config, format and shape (read without torch)."""
    model: Path
    cfg: dict
    fmt: CheckpointFormat
    shape: ModelShape | None
    source_of: str | None = None  # the quantize job whose source model this is (GGUF from a job id)


@dataclass
class Verdict:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # e.g. the engine chosen, the command, the plan

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class BuildInputs:
    source: TargetInput
    params: dict
    gpu: Gpu | None
    verdict: Verdict
    partial: Path  # write here
    out: Path  # where it will be once the job succeeds (scripts may name it)
    job_id: str = ""


class Target(ABC):
    name: str = ""
    title: str = ""
    summary: str = ""
    needs_torch = False  # build or verify imports the ML stack
    accepts_job_source = False  # a quantize job id means that job's unquantized source model (GGUF)
    scripts_without_prerequisites = False  # without its prerequisites it still writes the scripts to run elsewhere

    @property
    def schema(self) -> tuple[Setting, ...]:
        return tuple(s for s in PARAMS if s.applies(self.name))

    def prerequisites(self, params: dict | None = None) -> list[CheckResult]:
        """What this machine needs for `build` to run here (the doctor's checks, each with its fix)."""
        return []

    @abstractmethod
    def check(self, src: TargetInput, params: dict, gpu: Gpu | None) -> Verdict:
        """Everything refused or worth knowing before the job starts; errors say what to change."""

    @abstractmethod
    def build(self, b: BuildInputs, events: Emitter) -> dict:
        """Write the output into `b.partial`; return what to record (files, command...)."""

    def verify(self, b: BuildInputs, events: Emitter) -> dict:
        """Check what `build` wrote (in `b.partial`); {"ok": bool, ...}."""
        return {"ok": True}
