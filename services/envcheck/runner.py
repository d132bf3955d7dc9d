"""Run every check with progress; a check that crashes or hangs becomes a result, never an exception."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from services.envcheck import (
    checks_build,
    checks_desktop,
    checks_engines,
    checks_gpu,
    checks_python,
    checks_stack,
    checks_storage,
)
from services.envcheck.context import CheckContext
from services.envcheck.model import CheckResult, Report
from services.envcheck.probe import Probe
from services.messages import msg
from services.progress import Cancelled, ProgressFn, never_cancelled, no_progress

log = logging.getLogger("quantdesk.envcheck")

Check = Callable[[Probe, CheckContext], CheckResult]

CHECKS: list[tuple[str, str, Check]] = [
    ("python", msg("Python"), checks_python.check_python),
    ("venv", msg("Virtual environment"), checks_python.check_venv),
    ("nvidia", msg("NVIDIA driver and GPUs"), checks_gpu.check_nvidia),
    ("torch", msg("PyTorch"), checks_gpu.check_torch),
    ("cuda_toolkit", msg("CUDA toolkit (nvcc)"), checks_gpu.check_cuda_toolkit),
    ("msvc", msg("Visual Studio C++ x64 build tools"), checks_build.check_msvc),
    ("cl_arch", msg("cl.exe architecture"), checks_build.check_cl_arch),
    ("windows_sdk", msg("Windows SDK headers"), checks_build.check_windows_sdk),
    ("long_paths", msg("Long paths"), checks_build.check_long_paths),
    ("compiler", msg("C/C++ compiler"), checks_build.check_compiler),
    ("ninja", msg("ninja"), checks_build.check_ninja),
    ("flash_attn", msg("Attention kernels (flash-attn)"), checks_stack.check_flash_attn),
    ("autoawq", msg("AutoAWQ"), checks_stack.check_autoawq),
    ("transformers", msg("transformers"), checks_stack.check_transformers),
    ("triton", msg("triton"), checks_stack.check_triton),
    ("runtime", msg("ML runtime"), checks_engines.check_runtime),
    ("engines", msg("Serving engines"), checks_engines.check_engines),
    ("disk", msg("Disk space for outputs"), checks_storage.check_disk),
    ("hub", msg("Model and dataset hubs"), checks_storage.check_hub),
    ("cjk_font", msg("Chinese font"), checks_desktop.check_cjk_font),
]


def run_one(check_id: str, title: str, fn: Check, probe: Probe, ctx: CheckContext, timeout: float,
            cancelled: Callable[[], bool] = never_cancelled) -> CheckResult:
    """Run one check in a daemon thread; past `timeout` it is reported as timed out. A cancel returns at once
    (Cancelled): the probe kills its child, and the thread never holds up quitting."""
    results: list[CheckResult] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(fn(probe, ctx))
        except BaseException as exc:  # reported below, never lost in the thread
            errors.append(exc)

    thread = threading.Thread(target=target, name=f"check-{check_id}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while thread.is_alive():
        if cancelled():
            raise Cancelled()
        if time.monotonic() >= deadline:
            return CheckResult(check_id, title, "warn", msg("timed out after {seconds:.0f} s", seconds=timeout),
                               msg("The check is still running in the background; re-run to try again."))
        thread.join(0.05)
    if errors:
        exc = errors[0]
        log.error("check %s crashed", check_id, exc_info=exc)
        return CheckResult(check_id, title, "warn",
                           msg("the check itself failed: {error}", error=f"{type(exc).__name__}: {exc}"))
    return results[0]


def run_checks(probe: Probe | None = None, ctx: CheckContext | None = None, progress: ProgressFn = no_progress,
               cancelled: Callable[[], bool] = never_cancelled, timeout: float = 90.0,
               only: list[str] | None = None) -> Report:
    """Run the checks (all, or those in `only`) and return the report."""
    probe = probe or Probe()
    ctx = ctx or CheckContext(output_dir=".")
    probe.cancelled = cancelled
    todo = [c for c in CHECKS if not only or c[0] in only]
    results = []
    started = time.monotonic()
    for i, (cid, title, fn) in enumerate(todo):
        if cancelled():
            raise Cancelled()
        progress(i, len(todo), title)
        results.append(run_one(cid, title, fn, probe, ctx, timeout, cancelled))
    progress(len(todo), len(todo), "done")
    info = probe.python_info()
    platform = {"system": probe.system(), "python": info["version"], "executable": info["executable"],
                "seconds": round(time.monotonic() - started, 2)}
    nv = probe.nvidia()
    if nv.driver:
        platform["driver"] = nv.driver
    return Report(results, platform)
