"""The Probe: everything a check may ask of the machine, behind one injectable object.

Checks never start processes or read os.environ, the registry or NVML themselves, so every check runs on
Linux in tests against a fake probe describing a Windows workstation.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.messages import msg
from services.progress import Cancelled, never_cancelled
from services.runtime import process
from services.runtime.runtime import current_runtime, interpreter_runtime, job_runtime


@dataclass(frozen=True)
class RunResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@dataclass(frozen=True)
class GpuInfo:
    name: str
    memory_total: int
    compute_capability: tuple[int, int] | None

    @property
    def sm(self) -> int | None:
        return self.compute_capability[0] * 10 + self.compute_capability[1] if self.compute_capability else None


@dataclass(frozen=True)
class NvidiaInfo:
    driver: str = ""  # "560.94"
    cuda_driver: str = ""  # highest CUDA the driver supports, "12.6"
    gpus: list[GpuInfo] = field(default_factory=list)
    reason: str = ""  # why there is nothing, when there is nothing


# Run in the environment's Python (a child process: the GUI never imports torch).
PACKAGES_SCRIPT = r"""
import json, importlib, importlib.metadata as md
out = {}
def version(dist):
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None
for dist in ("torch", "transformers", "autoawq", "triton", "triton-windows", "flash-attn", "flash_attn",
             "ninja", "accelerate", "datasets", "llmcompressor"):
    out[dist] = version(dist)
try:
    import torch
    out["torch_cuda"] = torch.version.cuda
    out["torch_cuda_available"] = bool(torch.cuda.is_available())
    out["torch_arch_list"] = torch.cuda.get_arch_list() if torch.version.cuda else []
except Exception as exc:
    out["torch_error"] = f"{type(exc).__name__}: {exc}"
for mod in ("awq_ext", "flash_attn"):
    try:
        importlib.import_module(mod)
        out[mod + "_import"] = True
    except Exception as exc:
        out[mod + "_import"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
"""


class Probe:
    """The real machine. Subclass or fake it in tests (tests/fakes/probe.py)."""

    def __init__(self, python: str | None = None, env: dict | None = None):
        self.python = python or job_runtime().python  # the interpreter jobs run on
        self._env = dict(os.environ if env is None else env)
        self._packages: dict | None = None
        self._nvidia: NvidiaInfo | None = None
        self.cancelled: Callable[[], bool] = never_cancelled  # run_checks sets it: a cancel kills a running child

    # -- identity
    def system(self) -> str:
        """"windows", "linux" or "darwin"."""
        return {"win32": "windows", "darwin": "darwin"}.get(sys.platform, "linux")

    def python_info(self) -> dict:
        return {
            "version": ".".join(map(str, sys.version_info[:3])),
            "bits": struct.calcsize("P") * 8,
            "executable": current_runtime().python,
            "prefix": sys.prefix,
            "base_prefix": sys.base_prefix,
            "conda_prefix": self.env("CONDA_PREFIX") or "",
        }

    # -- environment and files
    def env(self, name: str) -> str | None:
        if self.system() == "windows":  # case-insensitive there
            return next((v for k, v in self._env.items() if k.upper() == name.upper()), None)
        return self._env.get(name)

    def which(self, cmd: str) -> str | None:
        path = self.env("PATH") or ""
        extra = str(Path(self.python).parent)  # the environment's Scripts/bin (pip's ninja lives there)
        return shutil.which(cmd, path=os.pathsep.join([extra, path]))

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except OSError:
            return []

    def disk_free(self, path: str) -> int | None:
        p = Path(path)
        while not p.exists() and p != p.parent:
            p = p.parent
        try:
            return shutil.disk_usage(p).free
        except OSError:
            return None

    def registry(self, key: str, value: str):
        """A value under HKLM/HKCU (e.g. r"HKLM\\SYSTEM\\...\\FileSystem"), or None."""
        if self.system() != "windows" or sys.platform != "win32":
            return None
        import winreg  # noqa: PLC0415 - Windows only

        hive_name, _, sub = key.partition("\\")
        hive = {"HKLM": winreg.HKEY_LOCAL_MACHINE, "HKCU": winreg.HKEY_CURRENT_USER}[hive_name]
        try:
            with winreg.OpenKey(hive, sub) as k:
                return winreg.QueryValueEx(k, value)[0]
        except OSError:
            return None

    # -- processes
    def run(self, argv: list[str] | str, timeout: float = 20.0, encoding: str | None = None) -> RunResult:
        """Run a command (a list, or on Windows a ready command line) with a timeout; never raises. A cancel
        (quitting during the checks) kills it at once: the window never waits for a probe."""
        try:
            p = process.run(argv, timeout=timeout, env=self._env, text=False, cancelled=self.cancelled)
        except process.TimeoutExpired:
            return RunResult(124, timed_out=True)
        except Cancelled:
            return RunResult(130)
        except OSError as exc:
            return RunResult(127, stderr=str(exc))
        return RunResult(p.returncode, _decode(p.stdout, encoding), _decode(p.stderr, None))

    def packages(self, timeout: float = 60.0) -> dict:
        """Versions of the ML stack in the job environment (probed once, in a child process)."""
        here = current_runtime()
        if self._packages is None and here.frozen and self.python == here.python:
            self._packages = {"probe_error": msg("checked in the ML runtime, which is not installed yet: quantdesk "
                                                 "runtime install"), "no_runtime": True}
        if self._packages is None:
            r = self.run(interpreter_runtime("job", self.python).code_command(PACKAGES_SCRIPT), timeout=timeout)
            if r.timed_out:
                self._packages = {"probe_error": msg("the package probe timed out after {seconds:.0f} s",
                                                       seconds=timeout)}
            elif not r.ok:
                self._packages = {"probe_error": (r.stderr.strip().splitlines() or ["failed"])[-1]}
            else:
                self._packages = json.loads(r.stdout.strip().splitlines()[-1])
        return self._packages

    def nvidia(self) -> NvidiaInfo:
        if self._nvidia is None:
            self._nvidia = nvidia_from_nvml()
        return self._nvidia

    def engines(self) -> list[dict]:
        """The serving engines' states (EngineState.to_dict) on this system."""
        from services.serving.engines import ENGINES, state

        platform = {"windows": "win32", "darwin": "darwin"}.get(self.system(), "linux")
        return [state(name, platform=platform).to_dict() for name in ENGINES]

    def http_ok(self, url: str, timeout: float = 3.0) -> str:
        """"" when `url` answers, else a one-line reason."""
        import urllib.request

        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
                return ""
        except Exception as exc:
            return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"


def _decode(data: bytes, encoding: str | None) -> str:
    if encoding:
        return data.decode(encoding, errors="replace")
    for enc in ("utf-8", "gbk"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def nvidia_from_nvml(nvml=None) -> NvidiaInfo:
    from services.telemetry.gpu import NvmlReader

    reader = NvmlReader(nvml)
    if not reader.available:
        return NvidiaInfo(reason=reader.reason)
    cuda = ""
    try:
        v = reader._nvml.nvmlSystemGetCudaDriverVersion()
        cuda = f"{v // 1000}.{v % 1000 // 10}"
    except Exception:
        pass
    gpus = [GpuInfo(g.name, g.memory_total, g.compute_capability) for g in reader.devices()]
    reader.close()
    return NvidiaInfo(driver=reader.driver, cuda_driver=cuda, gpus=gpus)
