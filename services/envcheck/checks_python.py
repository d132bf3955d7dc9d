"""Python itself: version, 64-bit, a virtual environment."""
from __future__ import annotations

from services.envcheck.context import CheckContext
from services.envcheck.model import CheckResult, Fix
from services.envcheck.probe import Probe


def check_python(probe: Probe, ctx: CheckContext) -> CheckResult:
    info = probe.python_info()
    v = tuple(int(x) for x in info["version"].split(".")[:2])
    details = f"{info['executable']} (Python {info['version']}, {info['bits']}-bit)"
    if info["bits"] != 64:
        return CheckResult("python", "Python", "fail", f"Python {info['version']} is {info['bits']}-bit",
                           details + "\nPyTorch and CUDA need a 64-bit Python.",
                           Fix("info", "Install 64-bit Python 3.11 from python.org or Miniconda, then reinstall QuantDesk's environment"))
    if v < (3, 10):
        return CheckResult("python", "Python", "fail", f"Python {info['version']} is too old (3.10+ needed)", details,
                           Fix("info", "Install Python 3.11 (64-bit)"))
    return CheckResult("python", "Python", "ok", f"Python {info['version']}, 64-bit", details)


def check_venv(probe: Probe, ctx: CheckContext) -> CheckResult:
    import sys

    if getattr(sys, "frozen", False):
        return CheckResult("venv", "Virtual environment", "skip", "the installed app: jobs run in its ML runtime")
    info = probe.python_info()
    if info["conda_prefix"]:
        return CheckResult("venv", "Virtual environment", "ok", f"conda environment {info['conda_prefix']}")
    if info["prefix"] != info["base_prefix"]:
        return CheckResult("venv", "Virtual environment", "ok", f"virtual environment {info['prefix']}")
    cmd = "python -m venv .venv" + (r" && .venv\Scripts\activate" if probe.system() == "windows" else " && . .venv/bin/activate")
    return CheckResult("venv", "Virtual environment", "warn", "no virtual environment: packages go into the system Python",
                       f"Python prefix: {info['prefix']}. Installing CUDA builds of torch into the system Python "
                       "breaks other tools; a virtual or conda environment keeps them apart.",
                       Fix("command", "Create and activate a virtual environment", command=cmd))
