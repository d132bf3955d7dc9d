"""The "engine" job: create an engine's virtual environment, pip install its pinned packages (llama.cpp
is compiled: ninja's [n/total] lines are the progress), check the import, then write engine.json."""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections import deque
from pathlib import Path

from services.jobs.events import Emitter, Eta, JobFailure
from services.jobs.outputs import PARTIAL_MARKER
from services.jobs.spec import JobSpec
from services.messages import msg
from services.runtime import process
from services.runtime.runtime import current_runtime, interpreter_runtime
from services.serving.engines import (
    RECORD,
    WSL_HOME,
    Engine,
    EngineState,
    engines_root,
    get_engine,
    is_ours,
    venv_python,
    wsl_only,
    wsl_script,
)

NINJA = re.compile(r"^\s*\[(\d+)/(\d+)\]")
HINTS = (
    (re.compile(r"CMAKE_CX*_COMPILER not set|No CMAKE_CX*_COMPILER|could not find any instance of Visual Studio", re.I),
     "no C/C++ compiler was found: install the Visual Studio C++ build tools (Windows) or gcc/g++ (Linux); "
     "the Environment panel's compiler check says which"),
    (re.compile(r"No matching distribution|Could not find a version", re.I),
     "the package index does not serve this version: check the network or the pip index settings"),
    (re.compile(r"No space left on device", re.I), "the disk is full: free space or set QUANTDESK_ENGINES to "
     "another drive"),
    (re.compile(r"Read timed out|Connection (refused|reset)|Temporary failure in name resolution", re.I),
     "the package index could not be reached: check the network or proxy"),
)


def hint_for(lines) -> str:
    text = "\n".join(lines)
    return next((h for pattern, h in HINTS if pattern.search(text)), "")


def wsl_install_argv(engine: Engine) -> list[str]:
    """The command that installs a WSL-only engine inside WSL (its own venv under WSL_HOME)."""
    import shlex

    home = f"{WSL_HOME}/{engine.name}"
    script = (f"python3 -m venv {home} && {home}/bin/python -m pip install --progress-bar off "
              + " ".join(shlex.quote(p) for p in engine.packages))
    return ["wsl.exe", "-e", "bash", "-lc", script]


def base_python() -> str:
    """The interpreter new environments are made from (the job runner's own Python)."""
    here = current_runtime()
    if here.frozen:
        raise JobFailure(msg("engines are installed from the ML runtime's Python, and this job runs in the frozen app"),
                         hint=msg("install the runtime first: quantdesk runtime install"))
    return here.python


def lock(engine: Engine, root: Path):
    """The engine's install lock (None: an install or removal runs in another process)."""
    from services.jobs.slots import try_lock

    return try_lock(root / f".{engine.name}.lock")


def users(state: EngineState) -> list[int]:
    """Processes running on the engine's Python (a server, a K-quant job): removing it would break them."""
    import psutil

    env = str(state.env)
    pids = []
    for p in psutil.process_iter(["exe", "cmdline"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            if (p.info["exe"] or "").startswith(env) or cmd.startswith(env):
                pids.append(p.pid)
        except (psutil.Error, TypeError):
            continue
    return pids


def remove(name: str, root: Path | None = None) -> Path:
    """Delete an engine's folder (only one QuantDesk made, and not while it installs or runs); returns it."""
    from services.serving.engines import state

    engine = get_engine(name)
    root = root or engines_root()
    folder = engine.folder(root)
    if not folder.exists():
        raise FileNotFoundError(msg("{engine} is not installed ({folder} does not exist)", engine=engine.title,
                                    folder=folder))
    if not is_ours(folder):
        raise PermissionError(msg("{folder} was not made by QuantDesk (no {record}): remove it by hand if you mean to",
                                  folder=folder, record=RECORD))
    held = lock(engine, root)
    if held is None:
        raise PermissionError(msg("{engine} is being installed: cancel that job first", engine=engine.title))
    try:
        s = state(name, root)
        if s.status in ("installed", "broken") and (pids := users(s)):
            raise PermissionError(msg("{engine} is in use (process {pids}): stop its server or job first",
                                      engine=engine.title, pids=", ".join(map(str, pids[:3]))))
        shutil.rmtree(folder)
    finally:
        held.release()
    return folder


def _pip(python: Path | None, engine: Engine, events: Emitter, tail: deque) -> None:
    env = dict(os.environ)
    env.update(engine.build_env)
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    argv = (wsl_install_argv(engine) if python is None
            else interpreter_runtime(engine.name, python).module_command("pip", "install", "-v", "--progress-bar", "off",
                                                                  *engine.packages))
    events.log("pip install " + " ".join(engine.packages)
               + "".join(f"\n  {k}={v}" for k, v in engine.build_env.items()))
    eta: Eta | None = None
    last = 0.0

    def line(text: str) -> None:
        nonlocal eta, last
        print(text, flush=True)  # the job log
        tail.append(text)
        m = NINJA.match(text)
        if m:
            done, total = int(m.group(1)), int(m.group(2))
            eta = eta if eta and eta.total == total else Eta(total)
            if time.monotonic() - last > 1 or done == total:
                last = time.monotonic()
                events.progress(done, total, msg("steps"), msg("compiling {engine}", engine=engine.title),
                                eta.remaining(done))
        elif text.startswith(("Collecting ", "Building wheel", "Installing collected", "Successfully installed")):
            events.log(text.strip())

    proc = process.start(argv, env=env, stdout=process.PIPE, stderr=process.STDOUT, text=True)
    code = process.follow(proc, line, events.check)
    if code != 0:
        raise JobFailure(msg("pip could not install {engine} (exit status {code})", engine=engine.title, code=code),
                         hint=hint_for(tail) or msg("the job log has pip's output"))


def _version(python: Path | None, engine: Engine) -> str:
    code = f"import {engine.module} as m; print(getattr(m, '__version__', '?'))"
    argv = (["wsl.exe", "-e", wsl_script(engine, "python"), "-c", code] if python is None
            else interpreter_runtime(engine.name, python).code_command(code))
    r = process.run(argv, timeout=300)
    if r.returncode != 0:
        lines = (r.stderr or r.stdout).strip().splitlines()
        raise JobFailure(msg("{engine} was installed but does not import: {error}", engine=engine.title,
                             error=" / ".join(lines[-2:])),
                         hint=msg("the job log has the install's output; install it again"))
    return r.stdout.strip().splitlines()[-1]


def run(spec: JobSpec, events: Emitter) -> dict:
    engine = get_engine(str(spec.params.get("engine")))
    wsl = wsl_only(engine)
    if wsl and not shutil.which("wsl.exe"):
        raise JobFailure(msg("{engine} has no Windows build and WSL is not installed", engine=engine.title),
                         hint=msg("install WSL (wsl --install, then restart), then install the engine again"),
                         bad_input=True)
    root = Path(spec.params["root"]) if spec.params.get("root") else engines_root()
    if root.exists() and not root.is_dir():
        raise JobFailure(msg("{folder} is a file, not a folder", folder=root),
                         hint=msg("set QUANTDESK_ENGINES to a folder"), bad_input=True)
    folder = engine.folder(root)
    held = lock(engine, root)
    if held is None:
        raise JobFailure(msg("another install of {engine} is running", engine=engine.title),
                         hint=msg("wait for it, or cancel it"),
                         bad_input=True)
    try:
        return _install(engine, root, folder, wsl, bool(spec.params.get("reinstall")), events)
    finally:
        held.release()


def _install(engine: Engine, root: Path, folder: Path, wsl: bool, reinstall: bool, events: Emitter) -> dict:
    started = time.monotonic()
    if folder.exists():
        if not folder.is_dir() or not is_ours(folder):
            raise JobFailure(msg("{folder} exists and was not made by QuantDesk", folder=folder),
                             hint=msg("move it away, or set QUANTDESK_ENGINES to another folder"), bad_input=True)
        if (folder / RECORD).is_file() and not reinstall:
            raise JobFailure(msg("{engine} is already installed in {folder}", engine=engine.title, folder=folder),
                             hint=msg("remove it first (quantdesk engines remove {name}) or use --reinstall",
                                      name=engine.name),
                             bad_input=True)
        for old in folder.glob("env-*"):  # interrupted installs
            if (old / PARTIAL_MARKER).is_file():
                shutil.rmtree(old, ignore_errors=True)
        if not (folder / RECORD).is_file():  # an interrupted install of the older one-venv layout
            shutil.rmtree(folder, ignore_errors=True)
    env = folder / time.strftime("env-%Y%m%d-%H%M%S")
    tail: deque[str] = deque(maxlen=60)
    try:
        events.stage("venv", msg("creating the {engine} environment in {folder}", engine=engine.title,
                                 folder=msg("WSL ({folder})", folder=f"{WSL_HOME}/{engine.name}") if wsl else env))
        env.mkdir(parents=True)
        (env / PARTIAL_MARKER).write_text(str(os.getpid()), encoding="utf-8")
        python: Path | None = None
        if not wsl:  # inside WSL the install command makes the venv
            r = process.run(interpreter_runtime("base", base_python()).module_command("venv", str(env)), timeout=600)
            if r.returncode != 0:
                raise JobFailure(msg("could not create a virtual environment: {error}", error=r.stderr.strip()[-300:]),
                                 hint=msg("on Debian/Ubuntu install python3-venv"))
            python = venv_python(env)
        events.stage("install", msg("installing {packages} (about {minutes} min on 2 cores)",
                                    packages=", ".join(engine.packages), minutes=engine.minutes))
        _pip(python, engine, events, tail)
        events.stage("check", msg("importing {modules}", modules=engine.module))
        version = _version(python, engine)
        events.check()
        record = {"tool": "quantdesk", "name": engine.name, "version": version,
                  "python": str(python) if python else None, "env": str(env), "wsl": wsl,
                  "packages": list(engine.packages), "build_env": engine.build_env,
                  "installed": time.strftime("%Y-%m-%d %H:%M:%S"), "duration_s": round(time.monotonic() - started, 1)}
        tmp = folder / (RECORD + ".new")
        tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
        (env / PARTIAL_MARKER).unlink(missing_ok=True)
        os.replace(tmp, folder / RECORD)  # the switch: from here on the new venv is the engine
    except BaseException:
        shutil.rmtree(env, ignore_errors=True)
        if not (folder / RECORD).is_file():
            shutil.rmtree(folder, ignore_errors=True)
        raise
    for old in folder.glob("env-*"):
        if old != env:
            shutil.rmtree(old, ignore_errors=True)  # a server may still run on it: what is open stays readable
    for legacy in ("bin", "lib", "lib64", "include", "Scripts", "Lib"):  # a venv of the older one-venv layout
        shutil.rmtree(folder / legacy, ignore_errors=True)
    (folder / "pyvenv.cfg").unlink(missing_ok=True)
    events.artifact(str(folder), "engine")
    return {"engine": engine.name, "version": version, "folder": str(folder), "duration_s": record["duration_s"]}
