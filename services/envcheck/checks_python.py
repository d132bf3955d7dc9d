"""Python itself: version, 64-bit, a virtual environment."""
from __future__ import annotations

from services.envcheck.context import CheckContext
from services.envcheck.model import CheckResult, Fix
from services.envcheck.probe import Probe
from services.messages import msg


def check_python(probe: Probe, ctx: CheckContext) -> CheckResult:
    info = probe.python_info()
    v = tuple(int(x) for x in info["version"].split(".")[:2])
    details = msg("{exe} (Python {version}, {bits}-bit)", exe=info["executable"], version=info["version"], bits=info["bits"])
    if info["bits"] != 64:
        return CheckResult("python", "Python", "fail",
                           msg("Python {version} is {bits}-bit", version=info["version"], bits=info["bits"]),
                           details + "\n" + msg("PyTorch and CUDA need a 64-bit Python."),
                           Fix("info", msg("Install 64-bit Python 3.11 from python.org or Miniconda, then reinstall "
                                           "QuantDesk's environment")))
    if v < (3, 10):
        return CheckResult("python", "Python", "fail",
                           msg("Python {version} is too old (3.10+ needed)", version=info["version"]), details,
                           Fix("info", msg("Install Python 3.11 (64-bit)")))
    return CheckResult("python", "Python", "ok", msg("Python {version}, 64-bit", version=info["version"]), details)


def check_venv(probe: Probe, ctx: CheckContext) -> CheckResult:
    import sys

    if getattr(sys, "frozen", False):
        return CheckResult("venv", msg("Virtual environment"), "skip",
                           msg("the installed app: jobs run in its ML runtime"))
    info = probe.python_info()
    if info["conda_prefix"]:
        return CheckResult("venv", msg("Virtual environment"), "ok",
                           msg("conda environment {prefix}", prefix=info["conda_prefix"]))
    if info["prefix"] != info["base_prefix"]:
        return CheckResult("venv", msg("Virtual environment"), "ok",
                           msg("virtual environment {prefix}", prefix=info["prefix"]))
    cmd = "python -m venv .venv" + (r" && .venv\Scripts\activate" if probe.system() == "windows" else " && . .venv/bin/activate")
    return CheckResult("venv", msg("Virtual environment"), "warn",
                       msg("no virtual environment: packages go into the system Python"),
                       msg("Python prefix: {prefix}. Installing CUDA builds of torch into the system Python breaks "
                           "other tools; a virtual or conda environment keeps them apart.", prefix=info["prefix"]),
                       Fix("command", msg("Create and activate a virtual environment"), command=cmd))
