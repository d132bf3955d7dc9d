"""A fake Probe describing a machine by plain data: files, commands, registry, packages, GPUs."""
from __future__ import annotations

from dataclasses import replace
from pathlib import PureWindowsPath

from services.envcheck.probe import GpuInfo, NvidiaInfo, Probe, RunResult

GIB = 1024**3
VS = r"C:\Program Files (x86)\Microsoft Visual Studio\2022\BuildTools"
VSWHERE = r"C:\Program Files (x86)\Microsoft Visual Studio\Installer\vswhere.exe"
VCVARS = VS + r"\VC\Auxiliary\Build\vcvars64.bat"
MSVC_BIN = VS + r"\VC\Tools\MSVC\14.40.33807\bin"
SDK_INC = r"C:\Program Files (x86)\Windows Kits\10\Include"
VENV = r"C:\Users\张伟\QuantDesk\.venv"
CUDA = r"C:\Program Files\NVIDIA GPU Computing Toolkit\CUDA\v12.6"
NVCC = CUDA + r"\bin\nvcc.exe"

RTX4090 = GpuInfo("NVIDIA GeForce RTX 4090", 24 * GIB, (8, 9))
RTX2080TI = GpuInfo("NVIDIA GeForce RTX 2080 Ti", 11 * GIB, (7, 5))
TORCH_ARCHS = ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120", "compute_120"]


class FakeProbe(Probe):
    def __init__(self, system="windows", env=None, files=(), dirs=None, path_cmds=None, commands=None,
                 registry=None, packages=None, nvidia=None, python=None, disk_free=500 * 10**9, http=None,
                 engines=None):
        self._system = system
        self._env = dict(env or {})
        self.files = set(files)
        self.dirs = dict(dirs or {})
        self.path_cmds = dict(path_cmds or {})
        self.commands = dict(commands or {})
        self.reg = dict(registry or {})
        self._packages = dict(packages or {})
        self._nvidia = nvidia or NvidiaInfo(reason="NVML Shared Library Not Found")
        self._python = {"version": "3.11.9", "bits": 64, "executable": VENV + r"\Scripts\python.exe",
                        "prefix": VENV, "base_prefix": r"C:\Python311", "conda_prefix": "", **(python or {})}
        self._disk = disk_free
        self.http = dict(http or {})
        self._engines = engines if engines is not None else [
            {"name": "llamacpp", "title": "llama.cpp", "status": "installed", "version": "0.3.36", "message": "ok",
             "minutes": 5},
            {"name": "vllm", "title": "vLLM", "status": "unsupported", "version": None, "message": "WSL only",
             "minutes": 5},
            {"name": "lmdeploy", "title": "LMDeploy", "status": "missing", "version": None, "message": "missing",
             "minutes": 5}]
        self.python = self._python["executable"]
        self.ran: list = []

    def system(self):
        return self._system

    def python_info(self):
        return dict(self._python)

    def which(self, cmd):
        return self.path_cmds.get(cmd)

    def exists(self, path):
        return str(path) in self.files

    def listdir(self, path):
        return sorted(self.dirs.get(str(path), []))

    def disk_free(self, path):
        return self._disk

    def registry(self, key, value):
        return self.reg.get((key, value))

    def run(self, argv, timeout=20.0, encoding=None):
        self.ran.append(argv)
        key = argv if isinstance(argv, str) else " ".join(argv)
        for prefix, result in self.commands.items():
            if key.startswith(prefix):
                return result(argv) if callable(result) else result
        return RunResult(127, stderr=f"not found: {key}")

    def packages(self, timeout=60.0):
        return dict(self._packages)

    def nvidia(self):
        return self._nvidia

    def engines(self):
        return self._engines

    def http_ok(self, url, timeout=3.0):
        return self.http.get(url, "")


def healthy_windows(**changes) -> FakeProbe:
    """VS 2022 Build Tools, Windows 11 SDK, an RTX 4090, CUDA torch, AutoAWQ, ninja: all well."""
    sdk = SDK_INC + r"\10.0.22621.0\ucrt"
    kw = dict(
        system="windows",
        env={"ProgramFiles(x86)": r"C:\Program Files (x86)", "PATH": r"C:\Windows\system32",
             "USERPROFILE": r"C:\Users\张伟", "CUDA_PATH": CUDA},
        files={VSWHERE, VCVARS, sdk + r"\corecrt.h", sdk + r"\assert.h", NVCC},
        dirs={SDK_INC: ["10.0.22621.0"]},
        path_cmds={"cl": MSVC_BIN + r"\Hostx64\x64\cl.exe", "ninja": VENV + r"\Scripts\ninja.exe"},
        commands={VSWHERE: RunResult(0, VS + "\r\n"), VENV + r"\Scripts\ninja.exe --version": RunResult(0, "1.13.0\n"),
                  NVCC: RunResult(0, "Cuda compilation tools, release 12.6, V12.6.85\n")},
        registry={(r"HKLM\SYSTEM\CurrentControlSet\Control\FileSystem", "LongPathsEnabled"): 1},
        packages={"torch": "2.13.0+cu126", "torch_cuda": "12.6", "torch_cuda_available": True,
                  "torch_arch_list": TORCH_ARCHS, "transformers": "5.17.0", "autoawq": "0.2.9",
                  "awq_ext_import": True, "triton-windows": "3.5.1", "flash-attn": "2.7.4",
                  "flash_attn_import": True},
        nvidia=NvidiaInfo(driver="560.94", cuda_driver="12.6", gpus=[RTX4090]),
    )
    kw.update(changes)
    probe = FakeProbe(**kw)
    return probe


def with_packages(probe: FakeProbe, **pk) -> FakeProbe:
    probe._packages.update(pk)
    for k, v in pk.items():
        if v is None:
            probe._packages.pop(k)
    return probe


def msvc_captured() -> dict:
    return {"vcvars": VCVARS, "set": {"VSCMD_ARG_TGT_ARCH": "x64"},
            "prepend": {"PATH": [MSVC_BIN + r"\Hostx64\x64"], "INCLUDE": [str(PureWindowsPath(SDK_INC, "10.0.22621.0", "ucrt"))]}}


__all__ = ["FakeProbe", "healthy_windows", "with_packages", "msvc_captured", "replace"]
