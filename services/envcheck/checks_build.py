"""The native build chain: MSVC x64, cl.exe's architecture, Windows SDK, long paths, gcc, ninja."""
from __future__ import annotations

import re

from services.envcheck.context import CheckContext, join
from services.envcheck.model import CheckResult, Fix
from services.envcheck.probe import Probe
from services.envcheck.vcvars import find_vcvars64
from services.messages import msg

BUILD_TOOLS_CMD = ('winget install Microsoft.VisualStudio.2022.BuildTools --override "--wait --passive '
                   '--add Microsoft.VisualStudio.Workload.VCTools --includeRecommended"')
SDK_CMD = ('winget install Microsoft.VisualStudio.2022.BuildTools --override "--wait --passive '
           '--add Microsoft.VisualStudio.Component.Windows11SDK.22621"')
LONG_PATHS_CMD = ('New-ItemProperty -Path "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\FileSystem" '
                  '-Name "LongPathsEnabled" -Value 1 -PropertyType DWORD -Force   # PowerShell as Administrator')


def check_msvc(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("Visual Studio C++ x64 build tools")
    if probe.system() != "windows":
        return CheckResult("msvc", title, "skip", msg("not Windows"))
    vcvars, found = find_vcvars64(probe)
    if not vcvars:
        return CheckResult("msvc", title, "fail", msg("MSVC x64 build tools not found"), found,
                           Fix("command", msg("Install Visual Studio 2022 Build Tools with the C++ workload"),
                               command=BUILD_TOOLS_CMD))
    if not ctx.msvc_env or ctx.msvc_env.get("vcvars", "").lower() != vcvars.lower():
        return CheckResult("msvc", title, "warn", msg("x64 environment not captured yet"),
                           f"{found}\n{vcvars}\n" + msg("QuantDesk can run vcvars64.bat once, store the x64 compiler "
                                                        "environment and apply it to every job, so you never need "
                                                        "the x64 Native Tools prompt."),
                           Fix("action", msg("Capture the MSVC x64 environment"), action="capture_msvc", args=[vcvars]))
    n = len(ctx.msvc_env.get("prepend", {}).get("INCLUDE", []))
    return CheckResult("msvc", title, "ok", msg("x64 environment captured and applied to jobs"),
                       f"{found}\n{vcvars}\n" + msg("{n} INCLUDE folders", n=n))


def check_cl_arch(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("cl.exe architecture")
    if probe.system() != "windows":
        return CheckResult("cl_arch", title, "skip", msg("not Windows"))
    cl = probe.which("cl") or probe.which("cl.exe")
    if not cl:
        if ctx.msvc_env:
            return CheckResult("cl_arch", title, "ok", msg("jobs get the captured x64 cl.exe"))
        return CheckResult("cl_arch", title, "warn", msg("cl.exe is not on PATH"),
                           msg("Builds started outside an x64 Native Tools prompt cannot find the compiler."),
                           Fix("info", msg("Capture the MSVC x64 environment (see the check above)")))
    low = cl.replace("/", "\\").lower()
    if "\\hostx64\\x64\\" in low:
        return CheckResult("cl_arch", title, "ok", msg("x64 compiler (Hostx64\\x64)"), cl)
    if re.search(r"\\host(x86|x64)\\(x86|arm64?)\\", low) or "\\hostx86\\" in low:
        return CheckResult("cl_arch", title, "fail", msg("an x86 (32-bit target) cl.exe is first on PATH"), cl +
                           "\n" + msg("This is the cause of `error: invalid redeclaration of type name \"size_t\"` "
                                      "when building CUDA extensions: they need the x64 compiler."),
                           Fix("action", msg("Use the captured x64 environment for jobs (Capture MSVC x64 "
                                             "environment)"),
                               action="capture_msvc"))
    return CheckResult("cl_arch", title, "warn", msg("cl.exe of unknown architecture on PATH"), cl)


def _sdk_root(probe: Probe) -> str:
    root = probe.registry(r"HKLM\SOFTWARE\Microsoft\Windows Kits\Installed Roots", "KitsRoot10")
    return root or join("windows", probe.env("ProgramFiles(x86)") or r"C:\Program Files (x86)", "Windows Kits", "10")


def check_windows_sdk(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("Windows SDK headers")
    if probe.system() != "windows":
        return CheckResult("windows_sdk", title, "skip", msg("not Windows"))
    root = _sdk_root(probe)
    include = join("windows", root, "Include")
    versions = [v for v in probe.listdir(include) if v.startswith("10.")]
    for v in reversed(versions):
        corecrt = join("windows", include, v, "ucrt", "corecrt.h")
        assert_h = join("windows", include, v, "ucrt", "assert.h")
        if probe.exists(corecrt) and probe.exists(assert_h):
            return CheckResult("windows_sdk", title, "ok", msg("Windows SDK {version}", version=v), join("windows", include, v, "ucrt"))
    return CheckResult("windows_sdk", title, "fail", msg("Windows SDK headers (corecrt.h, assert.h) not found"),
                       msg("Looked in {folder} ({versions}). Without them builds fail with `Cannot open include file: "
                           "'corecrt.h'` / `assert.h`.", folder=include,
                           versions=", ".join(versions) or msg("no SDK versions")),
                       Fix("command", msg("Install the Windows 11 SDK with the Build Tools"), command=SDK_CMD))


def check_long_paths(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("Long paths")
    if probe.system() != "windows":
        return CheckResult("long_paths", title, "skip", msg("not Windows"))
    value = probe.registry(r"HKLM\SYSTEM\CurrentControlSet\Control\FileSystem", "LongPathsEnabled")
    if value == 1:
        return CheckResult("long_paths", title, "ok", msg("enabled"))
    return CheckResult("long_paths", title, "warn", msg("paths longer than 260 characters are not enabled"),
                       msg("Building flash-attn and other extensions from source fails on long paths."),
                       Fix("command", msg("Enable long paths (then restart)"), command=LONG_PATHS_CMD))


def check_compiler(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("C/C++ compiler")
    if probe.system() == "windows":
        return CheckResult("compiler", title, "skip", msg("on Windows the MSVC checks apply"))
    missing = [c for c in ("gcc", "g++") if not probe.which(c)]
    if missing:
        summary = (msg("gcc and g++ not found") if len(missing) == 2 else
                   msg("gcc not found") if missing == ["gcc"] else msg("g++ not found"))
        return CheckResult("compiler", title, "fail", summary,
                           msg("Needed to JIT-compile and build C++/CUDA extensions."),
                           Fix("command", msg("Install the compilers"), command="sudo apt-get install -y build-essential"))
    r = probe.run([probe.which("g++") or "g++", "--version"], timeout=10)
    first = r.stdout.splitlines()[0] if r.stdout else "g++"
    return CheckResult("compiler", title, "ok", first)


def check_ninja(probe: Probe, ctx: CheckContext) -> CheckResult:
    title = msg("ninja")
    exe = probe.which("ninja")
    fix = Fix("action", msg("Install ninja into QuantDesk's environment (pip install ninja)"), command="pip install ninja",
              action="pip_install", args=["ninja"])
    if not exe:
        return CheckResult("ninja", title, "fail", msg("ninja not found"),
                           msg("Without it, C++/CUDA extensions fail with `RuntimeError: Ninja is required to load C++ "
                               "extensions` or build very slowly."), fix)
    r = probe.run([exe, "--version"], timeout=10)
    if not r.ok:
        return CheckResult("ninja", title, "fail", msg("ninja is on PATH but does not run"), f"{exe}\n{r.stderr}", fix)
    return CheckResult("ninja", title, "ok", f"ninja {r.stdout.strip()}", exe)
