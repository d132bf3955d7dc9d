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


def _base_python() -> str:
    if getattr(sys, "frozen", False):  # the installer's embedded Python, or one on PATH
        import shutil

        found = shutil.which("python3") or shutil.which("python") or shutil.which("py")
        if not found:
            raise JobFailure("no Python 3.11 was found to create the runtime from",
                             hint="install Python 3.11 from python.org (the installer can do it) and try again",
                             bad_input=True)
        return found
    return sys.executable


def install(root: Path, build: managed.TorchBuild, wheels: Path | None, repair: bool, events: Emitter,
            torch: str = managed.TORCH, pins: tuple[str, ...] = managed.ML_PINS + managed.RUNNER_PINS,
            check_modules: tuple[str, ...] = managed.CHECK_MODULES, base_python: str | None = None) -> dict:
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
        r = process.run([base_python or _base_python(), "-m", "venv", str(venv)], timeout=600)
        if r.returncode != 0:
            raise JobFailure(f"could not create the runtime's environment: {r.stderr.strip()[-300:]}")
    tail: deque[str] = deque(maxlen=40)
    commands = managed.pip_commands(python, build, wheels, repair, torch, pins)
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
            raise JobFailure(f"pip failed while installing the runtime (exit status {code}): {' / '.join(list(tail)[-2:])}",
                             hint="run it again to resume; offline, give --wheels DIR with the wheels")
    events.stage("check", "importing " + ", ".join(check_modules))
    probe = "import importlib, json; " + "; ".join(f"importlib.import_module({m!r})" for m in check_modules) + \
        "; import importlib.metadata as md; print(json.dumps(md.version(" + repr(torch.split("==")[0]) + ")))"
    r = process.run([str(python), "-c", probe], timeout=600)
    if r.returncode != 0:
        raise JobFailure("the runtime was installed but does not import: " + (r.stderr.strip().splitlines() or ["?"])[-1],
                         hint="quantdesk runtime repair")
    record = managed.write_record(root, build, r.stdout.strip().strip('"'), started)
    events.artifact(str(root), "runtime")
    return {"folder": str(root), **record}


def run(spec: JobSpec, events: Emitter) -> dict:
    p = spec.params
    build = managed.TorchBuild(str(p.get("build")), str(p.get("reason") or ""), p.get("error"))
    root = Path(p["root"]) if p.get("root") else managed.runtime_root()
    return install(root, build, Path(p["wheels"]) if p.get("wheels") else None, bool(p.get("repair")), events)
