"""Disk space for outputs; Hugging Face / ModelScope reachability, offline mode and caches."""
from __future__ import annotations

from services.envcheck.context import CheckContext, join
from services.envcheck.model import CheckResult, Fix
from services.envcheck.probe import Probe

GB = 1000**3
HF_URL = "https://huggingface.co"
MODELSCOPE_URL = "https://www.modelscope.cn"
HF_MIRROR = "https://hf-mirror.com"


def check_disk(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = "Disk space for outputs"
    free = probe.disk_free(ctx.output_dir)
    if free is None:
        return CheckResult("disk", title, "warn", f"cannot read free space at {ctx.output_dir}")
    text = f"{free / GB:.1f} GB free at {ctx.output_dir}"
    fix = Fix("info", "Free some space or pick another default output folder in Settings")
    if free < 5 * GB:
        return CheckResult("disk", title, "fail", text, "A 7B model's AWQ output takes ~4 GB plus temporary files.", fix)
    if free < 20 * GB:
        return CheckResult("disk", title, "warn", text, "Enough for small models; a 7B fp16 copy needs ~14 GB.", fix)
    return CheckResult("disk", title, "ok", text)


def _hf_cache(probe: Probe) -> str:
    if cache := probe.env("HF_HUB_CACHE"):
        return cache
    home = probe.env("HF_HOME") or join(probe.system(), probe.env("USERPROFILE") or probe.env("HOME") or "~",
                                        ".cache", "huggingface")
    return join(probe.system(), home, "hub")


def check_hub(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = "Model and dataset hubs"
    cache = _hf_cache(probe)
    endpoint = probe.env("HF_ENDPOINT") or HF_URL
    if (probe.env("HF_HUB_OFFLINE") or "").lower() in ("1", "true", "yes"):
        return CheckResult("hub", title, "ok", "offline mode (HF_HUB_OFFLINE): only local files and the cache are used",
                           f"Hugging Face cache: {cache}")
    hf = probe.http_ok(endpoint)
    ms = probe.http_ok(MODELSCOPE_URL)
    details = (f"Hugging Face ({endpoint}): {'reachable' if not hf else hf}\n"
               f"ModelScope: {'reachable' if not ms else ms}\nHugging Face cache: {cache}")
    if not hf:
        return CheckResult("hub", title, "ok", f"{endpoint} reachable", details)
    if not ms:
        return CheckResult("hub", title, "warn", "Hugging Face unreachable; ModelScope reachable", details,
                           Fix("env", "Use a Hugging Face mirror (or pick ModelScope datasets)", env={"HF_ENDPOINT": HF_MIRROR}))
    return CheckResult("hub", title, "warn", "no hub reachable: use local files and the cache", details,
                       Fix("env", "Work offline: hub lookups fail fast instead of waiting", env={"HF_HUB_OFFLINE": "1"}))
