"""The "runtime" job: create or repair the managed ML runtime with progress; resumable (a rerun keeps what
pip already installed) and cancellable (pip's tree is stopped)."""
from __future__ import annotations

import sys
import time
from collections import deque
from pathlib import Path

from services.jobs.events import Emitter, JobFailure
from services.jobs.spec import JobSpec
from services.messages import msg
from services.runtime import managed, process


def _base_python() -> list[str]:
    """A Python 3.11 to create the runtime from: this one in a dev install; for the installed app the `py`
    launcher's 3.11 or a python3.11/python3/python on PATH (not the Microsoft Store's stubs)."""
    if not getattr(sys, "frozen", False):
        return [sys.executable]
    import shutil

    candidates = [["py", "-3.11"]] if sys.platform == "win32" and shutil.which("py") else []
    for name in ("python3.11", "python3", "python"):
        found = shutil.which(name)
        if found and "WindowsApps" not in found:
            candidates.append([found])
    for argv in candidates:
        r = process.run([*argv, "-c", "import sys; print(sys.version_info[:2] == (3, 11))"], timeout=60)
        if r.returncode == 0 and r.stdout.strip() == "True":
            return argv
    raise JobFailure(msg("no Python 3.11 was found to create the ML runtime from"),
                     hint=msg("install Python 3.11 from python.org (tick \"py launcher\"), then run the install again"),
                     bad_input=True)


def install(root: Path, build: managed.TorchBuild, wheels: Path | None, repair: bool, events: Emitter,
            torch: str = managed.TORCH, pins: tuple[str, ...] = managed.ML_PINS + managed.RUNNER_PINS,
            check_modules: tuple[str, ...] = managed.CHECK_MODULES, base_python: str | None = None,
            first: str | None = None) -> dict:
    from services.jobs.slots import try_lock

    root.mkdir(parents=True, exist_ok=True)
    held = try_lock(root / ".install.lock")
    if held is None:
        raise JobFailure(msg("another install or repair of the ML runtime is running"),
                         hint=msg("wait for it, or cancel it"),
                         bad_input=True)
    try:
        return _install(root, build, wheels, repair, events, torch, pins, check_modules, base_python, first)
    finally:
        held.release()


def _install(root: Path, build: managed.TorchBuild, wheels: Path | None, repair: bool, events: Emitter,
             torch: str, pins: tuple[str, ...], check_modules: tuple[str, ...], base_python: str | None,
             first: str | None) -> dict:
    started = time.monotonic()
    if build.error:
        raise JobFailure(build.error, bad_input=True)
    if wheels is not None and not wheels.is_dir():
        raise JobFailure(msg("--wheels {folder} is not a folder", folder=wheels),
                         hint=msg("give the folder with the downloaded wheels"),
                         bad_input=True)
    venv = root / "venv"
    python = managed.venv_python(venv)
    if repair and venv.exists() and not python.is_file():
        import shutil

        shutil.rmtree(venv)  # a venv without its Python is beyond pip's repair
    events.stage("venv", msg("reusing the runtime's environment in {folder}", folder=venv) if python.is_file()
                 else msg("creating the runtime's environment in {folder}", folder=venv))
    root.mkdir(parents=True, exist_ok=True)
    (root / managed.RECORD).unlink(missing_ok=True)  # incomplete until the end
    if not python.is_file():
        r = process.run([*([base_python] if base_python else _base_python()), "-m", "venv", str(venv)], timeout=600)
        if r.returncode != 0:
            raise JobFailure(msg("could not create the runtime's environment: {error}", error=r.stderr.strip()[-300:]))
    tail: deque[str] = deque(maxlen=40)
    previous = (managed.state(root, frozen=True).record or {}).get("build")
    commands = managed.pip_commands(python, build, wheels, repair or (previous not in (None, build.tag)), torch, pins,
                                    first)
    for i, argv in enumerate(commands):
        what = msg("torch ({build})", build=build.tag) if i == 0 else msg("the ML packages")
        events.stage("install", msg("step {step} of {steps}: {what}", step=i + 1, steps=len(commands), what=what))
        done = 0

        def line(text: str) -> None:
            nonlocal done
            print(text, flush=True)
            tail.append(text)
            if text.startswith(("Collecting ", "Processing ", "Requirement already satisfied")):
                done += 1
                events.progress(done, max(done, len(pins) + 1), msg("packages"), text.split(" (")[0][:80])

        proc = process.start(argv, stdout=process.PIPE, stderr=process.STDOUT, text=True)
        code = process.follow(proc, line, events.check)
        if code != 0:
            missing = next((t for t in tail if "No matching distribution" in t or "Could not find a version" in t), "")
            if wheels is not None and missing:
                raise JobFailure(msg("{folder} lacks a wheel pip needs: {missing}", folder=wheels, missing=missing.strip()),
                                 hint=msg("add it to the folder (pip download {package} -d DIR on a machine online)",
                                          package="torch" if i == 0 else "quantdesk[ml]"), bad_input=True)
            raise JobFailure(msg("pip failed while installing the runtime (exit status {code}): {output}", code=code,
                                 output=" / ".join(list(tail)[-2:])),
                             hint=msg("run it again to resume") if wheels else
                             msg("run it again to resume; offline, give --wheels DIR"))
    events.stage("check", msg("importing {modules}", modules=", ".join(check_modules)))
    probe = "import importlib, json; " + "; ".join(f"importlib.import_module({m!r})" for m in check_modules) + \
        "; import importlib.metadata as md; print(json.dumps(md.version(" + repr(torch.split("==")[0]) + ")))"
    r = process.run([str(python), "-c", probe], timeout=600)
    if r.returncode != 0:
        raise JobFailure(msg("the runtime was installed but does not import: {error}",
                             error=(r.stderr.strip().splitlines() or ["?"])[-1]), hint="quantdesk runtime repair")
    version = r.stdout.strip().strip('"')
    local = version.partition("+")[2]
    if torch.startswith("torch==") and local and local != build.tag:  # e.g. a CPU wheel where cu130 was asked
        raise JobFailure(msg("the runtime has torch {version}, not the {build} build", version=version, build=build.tag),
                         hint=msg("quantdesk runtime repair --cuda {build} (or add the {build} wheel to --wheels)",
                                  build=build.tag))
    record = managed.write_record(root, build, version, started)
    events.artifact(str(root), "runtime")
    return {"folder": str(root), **record}


def run(spec: JobSpec, events: Emitter) -> dict:
    p = spec.params
    build = managed.TorchBuild(str(p.get("build")), str(p.get("reason") or ""), p.get("error"))
    root = Path(p["root"]) if p.get("root") else managed.runtime_root()
    wheels = p.get("wheels")
    if wheels is not None and not str(wheels).strip():
        raise JobFailure(msg("--wheels is empty: give the folder with the downloaded wheels"), bad_input=True)
    return install(root, build, Path(wheels) if wheels is not None else None, bool(p.get("repair")), events,
                   first=managed.torch_spec(build))
