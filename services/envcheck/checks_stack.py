"""The quantization stack: flash-attn for the GPU, AutoAWQ and its kernels, transformers, triton."""
from __future__ import annotations

from services.envcheck.context import TESTED_AUTOAWQ, TESTED_TRANSFORMERS, CheckContext, version_tuple
from services.envcheck.model import CheckResult, Fix
from services.envcheck.probe import Probe
from services.messages import msg


def _probe_failed(probe: Probe, check_id: str, title: str) -> CheckResult | None:
    pk = probe.packages()
    if pk.get("no_runtime"):
        return CheckResult(check_id, title, "skip", pk["probe_error"])
    if "probe_error" in pk:
        return CheckResult(check_id, title, "warn", msg("could not probe the Python environment"), pk["probe_error"])
    return None


def check_flash_attn(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("Attention kernels (flash-attn)")
    if failed := _probe_failed(probe, "flash_attn", title):
        return failed
    gpus = probe.nvidia().gpus
    if not gpus:
        return CheckResult("flash_attn", title, "skip", msg("no NVIDIA GPU: PyTorch SDPA is used on the CPU"))
    pk = probe.packages()
    version = pk.get("flash-attn") or pk.get("flash_attn")
    oldest = min(gpus, key=lambda g: g.sm or 0)
    sm = oldest.sm or 0
    if version and version_tuple(version)[0] >= 2 and sm < 80:
        return CheckResult("flash_attn", title, "fail",
                           msg("flash-attn {version} needs sm_80+, {gpu} is sm_{sm}", version=version, gpu=oldest.name,
                               sm=sm),
                           msg("FlashAttention 2 runs on Ampere (sm_80) and newer. On this GPU use PyTorch SDPA "
                               "(attn_implementation=\"sdpa\"), or flash-attn 1.0.9 built with --no-build-isolation."),
                           Fix("command", msg("Remove flash-attn 2 and use PyTorch SDPA"),
                               command="pip uninstall -y flash-attn"))
    if version:
        imp = pk.get("flash_attn_import")
        if imp is not True:
            return CheckResult("flash_attn", title, "fail",
                               msg("flash-attn {version} is installed but does not import", version=version),
                               str(imp), Fix("command", msg("Reinstall it for this torch build"),
                                             command="pip install --force-reinstall --no-build-isolation flash-attn"))
        return CheckResult("flash_attn", title, "ok", msg("flash-attn {version} on sm_{sm}", version=version, sm=sm))
    if sm < 80:
        return CheckResult("flash_attn", title, "ok",
                           msg("PyTorch SDPA (right for sm_{sm}; FlashAttention 2 needs sm_80+)", sm=sm))
    return CheckResult("flash_attn", title, "ok", msg("PyTorch SDPA; flash-attn is optional"),
                       msg("flash-attn speeds up long-context evaluation on sm_80+. Building it from source on Windows "
                           "takes hours without ninja; prefer a prebuilt wheel matching torch and CUDA."))


def check_autoawq(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("AutoAWQ")
    if failed := _probe_failed(probe, "autoawq", title):
        return failed
    pk = probe.packages()
    version = pk.get("autoawq")
    fix = Fix("action", msg("Install AutoAWQ {version}", version=TESTED_AUTOAWQ), command=f"pip install autoawq=={TESTED_AUTOAWQ}",
              action="pip_install", args=[f"autoawq=={TESTED_AUTOAWQ}"])
    if not version:
        return CheckResult("autoawq", title, "fail", msg("autoawq is not installed"), "", fix)
    kernels = pk.get("awq_ext_import") is True
    gpus = probe.nvidia().gpus
    detail = (msg("AutoAWQ's CUDA kernels (awq_ext) import.") if kernels else
              msg("No compiled kernels (awq_ext): quantization works; inference uses the plain torch path "
                  "(QuantDesk dequantizes once for evaluation)."))
    if version != TESTED_AUTOAWQ:
        return CheckResult("autoawq", title, "warn",
                           msg("autoawq {version} (QuantDesk is tested with {tested})", version=version,
                               tested=TESTED_AUTOAWQ),
                           detail, fix)
    summary = msg("autoawq {version}, {kernels}", version=version,
                  kernels=msg("CUDA kernels") if kernels else (msg("no kernels") if gpus else msg("CPU path")))
    return CheckResult("autoawq", title, "ok", summary, detail)


def check_transformers(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("transformers")
    if failed := _probe_failed(probe, "transformers", title):
        return failed
    version = probe.packages().get("transformers")
    fix = Fix("command", msg("Install the tested version"), command=f"pip install transformers=={TESTED_TRANSFORMERS}.0")
    if not version:
        return CheckResult("transformers", title, "fail", msg("transformers is not installed"), "", fix)
    if version_tuple(version)[:2] != version_tuple(TESTED_TRANSFORMERS)[:2]:
        return CheckResult("transformers", title, "warn",
                           msg("transformers {version} (tested: {tested}.x)", version=version, tested=TESTED_TRANSFORMERS),
                           msg("AutoAWQ is unmaintained; other versions may fail inside quantization."), fix)
    return CheckResult("transformers", title, "ok", f"transformers {version}")


def check_triton(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("triton")
    if failed := _probe_failed(probe, "triton", title):
        return failed
    pk = probe.packages()
    windows = probe.system() == "windows"
    version = pk.get("triton-windows" if windows else "triton") or pk.get("triton")
    gpus = probe.nvidia().gpus
    if not gpus:
        if version:
            return CheckResult("triton", title, "ok", msg("triton {version} (unused without a GPU)", version=version),
                               msg("AutoAWQ's GEMM layer takes the triton path whenever triton imports, GPU or not; "
                                   "QuantDesk evaluates AWQ checkpoints through its own dequantized path on the CPU."))
        return CheckResult("triton", title, "skip", msg("no NVIDIA GPU: triton is not needed"))
    if not version:
        pkg = "triton-windows" if windows else "triton"
        return CheckResult("triton", title, "warn", msg("triton not installed"),
                           msg("Optional: some AWQ kernels and torch.compile use it."),
                           Fix("action", msg("Install {package}", package=pkg), command=f"pip install {pkg}", action="pip_install", args=[pkg]))
    return CheckResult("triton", title, "ok", f"triton {version}")
