"""The serving engines QuantDesk manages, each in its own virtual environment (they pin torch
versions the job runner cannot share), and where and whether each one is installed.

An engine folder holds one venv per install (`env-<time>`, built in place: venvs cannot move) and
`engine.json`, written last, naming the one in use. A reinstall builds a new venv beside the old
one and switches the record only when the new one imports; an env folder with the partial marker
is an interrupted install, removed by the next one.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from services.jobs.outputs import PARTIAL_MARKER
from services.messages import msg
from services.paths import user_dirs

RECORD = "engine.json"
ENGINES_ENV = "QUANTDESK_ENGINES"  # overrides where engines live (tests, shared installs)

# llama.cpp is compiled from source by pip: a portable build (no -march=native, so the folder can be
# copied to another machine), without the multimodal library, tests, examples and tools.
LLAMACPP_CMAKE_ARGS = ("-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF "
                       "-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF")


@dataclass(frozen=True)
class Engine:
    name: str
    title: str
    packages: tuple[str, ...]
    module: str  # imported to check the install
    script: str | None  # its console script in the venv (None: started as a module of ours)
    needs_gpu: bool
    minutes: int  # about how long an install takes on 2 cores
    build_env: dict[str, str] = field(default_factory=dict)
    windows: str = "native"  # "native", or "wsl": runs only inside WSL on Windows
    summary: str = ""

    def folder(self, root: Path | None = None) -> Path:
        return (root or engines_root()) / self.name



ENGINES: dict[str, Engine] = {e.name: e for e in (
    Engine("llamacpp", "llama.cpp", ("llama-cpp-python[server]==0.3.36",), "llama_cpp", None, needs_gpu=False,
           minutes=5, build_env={"CMAKE_ARGS": LLAMACPP_CMAKE_ARGS},
           summary=msg("GGUF on any CPU (llama-cpp-python, compiled here with cmake and the C++ compiler)")),
    Engine("vllm", "vLLM", ("vllm==0.33.0",), "vllm", "vllm", needs_gpu=True, minutes=5, windows="wsl",
           summary=msg("AWQ, GPTQ, compressed-tensors and FP8 on NVIDIA GPUs (Linux; on Windows inside WSL)")),
    Engine("lmdeploy", "LMDeploy", ("lmdeploy==0.18.0",), "lmdeploy", "lmdeploy", needs_gpu=True, minutes=5,
           summary=msg("TurboMind (AWQ/GPTQ W4A16 g128, int8/int4 KV) on NVIDIA GPUs, Linux and Windows")),
)}


def get_engine(name: str) -> Engine:
    try:
        return ENGINES[name]
    except KeyError:
        raise ValueError(msg("unknown engine {name!r}; engines: {engines}", name=name,
                             engines=", ".join(ENGINES))) from None


def engines_root() -> Path:
    env = os.environ.get(ENGINES_ENV)
    return Path(env).absolute() if env else user_dirs().data / "engines"


def venv_python(venv: Path, windows: bool | None = None) -> Path:
    windows = os.name == "nt" if windows is None else windows
    return venv / ("Scripts/python.exe" if windows else "bin/python")


def venv_script(venv: Path, script: str, windows: bool | None = None) -> Path:
    windows = os.name == "nt" if windows is None else windows
    return venv / ("Scripts" if windows else "bin") / (script + (".exe" if windows else ""))


@dataclass
class EngineState:
    engine: Engine
    status: str  # "installed", "missing", "incomplete", "broken", "foreign"
    folder: Path
    version: str | None = None
    message: str = ""
    record: dict = field(default_factory=dict)

    @property
    def installed(self) -> bool:
        return self.status == "installed"

    @property
    def python(self) -> Path:
        """The installed engine's interpreter (only when installed outside WSL)."""
        return Path(self.record["python"])

    @property
    def env(self) -> Path:
        """The venv in use (older installs: the engine folder itself)."""
        return Path(self.record.get("env") or self.folder)

    def to_dict(self) -> dict:
        return {"name": self.engine.name, "title": self.engine.title, "status": self.status,
                "folder": str(self.folder), "version": self.version, "message": self.message,
                "packages": list(self.engine.packages), "needs_gpu": self.engine.needs_gpu,
                "minutes": self.engine.minutes, "summary": self.engine.summary}


WSL_HOME = "~/.quantdesk/engines"  # where a WSL-only engine lives inside WSL


def wsl_only(engine: Engine, platform: str | None = None) -> bool:
    return engine.windows == "wsl" and (platform or sys.platform) == "win32"


def wsl_script(engine: Engine, name: str) -> str:
    return f"{WSL_HOME}/{engine.name}/bin/{name}"


def state(name: str, root: Path | None = None, platform: str | None = None) -> EngineState:
    """Where `name` stands on this machine (reads files only: no process is started)."""
    engine = get_engine(name)
    folder = engine.folder(root)
    wsl = wsl_only(engine, platform)
    record_path = folder / RECORD
    if not folder.is_dir():
        if folder.exists():
            return EngineState(engine, "foreign", folder, message=msg("{folder} is a file: move it away", folder=folder))
        missing = msg("not installed: quantdesk engines install {name} (about {minutes} min)", name=name,
                      minutes=engine.minutes)
        if wsl:
            missing = msg("{engine} has no Windows build: QuantDesk installs and runs it inside WSL (needs WSL: "
                          "wsl --install); {rest}", engine=engine.title, rest=missing)
        return EngineState(engine, "missing", folder, message=missing)
    if not record_path.is_file():
        if not is_ours(folder):
            return EngineState(engine, "foreign", folder,
                               message=msg("{folder} was not made by QuantDesk: move it away, or set {variable} to "
                                           "another folder", folder=folder, variable=ENGINES_ENV))
        return EngineState(engine, "incomplete", folder,
                           message=msg("an install was interrupted: quantdesk engines install {name}", name=name))
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            raise ValueError(msg("not an object"))
    except (OSError, ValueError) as exc:
        return EngineState(engine, "broken", folder,
                           message=msg("{record} is unreadable ({reason}): quantdesk engines install {name} --reinstall",
                                       record=RECORD, reason=exc, name=name))
    python = record.get("python")
    if not record.get("wsl") and not (isinstance(python, str) and python and Path(python).is_file()):
        return EngineState(engine, "broken", folder, record=record,
                           message=msg("its Python is missing (the folder was moved or half deleted): quantdesk "
                                       "engines install {name} --reinstall", name=name))
    where = f"WSL ({WSL_HOME}/{name})" if record.get("wsl") else str(folder)
    return EngineState(engine, "installed", folder, str(record.get("version") or "?"), record=record,
                       message=f"{engine.title} {record.get('version')} in {where}")


def states(root: Path | None = None) -> list[EngineState]:
    return [state(n, root) for n in ENGINES]


def is_ours(folder: Path) -> bool:
    """An engine folder QuantDesk made (finished or interrupted), safe to remove."""
    return (folder / RECORD).is_file() or (folder / PARTIAL_MARKER).is_file() or any(
        (env / PARTIAL_MARKER).is_file() for env in folder.glob("env-*"))
