"""NVIDIA driver and GPUs, PyTorch's build against them, the CUDA toolkit."""
from __future__ import annotations

import re

from services.envcheck.context import CheckContext, join, version_tuple
from services.envcheck.model import CheckResult, Fix
from services.envcheck.probe import GpuInfo, Probe

GIB = 1024**3
TORCH_CUDA_WHEELS = ("12.6", "12.8", "13.0")  # CUDA variants published for torch 2.13


def _gpu_line(g: GpuInfo) -> str:
    cc = f"sm_{g.sm}" if g.sm else "unknown compute capability"
    return f"{g.name}: {g.memory_total / GIB:.1f} GiB, {cc}"


def torch_install_command(cuda_driver: str) -> str:
    """pip command for the newest CUDA build of torch that the driver can run."""
    drv = version_tuple(cuda_driver)
    fitting = [w for w in TORCH_CUDA_WHEELS if version_tuple(w) <= drv] or [TORCH_CUDA_WHEELS[0]]
    tag = "cu" + fitting[-1].replace(".", "")
    return f"pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/{tag}"


def check_nvidia(probe: Probe, ctx: CheckContext) -> CheckResult:
    nv = probe.nvidia()
    if not nv.gpus:
        return CheckResult("nvidia", "NVIDIA driver and GPUs", "warn", "no NVIDIA GPU found",
                           f"{nv.reason or 'NVML reports no GPU'}. Quantization and evaluation run on the CPU: "
                           "fine for small models, slow for 7B and up.",
                           Fix("info", "Install the NVIDIA driver for your GPU (nvidia.com/drivers), or work on the CPU"))
    details = f"Driver {nv.driver} (CUDA {nv.cuda_driver or '?'})\n" + "\n".join(_gpu_line(g) for g in nv.gpus)
    return CheckResult("nvidia", "NVIDIA driver and GPUs", "ok",
                       f"driver {nv.driver}, {len(nv.gpus)} GPU(s): " + ", ".join(g.name for g in nv.gpus), details)


def _arch_support(arch_list: list[str], sm: int) -> str:
    """"cubin" when the build has native code for sm, "ptx" when only JIT-able PTX, "" when neither."""
    major, minor = divmod(sm, 10)
    for a in arch_list:
        m = re.fullmatch(r"sm_(\d+)", a)
        if m:
            am = int(m.group(1))
            if am // 10 == major and am % 10 <= minor:
                return "cubin"
    for a in arch_list:
        m = re.fullmatch(r"compute_(\d+)", a)
        if m and int(m.group(1)) <= sm:
            return "ptx"
    return ""


def check_torch(probe: Probe, ctx: CheckContext) -> CheckResult:
    pk = probe.packages()
    title = "PyTorch"
    if pk.get("no_runtime"):
        return CheckResult("torch", title, "skip", pk["probe_error"])
    if "probe_error" in pk:
        return CheckResult("torch", title, "warn", "could not probe the Python environment", pk["probe_error"])
    nv = probe.nvidia()
    if not pk.get("torch"):
        cmd = torch_install_command(nv.cuda_driver) if nv.gpus else "pip install torch==2.13.0"
        return CheckResult("torch", title, "fail", "PyTorch is not installed", "",
                           Fix("command", "Install PyTorch", command=cmd))
    version, cuda = pk["torch"], pk.get("torch_cuda")
    if not cuda:
        if nv.gpus:
            return CheckResult("torch", title, "fail", f"torch {version} is a CPU build, but {nv.gpus[0].name} is present",
                               "Windows PyPI wheels of torch are CPU-only; CUDA builds come from PyTorch's own index "
                               "and must match the driver.",
                               Fix("command", "Install the CUDA build of PyTorch", command=torch_install_command(nv.cuda_driver)))
        return CheckResult("torch", title, "ok", f"torch {version} (CPU build; no NVIDIA GPU)")
    details = [f"torch {version}, CUDA {cuda}, architectures: {' '.join(pk.get('torch_arch_list') or [])}"]
    if nv.gpus and nv.cuda_driver:
        t, d = version_tuple(cuda)[:2], version_tuple(nv.cuda_driver)[:2]
        if t[0] > d[0]:
            return CheckResult("torch", title, "fail",
                               f"driver {nv.driver} supports CUDA {nv.cuda_driver}; torch {version} needs CUDA {cuda}",
                               "\n".join(details) + "\nUpdate the driver, or install a torch build for an older CUDA.",
                               Fix("command", "Update the NVIDIA driver (nvidia.com/drivers), or install a matching torch build",
                                   command=torch_install_command(nv.cuda_driver)))
        if t > d:
            details.append(f"CUDA {cuda} on a CUDA {nv.cuda_driver} driver runs through minor-version compatibility; "
                           "a newer driver avoids PTX JIT limits.")
    for g in nv.gpus:
        if g.sm is None:
            continue
        support = _arch_support(pk.get("torch_arch_list") or [], g.sm)
        if not support:
            return CheckResult("torch", title, "fail", f"torch {version} has no kernels for {g.name} (sm_{g.sm})",
                               "\n".join(details), Fix("command", "Install a torch build that supports this GPU",
                                                       command=torch_install_command(nv.cuda_driver)))
        if support == "ptx":
            details.append(f"{g.name} (sm_{g.sm}) runs through PTX JIT: the first start is slow.")
    status = "warn" if len(details) > 1 else "ok"
    return CheckResult("torch", title, status, f"torch {version}, CUDA {cuda}", "\n".join(details))


def _nvcc_path(probe: Probe) -> str | None:
    found = probe.which("nvcc")
    if found:
        return found
    exe = "nvcc.exe" if probe.system() == "windows" else "nvcc"
    for var in ("CUDA_PATH", "CUDA_HOME"):
        root = probe.env(var)
        if root:
            cand = join(probe.system(), root, "bin", exe)
            if probe.exists(cand):
                return cand
    return None


def check_cuda_toolkit(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = "CUDA toolkit (nvcc)"
    nv = probe.nvidia()
    if not nv.gpus:
        return CheckResult("cuda_toolkit", title, "skip", "no NVIDIA GPU: the CUDA toolkit is not needed")
    torch_cuda = probe.packages().get("torch_cuda")
    nvcc = _nvcc_path(probe)
    if not nvcc:
        want = torch_cuda or nv.cuda_driver
        return CheckResult("cuda_toolkit", title, "warn", "nvcc not found",
                           "Only needed to build CUDA extensions from source (flash-attn, AutoAWQ kernels, KV-cache "
                           "kernels). Install the toolkit matching torch's CUDA and set CUDA_HOME.",
                           Fix("info", f"Install CUDA toolkit {want} from developer.nvidia.com/cuda-toolkit-archive and set CUDA_HOME"))
    r = probe.run([nvcc, "--version"], timeout=15)
    if r.timed_out:
        return CheckResult("cuda_toolkit", title, "warn", "nvcc --version timed out after 15 s", nvcc)
    m = re.search(r"release (\d+\.\d+)", r.stdout)
    if not m:
        return CheckResult("cuda_toolkit", title, "warn", "could not read nvcc's version", f"{nvcc}\n{r.stdout}{r.stderr}")
    ver = m.group(1)
    if torch_cuda and version_tuple(ver)[0] != version_tuple(torch_cuda)[0]:
        return CheckResult("cuda_toolkit", title, "fail", f"nvcc {ver} but torch was built with CUDA {torch_cuda}",
                           f"{nvcc}\nExtensions built with a different CUDA major version fail to load.",
                           Fix("info", f"Install CUDA toolkit {torch_cuda} and point CUDA_HOME at it"))
    if torch_cuda and version_tuple(ver)[:2] != version_tuple(torch_cuda)[:2]:
        return CheckResult("cuda_toolkit", title, "warn", f"nvcc {ver}, torch built with CUDA {torch_cuda}",
                           f"{nvcc}\nSame major version: extensions usually build; an exact match is safest.")
    return CheckResult("cuda_toolkit", title, "ok", f"nvcc {ver}", nvcc)
