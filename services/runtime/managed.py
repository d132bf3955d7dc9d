"""The managed ML runtime of an installed QuantDesk: a venv in the user data folder with torch and the
`ml` extra's pins, where jobs run (the frozen app has no torch). A dev install's Python is the runtime
as it is.

torch comes from PyTorch's own wheel index (the registry's Windows torch is CPU-only), the build
matched to the NVIDIA driver: CUDA 13.0 wheels need driver >= 580, 12.8 >= 570, 12.6 >= 525; RTX 50
(sm_120) needs 12.8 or newer; no NVIDIA GPU: the CPU wheel. A local wheel folder installs offline.
An interrupted install resumes (pip skips what is in place); repair reinstalls over a broken one.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from services.messages import msg
from services.paths import user_dirs

TORCH = "torch==2.13.0"
# The ml extra of pyproject.toml without torch (tests/unit/test_runtime.py keeps the two equal).
ML_PINS = ("transformers==5.17.0", "accelerate", "datasets", "autoawq==0.2.9", "llmcompressor==0.14.0.1",
           "gguf==0.19.0", "sentencepiece", "zstandard", "ray[default]==2.60.0")
RUNNER_PINS = ("psutil>=5.9", "platformdirs>=4")  # what the job runner itself imports
CHECK_MODULES = ("torch", "transformers", "awq", "gguf", "psutil")
RECORD = "runtime.json"
INDEX = "https://download.pytorch.org/whl/"
BUILDS = ("cpu", "cu126", "cu128", "cu130")
MIN_DRIVER = {"cu130": 580, "cu128": 570, "cu126": 525}


@dataclass(frozen=True)
class TorchBuild:
    tag: str  # cpu, cu126, cu128, cu130
    reason: str
    error: str | None = None

    @property
    def index_url(self) -> str:
        return INDEX + self.tag


def _major(driver: str | None) -> int | None:
    try:
        return int(str(driver).split(".")[0])
    except (TypeError, ValueError):
        return None


def choose_torch(driver: str | None, sms: list[int], asked: str = "auto") -> TorchBuild:
    """The torch build for a driver version ("560.94") and the GPUs' compute capabilities (86, 120)."""
    major = _major(driver)
    if asked not in ("auto", *BUILDS):
        return TorchBuild(asked, "", msg("unknown build {build!r}: choose auto, {builds}", build=asked,
                                         builds=", ".join(BUILDS)))
    needs_128 = any(sm >= 120 for sm in sms)
    if asked == "cpu":
        return TorchBuild("cpu", msg("asked for the CPU build"))
    if asked != "auto":
        if major is None:
            return TorchBuild(asked, msg("asked for {build}", build=asked),
                              msg("{build} needs an NVIDIA driver, and none was found", build=asked))
        if major < MIN_DRIVER[asked]:
            return TorchBuild(asked, msg("asked for {build}", build=asked),
                              msg("{build} needs driver {need} or newer; this one is {driver}: update the driver or "
                                  "pick an older build", build=asked, need=MIN_DRIVER[asked], driver=driver))
        if needs_128 and asked == "cu126":
            return TorchBuild(asked, msg("asked for {build}", build="cu126"),
                              msg("RTX 50 GPUs (sm_120) need cu128 or newer"))
        return TorchBuild(asked, msg("asked for {build} (driver {driver})", build=asked, driver=driver))
    if major is None or not sms:
        return TorchBuild("cpu", msg("no NVIDIA GPU: the CPU build"))
    for tag in ("cu130", "cu128", "cu126"):
        if major >= MIN_DRIVER[tag] and not (needs_128 and tag == "cu126"):
            return TorchBuild(tag, msg("driver {driver} takes {build} (sm_120 needs cu128+)", driver=driver, build=tag)
                              if needs_128 else msg("driver {driver} takes {build}", driver=driver, build=tag))
    if needs_128:
        return TorchBuild("cu128", "", msg("RTX 50 GPUs need driver 570 or newer for CUDA 12.8; this one is "
                                           "{driver}: update the driver", driver=driver))
    return TorchBuild("cpu", msg("driver {driver} is older than 525 (CUDA 12.6): the CPU build; update the driver "
                                 "to use the GPU", driver=driver))


def runtime_root() -> Path:
    return user_dirs().data / "runtime"


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@dataclass
class RuntimeState:
    status: str  # "dev" (this Python is the runtime), "installed", "missing", "incomplete", "broken"
    folder: Path
    message: str
    record: dict

    def to_dict(self) -> dict:
        return {**asdict(self), "folder": str(self.folder)}


def state(root: Path | None = None, frozen: bool | None = None) -> RuntimeState:
    import sys

    root = root or runtime_root()
    frozen = getattr(sys, "frozen", False) if frozen is None else frozen
    if not frozen:
        return RuntimeState("dev", Path(sys.prefix), msg("this Python is the runtime ({prefix})", prefix=sys.prefix),
                            {})
    path = root / RECORD
    if not root.exists():
        return RuntimeState("missing", root, msg("not installed: quantdesk runtime install (several GB with a CUDA "
                                                 "build)"), {})
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(record, dict)
    except (OSError, ValueError, AssertionError):
        return RuntimeState("incomplete", root, msg("an install did not finish: quantdesk runtime install resumes it"),
                            {})
    if not venv_python(root / "venv").is_file():
        return RuntimeState("broken", root, msg("its Python is missing: quantdesk runtime repair"), record)
    return RuntimeState("installed", root, msg("torch {version} ({build}) in {folder}", version=record.get("torch"),
                                               build=record.get("build"), folder=root), record)


def torch_spec(build: TorchBuild) -> str:
    """torch pinned with its build's local version (2.13.0+cu130): pip takes 2.13.0+cpu for a bare 2.13.0."""
    return f"{TORCH}+{build.tag}"


def pip_commands(python: Path, build: TorchBuild, wheels: Path | None, repair: bool,
                 torch: str = TORCH, pins: tuple[str, ...] = ML_PINS + RUNNER_PINS,
                 first: str | None = None) -> list[list[str]]:
    """The pip runs that install (or repair) the runtime: torch of the build from its index (or the wheel
    folder), then the rest. Offline, pip's own configuration is left out (--isolated): only the folder counts."""
    base = [str(python), "-m", "pip", "install", "--progress-bar", "off", "--disable-pip-version-check"]
    base += ["--isolated"] if wheels else []
    base += ["--force-reinstall"] if repair else []
    source = ["--no-index", "--find-links", str(wheels)] if wheels else []
    step1 = [*base, *(source or ["--index-url", build.index_url, "--extra-index-url", "https://pypi.org/simple"]),
             first or torch]
    return [step1, [*base, *source, torch, *pins]]  # torch again: pip keeps it, the pins resolve against it


def write_record(root: Path, build: TorchBuild, torch_version: str, started: float) -> dict:
    record = {"tool": "quantdesk", "build": build.tag, "torch": torch_version, "reason": build.reason,
              "installed": time.strftime("%Y-%m-%d %H:%M:%S"), "duration_s": round(time.monotonic() - started, 1)}
    tmp = root / (RECORD + ".new")
    tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
    os.replace(tmp, root / RECORD)
    return record
