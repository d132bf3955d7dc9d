"""A Runtime: the interpreter (and packages) a child process runs on, and how to start a module there.

- the current interpreter with the source tree on PYTHONPATH (a development install),
- a frozen executable's runner mode (`QuantDesk.exe --run-module MODULE ...`),
- a managed virtual environment (its own python), e.g. the ML runtime or a serving engine's.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[2]
RUN_MODULE_FLAG = "--run-module"  # the frozen executable's runner mode


@dataclass(frozen=True)
class Runtime:
    name: str
    python: str  # the interpreter, or the frozen executable
    frozen: bool = False
    pythonpath: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    def module_command(self, module: str, *args: str) -> list[str]:
        """argv that runs `python -m module args` on this runtime."""
        if self.frozen:
            return [self.python, RUN_MODULE_FLAG, module, *args]
        return [self.python, "-m", module, *args]

    def code_command(self, code: str, *args: str) -> list[str]:
        """argv that runs `python -c code args` (a real interpreter only: the frozen runner mode runs modules)."""
        if self.frozen:
            raise ValueError(f"the {self.name} runtime is the frozen app: it runs modules, not -c code")
        return [self.python, "-c", code, *args]

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """`base` (default: this process's) with what the runtime needs: its paths, UTF-8 I/O."""
        env = dict(os.environ if base is None else base)
        env.update(self.env)
        if self.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join([*self.pythonpath, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONIOENCODING"] = "utf-8"
        return env


def current_runtime() -> Runtime:
    """This process's interpreter: a frozen build's runner mode, or Python with the source tree."""
    if getattr(sys, "frozen", False):
        return Runtime("bundled", sys.executable, frozen=True)
    return Runtime("current", sys.executable, pythonpath=(str(SOURCE_ROOT),))


def job_runtime() -> Runtime:
    """Where jobs run: a dev install's own Python; in an installed (frozen) QuantDesk the managed ML runtime
    with the bundled sources on its path, or, before it is installed, the app's runner mode (no torch)."""
    if not getattr(sys, "frozen", False):
        return current_runtime()
    from services.runtime import managed

    s = managed.state(frozen=True)
    if s.status != "installed":
        return current_runtime()
    return Runtime("ml", str(managed.venv_python(s.folder / "venv")), pythonpath=(str(source_root()),))


def source_root() -> Path:
    """The folder holding the `services` sources jobs run on (the installed app ships them plain)."""
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "src"
    return SOURCE_ROOT


def interpreter_runtime(name: str, python: str | Path) -> Runtime:
    """A Python given by its path, as it is (an engine's venv, the interpreter jobs run on, the base one)."""
    return Runtime(name, str(python))


def venv_runtime(name: str, venv: Path) -> Runtime:
    """A virtual environment with QuantDesk's source on its path (managed runtimes, engines)."""
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    return Runtime(name, str(python), pythonpath=(str(SOURCE_ROOT),))
