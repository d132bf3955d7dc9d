"""Fixes QuantDesk performs itself (the "action" kind): capture MSVC, pip install, set a variable."""
from __future__ import annotations

from pathlib import Path

from services.envcheck.jobenv import set_overrides
from services.envcheck.model import Fix
from services.envcheck.probe import Probe
from services.envcheck.vcvars import capture_msvc_env, find_vcvars64, save_msvc_env
from services.messages import msg
from services.runtime.runtime import current_runtime, interpreter_runtime


def run_fix(fix: Fix, config_dir: Path, probe: Probe | None = None, python: str | None = None) -> str:
    """Perform `fix`; return a one-line outcome, raise RuntimeError with the reason on failure.
    pip installs into `python` (default: the interpreter of the job runtime)."""
    probe = probe or Probe()
    python = python or current_runtime().python
    if fix.kind == "env":
        set_overrides(config_dir, fix.env)
        return msg("jobs will run with {variables}", variables=", ".join(f"{k}={v}" for k, v in fix.env.items()))
    if fix.action == "capture_msvc":
        vcvars = fix.args[0] if fix.args else find_vcvars64(probe)[0]
        if not vcvars:
            raise RuntimeError(msg("vcvars64.bat not found: install the Visual Studio C++ build tools first"))
        delta = capture_msvc_env(probe, vcvars)
        path = save_msvc_env(config_dir, delta)
        n = sum(len(v) for v in delta["prepend"].values())
        return msg("captured {variables} variables and {entries} path entries from {vcvars} into {path}",
                   variables=len(delta["set"]), entries=n, vcvars=vcvars, path=path)
    if fix.action == "pip_install":
        r = probe.run(interpreter_runtime("job", python).module_command("pip", "install", *fix.args), timeout=1800)
        if not r.ok:
            tail = (r.stderr or r.stdout).strip().splitlines()[-3:]
            raise RuntimeError(msg("pip install failed: {output}", output=" / ".join(tail)))
        return msg("installed {packages}", packages=" ".join(fix.args))
    raise RuntimeError(msg("this fix is done by hand: {fix}", fix=fix.label))


def job_for_fix(fix: Fix, probe: Probe | None = None):
    """The job a "job" fix starts: the ML runtime's install or repair, or an engine's install."""
    from services.jobs.spec import JobSpec

    if fix.action == "runtime":
        from services.runtime.managed import choose_torch

        info = (probe or Probe()).nvidia()
        build = choose_torch(info.driver, [g.sm for g in info.gpus if g.sm])
        return JobSpec(kind="runtime", model="-", params={"build": build.tag, "reason": build.reason,
                                                          "error": build.error, "repair": "repair" in fix.args})
    if fix.action == "engine":
        return JobSpec(kind="engine", model="-", params={"engine": fix.args[0]})
    raise ValueError(msg("no job for the fix {label!r}", label=fix.label))
