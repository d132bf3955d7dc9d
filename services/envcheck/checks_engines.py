"""Serving engines: which of llama.cpp, vLLM and LMDeploy are installed in their own environments."""
from __future__ import annotations

from services.envcheck.context import CheckContext
from services.envcheck.model import CheckResult, Fix
from services.envcheck.probe import Probe


def check_engines(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = "Serving engines"
    states = probe.engines()
    details = "\n".join(f"{s['title']}: {s['status']} — {s['message']}" for s in states)
    have = [f"{s['title']} {s['version']}" for s in states if s["status"] == "installed"]
    llama = next((s for s in states if s["name"] == "llamacpp"), None)
    if llama and llama["status"] == "installed":
        return CheckResult("engines", title, "ok", "installed: " + ", ".join(have), details)
    return CheckResult("engines", title, "warn",
                       ("installed: " + ", ".join(have) + "; " if have else "")
                       + "llama.cpp is not installed: nothing can serve a GGUF export here", details,
                       Fix("command", f"install llama.cpp (about {(llama or {}).get('minutes', 5)} min)",
                           command="quantdesk engines install llamacpp"))
