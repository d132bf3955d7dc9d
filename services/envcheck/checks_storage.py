"""Disk space for outputs; Hugging Face / ModelScope reachability, offline mode and caches."""
from __future__ import annotations

from services.envcheck.context import CheckContext, join
from services.envcheck.model import CheckResult, Fix
from services.envcheck.probe import Probe
from services.messages import msg

GIB = 1024**3
HF_URL = "https://huggingface.co"
MODELSCOPE_URL = "https://www.modelscope.cn"
HF_MIRROR = "https://hf-mirror.com"


def check_disk(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("Disk space for outputs")
    free = probe.disk_free(ctx.output_dir)
    if free is None:
        return CheckResult("disk", title, "warn", msg("cannot read free space at {path}", path=ctx.output_dir))
    text = msg("{free:.1f} GiB free at {path}", free=free / GIB, path=ctx.output_dir)
    fix = Fix("info", msg("Free some space or pick another default output folder in Settings"))
    if free < 5 * GIB:
        return CheckResult("disk", title, "fail", text, msg("A 7B model's AWQ output takes ~4 GiB plus temporary files."),
                           fix)
    if free < 20 * GIB:
        return CheckResult("disk", title, "warn", text, msg("Enough for small models; a 7B fp16 copy needs ~13 GiB."),
                           fix)
    return CheckResult("disk", title, "ok", text)


def _hf_cache(probe: Probe) -> str:
    if cache := probe.env("HF_HUB_CACHE"):
        return cache
    home = probe.env("HF_HOME") or join(probe.system(), probe.env("USERPROFILE") or probe.env("HOME") or "~",
                                        ".cache", "huggingface")
    return join(probe.system(), home, "hub")


def check_hub(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("Model and dataset hubs")
    cache = _hf_cache(probe)
    endpoint = probe.env("HF_ENDPOINT") or HF_URL
    if (probe.env("HF_HUB_OFFLINE") or "").lower() in ("1", "true", "yes"):
        return CheckResult("hub", title, "ok",
                           msg("offline mode (HF_HUB_OFFLINE): only local files and the cache are used"),
                           msg("Hugging Face cache: {path}", path=cache))
    hf = probe.http_ok(endpoint)
    ms = probe.http_ok(MODELSCOPE_URL)
    details = (msg("Hugging Face ({endpoint}): {state}", endpoint=endpoint, state=hf or msg("reachable")) + "\n"
               + (msg("ModelScope: {state}", state=ms) if ms else msg("ModelScope: reachable")) + "\n"
               + msg("Hugging Face cache: {path}", path=cache))
    if not hf:
        return CheckResult("hub", title, "ok", msg("{endpoint} reachable", endpoint=endpoint), details)
    if not ms:
        return CheckResult("hub", title, "warn", msg("Hugging Face unreachable; ModelScope reachable"), details,
                           Fix("env", msg("Use a Hugging Face mirror (or pick ModelScope datasets)"),
                               env={"HF_ENDPOINT": HF_MIRROR}))
    return CheckResult("hub", title, "warn", msg("no hub reachable: use local files and the cache"), details,
                       Fix("env", msg("Work offline: hub lookups fail fast instead of waiting"),
                           env={"HF_HUB_OFFLINE": "1"}))
