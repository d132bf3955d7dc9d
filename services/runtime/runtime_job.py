"""The "runtime" job: create or repair the managed ML runtime with progress; resumable (a rerun keeps what
pip already installed) and cancellable (pip's tree is stopped)."""
from __future__ import annotations

import sys
import time
from collections import deque
from pathlib import Path

from services.jobs.events import Emitter, JobFailure
from services.jobs.spec import JobSpec
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
    raise JobFailure("no Python 3.11 was found to create the ML runtime from",
                     hint="install Python 3.11 from python.org (tick \"py launcher\"), then run the install again",
                     bad_input=True)


def install(root: Path, build: managed.TorchBuild, wheels: Path | None, repair: bool, events: Emitter,
            torch: str = managed.TORCH, pins: tuple[str, ...] = managed.ML_PINS + managed.RUNNER_PINS,
            check_modules: tuple[str, ...] = managed.CHECK_MODULES, base_python: str | None = None,
            first: str | None = None) -> dict:
    from services.jobs.slots import try_lock

    root.mkdir(parents=True, exist_ok=True)
    held = try_lock(root / ".install.lock")
    if held is None:
        raise JobFailure("another install or repair of the ML runtime is running", hint="wait for it, or cancel it",
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
        raise JobFailure(f"--wheels {wheels} is not a folder", hint="give the folder with the downloaded wheels",
                         bad_input=True)
    venv = root / "venv"
    python = managed.venv_python(venv)
    if repair and venv.exists() and not python.is_file():
        import shutil

        shutil.rmtree(venv)  # a venv without its Python is beyond pip's repair
    events.stage("venv", f"{'reusing' if python.is_file() else 'creating'} the runtime's environment in {venv}")
    root.mkdir(parents=True, exist_ok=True)
    (root / managed.RECORD).unlink(missing_ok=True)  # incomplete until the end
    if not python.is_file():
        r = process.run([*([base_python] if base_python else _base_python()), "-m", "venv", str(venv)], timeout=600)
        if r.returncode != 0:
            raise JobFailure(f"could not create the runtime's environment: {r.stderr.strip()[-300:]}")
    tail: deque[str] = deque(maxlen=40)
    previous = (managed.state(root, frozen=True).record or {}).get("build")
    commands = managed.pip_commands(python, build, wheels, repair or (previous not in (None, build.tag)), torch, pins,
                                    first)
    for i, argv in enumerate(commands):
        events.stage("install", f"step {i + 1} of {len(commands)}: {'torch (' + build.tag + ')' if i == 0 else 'the ML packages'}")
        done = 0

        def line(text: str) -> None:
            nonlocal done
            print(text, flush=True)
            tail.append(text)
            if text.startswith(("Collecting ", "Processing ", "Requirement already satisfied")):
                done += 1
                events.progress(done, max(done, len(pins) + 1), "packages", text.split(" (")[0][:80])

        proc = process.start(argv, stdout=process.PIPE, stderr=process.STDOUT, text=True)
        code = process.follow(proc, line, events.check)
        if code != 0:
            missing = next((t for t in tail if "No matching distribution" in t or "Could not find a version" in t), "")
            if wheels is not None and missing:
                raise JobFailure(f"{wheels} lacks a wheel pip needs: {missing.strip()}",
                                 hint=f"add it to the folder (pip download {'torch' if i == 0 else 'quantdesk[ml]'} "
                                      f"-d DIR on a machine online)", bad_input=True)
            raise JobFailure(f"pip failed while installing the runtime (exit status {code}): {' / '.join(list(tail)[-2:])}",
                             hint="run it again to resume" + ("" if wheels else "; offline, give --wheels DIR"))
    events.stage("check", "importing " + ", ".join(check_modules))
    probe = "import importlib, json; " + "; ".join(f"importlib.import_module({m!r})" for m in check_modules) + \
        "; import importlib.metadata as md; print(json.dumps(md.version(" + repr(torch.split("==")[0]) + ")))"
    r = process.run([str(python), "-c", probe], timeout=600)
    if r.returncode != 0:
        raise JobFailure("the runtime was installed but does not import: " + (r.stderr.strip().splitlines() or ["?"])[-1],
                         hint="quantdesk runtime repair")
    version = r.stdout.strip().strip('"')
    local = version.partition("+")[2]
    if torch.startswith("torch==") and local and local != build.tag:  # e.g. a CPU wheel where cu130 was asked
        raise JobFailure(f"the runtime has torch {version}, not the {build.tag} build",
                         hint=f"quantdesk runtime repair --cuda {build.tag} (or add the {build.tag} wheel to --wheels)")
    record = managed.write_record(root, build, version, started)
    events.artifact(str(root), "runtime")
    return {"folder": str(root), **record}


def run(spec: JobSpec, events: Emitter) -> dict:
    p = spec.params
    build = managed.TorchBuild(str(p.get("build")), str(p.get("reason") or ""), p.get("error"))
    root = Path(p["root"]) if p.get("root") else managed.runtime_root()
    wheels = p.get("wheels")
    if wheels is not None and not str(wheels).strip():
        raise JobFailure("--wheels is empty: give the folder with the downloaded wheels", bad_input=True)
    return install(root, build, Path(wheels) if wheels is not None else None, bool(p.get("repair")), events,
                   first=managed.torch_spec(build))
