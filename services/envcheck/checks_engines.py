"""The environments QuantDesk manages: the ML runtime jobs run on, and the serving engines."""
from __future__ import annotations

from services.envcheck.context import CheckContext
from services.envcheck.model import CheckResult, Fix
from services.envcheck.probe import Probe
from services.messages import msg


def check_engines(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("Serving engines")
    states = probe.engines()
    details = "\n".join(f"{s['title']}: {s['status']} — {s['message']}" for s in states)
    have = [f"{s['title']} {s['version']}" for s in states if s["status"] == "installed"]
    llama = next((s for s in states if s["name"] == "llamacpp"), None)
    if llama and llama["status"] == "installed":
        return CheckResult("engines", title, "ok", msg("installed: {engines}", engines=", ".join(have)), details)
    return CheckResult("engines", title, "warn",
                       (msg("installed: {engines}", engines=", ".join(have)) + "; " if have else "")
                       + msg("llama.cpp is not installed: nothing can serve a GGUF export here"), details,
                       Fix("job", msg("install llama.cpp (about {minutes} min)", minutes=(llama or {}).get("minutes", 5)),
                           command="quantdesk engines install llamacpp", action="engine", args=["llamacpp"]))


def check_runtime(probe: Probe, ctx: CheckContext) -> CheckResult:
    from services.runtime import managed

    title = msg("ML runtime")
    s = managed.state()
    if s.status == "dev":
        return CheckResult("runtime", title, "ok", msg("development install: jobs run on this Python"), s.message)
    if s.status == "installed":
        return CheckResult("runtime", title, "ok", s.message)
    return CheckResult("runtime", title, "fail" if s.status == "broken" else "warn", s.message,
                       msg("Jobs that quantize, evaluate or export need torch, which the installed app keeps in its "
                           "own runtime (several GB with CUDA)."),
                       Fix("job", msg("install the ML runtime") if s.status != "broken" else msg("repair the ML runtime"),
                           command="quantdesk runtime " + ("repair" if s.status == "broken" else "install"),
                           action="runtime", args=["repair"] if s.status == "broken" else []))
