"""NVIDIA driver and GPUs, PyTorch's build against them, the CUDA toolkit."""
from __future__ import annotations

import re

from services.envcheck.context import CheckContext, join, version_tuple
from services.envcheck.model import CheckResult, Fix
from services.envcheck.probe import GpuInfo, Probe
from services.messages import msg

GIB = 1024**3
TORCH_CUDA_WHEELS = ("12.6", "12.8", "13.0")  # CUDA variants published for torch 2.13


def _gpu_line(g: GpuInfo) -> str:
    if g.sm:
        return msg("{name}: {memory:.1f} GiB, sm_{sm}", name=g.name, memory=g.memory_total / GIB, sm=g.sm)
    return msg("{name}: {memory:.1f} GiB, unknown compute capability", name=g.name, memory=g.memory_total / GIB)


def torch_install_command(cuda_driver: str) -> str:
    """pip command for the newest CUDA build of torch that the driver can run."""
    drv = version_tuple(cuda_driver)
    fitting = [w for w in TORCH_CUDA_WHEELS if version_tuple(w) <= drv] or [TORCH_CUDA_WHEELS[0]]
    tag = "cu" + fitting[-1].replace(".", "")
    return f"pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/{tag}"


def check_nvidia(probe: Probe, ctx: CheckContext) -> CheckResult:
    nv = probe.nvidia()
    if not nv.gpus:
        return CheckResult("nvidia", msg("NVIDIA driver and GPUs"), "warn", msg("no NVIDIA GPU found"),
                           msg("{reason}. Quantization and evaluation run on the CPU: fine for small models, slow for "
                               "7B and up.", reason=nv.reason or msg("NVML reports no GPU")),
                           Fix("info", msg("Install the NVIDIA driver for your GPU (nvidia.com/drivers), or work on "
                                           "the CPU")))
    details = (msg("Driver {driver} (CUDA {cuda})", driver=nv.driver, cuda=nv.cuda_driver or "?") + "\n"
               + "\n".join(_gpu_line(g) for g in nv.gpus))
    return CheckResult("nvidia", msg("NVIDIA driver and GPUs"), "ok",
                       msg("driver {driver}, {count} GPU(s): {names}", driver=nv.driver, count=len(nv.gpus),
                           names=", ".join(g.name for g in nv.gpus)), details)


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
    title = msg("PyTorch")
    if pk.get("no_runtime"):
        return CheckResult("torch", title, "skip", pk["probe_error"])
    if "probe_error" in pk:
        return CheckResult("torch", title, "warn", msg("could not probe the Python environment"), pk["probe_error"])
    nv = probe.nvidia()
    if not pk.get("torch"):
        cmd = torch_install_command(nv.cuda_driver) if nv.gpus else "pip install torch==2.13.0"
        return CheckResult("torch", title, "fail", msg("PyTorch is not installed"), "",
                           Fix("command", msg("Install PyTorch"), command=cmd))
    version, cuda = pk["torch"], pk.get("torch_cuda")
    if not cuda:
        if nv.gpus:
            return CheckResult("torch", title, "fail",
                               msg("torch {version} is a CPU build, but {gpu} is present", version=version,
                                   gpu=nv.gpus[0].name),
                               msg("Windows PyPI wheels of torch are CPU-only; CUDA builds come from PyTorch's own "
                                   "index and must match the driver."),
                               Fix("command", msg("Install the CUDA build of PyTorch"),
                                   command=torch_install_command(nv.cuda_driver)))
        return CheckResult("torch", title, "ok", msg("torch {version} (CPU build; no NVIDIA GPU)", version=version))
    details = [msg("torch {version}, CUDA {cuda}, architectures: {archs}", version=version, cuda=cuda,
                   archs=" ".join(pk.get("torch_arch_list") or []))]
    if nv.gpus and nv.cuda_driver:
        t, d = version_tuple(cuda)[:2], version_tuple(nv.cuda_driver)[:2]
        if t[0] > d[0]:
            return CheckResult("torch", title, "fail",
                               msg("driver {driver} supports CUDA {driver_cuda}; torch {version} needs CUDA {cuda}",
                                   driver=nv.driver, driver_cuda=nv.cuda_driver, version=version, cuda=cuda),
                               "\n".join(details) + "\n"
                               + msg("Update the driver, or install a torch build for an older CUDA."),
                               Fix("command", msg("Update the NVIDIA driver (nvidia.com/drivers), or install a "
                                                  "matching torch build"),
                                   command=torch_install_command(nv.cuda_driver)))
        if t > d:
            details.append(msg("CUDA {cuda} on a CUDA {driver_cuda} driver runs through minor-version compatibility; "
                               "a newer driver avoids PTX JIT limits.", cuda=cuda, driver_cuda=nv.cuda_driver))
    for g in nv.gpus:
        if g.sm is None:
            continue
        support = _arch_support(pk.get("torch_arch_list") or [], g.sm)
        if not support:
            return CheckResult("torch", title, "fail",
                               msg("torch {version} has no kernels for {gpu} (sm_{sm})", version=version, gpu=g.name,
                                   sm=g.sm),
                               "\n".join(details), Fix("command", msg("Install a torch build that supports this GPU"),
                                                       command=torch_install_command(nv.cuda_driver)))
        if support == "ptx":
            details.append(msg("{gpu} (sm_{sm}) runs through PTX JIT: the first start is slow.", gpu=g.name, sm=g.sm))
    status = "warn" if len(details) > 1 else "ok"
    return CheckResult("torch", title, status, msg("torch {version}, CUDA {cuda}", version=version, cuda=cuda),
                       "\n".join(details))


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
    title = msg("CUDA toolkit (nvcc)")
    nv = probe.nvidia()
    if not nv.gpus:
        return CheckResult("cuda_toolkit", title, "skip", msg("no NVIDIA GPU: the CUDA toolkit is not needed"))
    torch_cuda = probe.packages().get("torch_cuda")
    nvcc = _nvcc_path(probe)
    if not nvcc:
        want = torch_cuda or nv.cuda_driver
        return CheckResult("cuda_toolkit", title, "warn", msg("nvcc not found"),
                           msg("Only needed to build CUDA extensions from source (flash-attn, AutoAWQ kernels, KV-cache "
                               "kernels). Install the toolkit matching torch's CUDA and set CUDA_HOME."),
                           Fix("info", msg("Install CUDA toolkit {version} from developer.nvidia.com/cuda-toolkit-archive "
                                           "and set CUDA_HOME", version=want)))
    r = probe.run([nvcc, "--version"], timeout=15)
    if r.timed_out:
        return CheckResult("cuda_toolkit", title, "warn", msg("nvcc --version timed out after 15 s"), nvcc)
    m = re.search(r"release (\d+\.\d+)", r.stdout)
    if not m:
        return CheckResult("cuda_toolkit", title, "warn", msg("could not read nvcc's version"),
                           f"{nvcc}\n{r.stdout}{r.stderr}")
    ver = m.group(1)
    if torch_cuda and version_tuple(ver)[0] != version_tuple(torch_cuda)[0]:
        return CheckResult("cuda_toolkit", title, "fail",
                           msg("nvcc {nvcc} but torch was built with CUDA {cuda}", nvcc=ver, cuda=torch_cuda),
                           nvcc + "\n" + msg("Extensions built with a different CUDA major version fail to load."),
                           Fix("info", msg("Install CUDA toolkit {version} and point CUDA_HOME at it",
                                           version=torch_cuda)))
    if torch_cuda and version_tuple(ver)[:2] != version_tuple(torch_cuda)[:2]:
        return CheckResult("cuda_toolkit", title, "warn",
                           msg("nvcc {nvcc}, torch built with CUDA {cuda}", nvcc=ver, cuda=torch_cuda),
                           nvcc + "\n" + msg("Same major version: extensions usually build; an exact match is "
                                              "safest."))
    return CheckResult("cuda_toolkit", title, "ok", f"nvcc {ver}", nvcc)
