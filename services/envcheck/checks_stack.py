"""The quantization stack: flash-attn for the GPU, AutoAWQ and its kernels, transformers, triton."""
from __future__ import annotations

from services.envcheck.context import TESTED_AUTOAWQ, TESTED_TRANSFORMERS, CheckContext, version_tuple
from services.envcheck.model import CheckResult, Fix
from services.envcheck.probe import Probe


def _probe_failed(probe: Probe, check_id: str, title: str) -> CheckResult | None:
    pk = probe.packages()
    if pk.get("no_runtime"):
        return CheckResult(check_id, title, "skip", pk["probe_error"])
    if "probe_error" in pk:
        return CheckResult(check_id, title, "warn", "could not probe the Python environment", pk["probe_error"])
    return None


def check_flash_attn(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = "Attention kernels (flash-attn)"
    if failed := _probe_failed(probe, "flash_attn", title):
        return failed
    gpus = probe.nvidia().gpus
    if not gpus:
        return CheckResult("flash_attn", title, "skip", "no NVIDIA GPU: PyTorch SDPA is used on the CPU")
    pk = probe.packages()
    version = pk.get("flash-attn") or pk.get("flash_attn")
    oldest = min(gpus, key=lambda g: g.sm or 0)
    sm = oldest.sm or 0
    if version and version_tuple(version)[0] >= 2 and sm < 80:
        return CheckResult("flash_attn", title, "fail",
                           f"flash-attn {version} needs sm_80+, {oldest.name} is sm_{sm}",
                           "FlashAttention 2 runs on Ampere (sm_80) and newer. On this GPU use PyTorch SDPA "
                           "(attn_implementation=\"sdpa\"), or flash-attn 1.0.9 built with --no-build-isolation.",
                           Fix("command", "Remove flash-attn 2 and use PyTorch SDPA", command="pip uninstall -y flash-attn"))
    if version:
        imp = pk.get("flash_attn_import")
        if imp is not True:
            return CheckResult("flash_attn", title, "fail", f"flash-attn {version} is installed but does not import",
                               str(imp), Fix("command", "Reinstall it for this torch build",
                                             command="pip install --force-reinstall --no-build-isolation flash-attn"))
        return CheckResult("flash_attn", title, "ok", f"flash-attn {version} on sm_{sm}")
    if sm < 80:
        return CheckResult("flash_attn", title, "ok", f"PyTorch SDPA (right for sm_{sm}; FlashAttention 2 needs sm_80+)")
    return CheckResult("flash_attn", title, "ok", "PyTorch SDPA; flash-attn is optional",
                       "flash-attn speeds up long-context evaluation on sm_80+. Building it from source on Windows "
                       "takes hours without ninja; prefer a prebuilt wheel matching torch and CUDA.")


def check_autoawq(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = "AutoAWQ"
    if failed := _probe_failed(probe, "autoawq", title):
        return failed
    pk = probe.packages()
    version = pk.get("autoawq")
    fix = Fix("action", f"Install AutoAWQ {TESTED_AUTOAWQ}", command=f"pip install autoawq=={TESTED_AUTOAWQ}",
              action="pip_install", args=[f"autoawq=={TESTED_AUTOAWQ}"])
    if not version:
        return CheckResult("autoawq", title, "fail", "autoawq is not installed", "", fix)
    kernels = pk.get("awq_ext_import") is True
    gpus = probe.nvidia().gpus
    detail = ("AutoAWQ's CUDA kernels (awq_ext) import." if kernels else
              "No compiled kernels (awq_ext): quantization works; inference uses the plain torch path "
              "(QuantDesk dequantizes once for evaluation).")
    if version != TESTED_AUTOAWQ:
        return CheckResult("autoawq", title, "warn", f"autoawq {version} (QuantDesk is tested with {TESTED_AUTOAWQ})",
                           detail, fix)
    summary = f"autoawq {version}, " + ("CUDA kernels" if kernels else ("no kernels" if gpus else "CPU path"))
    return CheckResult("autoawq", title, "ok", summary, detail)


def check_transformers(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = "transformers"
    if failed := _probe_failed(probe, "transformers", title):
        return failed
    version = probe.packages().get("transformers")
    fix = Fix("command", "Install the tested version", command=f"pip install transformers=={TESTED_TRANSFORMERS}.0")
    if not version:
        return CheckResult("transformers", title, "fail", "transformers is not installed", "", fix)
    if version_tuple(version)[:2] != version_tuple(TESTED_TRANSFORMERS)[:2]:
        return CheckResult("transformers", title, "warn", f"transformers {version} (tested: {TESTED_TRANSFORMERS}.x)",
                           "AutoAWQ is unmaintained; other versions may fail inside quantization.", fix)
    return CheckResult("transformers", title, "ok", f"transformers {version}")


def check_triton(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = "triton"
    if failed := _probe_failed(probe, "triton", title):
        return failed
    pk = probe.packages()
    windows = probe.system() == "windows"
    version = pk.get("triton-windows" if windows else "triton") or pk.get("triton")
    gpus = probe.nvidia().gpus
    if not gpus:
        if version:
            return CheckResult("triton", title, "ok", f"triton {version} (unused without a GPU)",
                               "AutoAWQ's GEMM layer takes the triton path whenever triton imports, GPU or not; "
                               "QuantDesk evaluates AWQ checkpoints through its own dequantized path on the CPU.")
        return CheckResult("triton", title, "skip", "no NVIDIA GPU: triton is not needed")
    if not version:
        pkg = "triton-windows" if windows else "triton"
        return CheckResult("triton", title, "warn", "triton not installed",
                           "Optional: some AWQ kernels and torch.compile use it.",
                           Fix("action", f"Install {pkg}", command=f"pip install {pkg}", action="pip_install", args=[pkg]))
    return CheckResult("triton", title, "ok", f"triton {version}")
