"""Write .cmd and .ps1 launchers: set up MSVC x64, activate the environment, run a command.

Paths with spaces and Chinese characters are quoted; the .cmd switches the console to UTF-8
(chcp 65001) before any non-ASCII line, and the .ps1 is written with a BOM so Windows PowerShell
5.1 reads it as UTF-8.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from services.messages import msg


@dataclass(frozen=True)
class LauncherSpec:
    command: str  # what to start, e.g. 'quantdesk' or 'lmdeploy serve api_server "D:\\模型\\qwen-awq"'
    python_prefix: str  # the environment QuantDesk runs in (venv or conda prefix)
    vcvars: str | None = None  # vcvars64.bat, when MSVC is installed
    conda_root: str | None = None  # set for a conda environment: <root>\Scripts\activate.bat is used
    workdir: str | None = None


def cmd_quote(value: str) -> str:
    """Quote for cmd.exe inside a batch file: wrap in double quotes, double the % signs."""
    if '"' in value:
        raise ValueError(msg("a path cannot contain a double quote: {path}", path=value))
    return '"' + value.replace("%", "%%") + '"'


def ps_quote(value: str) -> str:
    """A PowerShell single-quoted literal."""
    return "'" + value.replace("'", "''") + "'"


def cmd_script(spec: LauncherSpec) -> str:
    lines = ["@echo off", "chcp 65001 >nul", "setlocal"]
    if spec.vcvars:
        lines.append(f"call {cmd_quote(spec.vcvars)} >nul || (echo vcvars64.bat failed & exit /b 1)")
        lines.append("set DISTUTILS_USE_SDK=1")
    prefix = PureWindowsPath(spec.python_prefix)
    if spec.conda_root:
        activate = PureWindowsPath(spec.conda_root, "Scripts", "activate.bat")
        lines.append(f"call {cmd_quote(str(activate))} {cmd_quote(str(prefix))} || exit /b 1")
    else:
        lines.append(f"call {cmd_quote(str(prefix / 'Scripts' / 'activate.bat'))} || exit /b 1")
    if spec.workdir:
        lines.append(f"cd /d {cmd_quote(spec.workdir)}")
    lines.append(spec.command.replace("%", "%%") + " %*")
    lines.append("exit /b %ERRORLEVEL%")
    return "\r\n".join(lines) + "\r\n"


def ps1_script(spec: LauncherSpec) -> str:
    lines = ["$ErrorActionPreference = 'Stop'"]
    if spec.vcvars:
        lines += [
            f"$vcvars = {ps_quote(spec.vcvars)}",
            'cmd /u /c "`"$vcvars`" >nul && set" | ForEach-Object {',
            "    if ($_ -match '^([^=]+)=(.*)$') { Set-Item -Path \"env:$($matches[1])\" -Value $matches[2] }",
            "}",
            "$env:DISTUTILS_USE_SDK = '1'",
        ]
    prefix = PureWindowsPath(spec.python_prefix)
    if spec.conda_root:
        hook = PureWindowsPath(spec.conda_root, "shell", "condabin", "conda-hook.ps1")
        lines += [f"& {ps_quote(str(hook))}", f"conda activate {ps_quote(str(prefix))}"]
    else:
        lines.append(f"& {ps_quote(str(prefix / 'Scripts' / 'Activate.ps1'))}")
    if spec.workdir:
        lines.append(f"Set-Location -LiteralPath {ps_quote(spec.workdir)}")
    lines += [f"{spec.command} @args", "exit $LASTEXITCODE"]
    return "\r\n".join(lines) + "\r\n"


def write_launchers(folder: Path, name: str, spec: LauncherSpec) -> tuple[Path, Path]:
    """Write <name>.cmd (UTF-8, no BOM: cmd would run the BOM) and <name>.ps1 (UTF-8 with BOM)."""
    folder.mkdir(parents=True, exist_ok=True)
    cmd = folder / f"{name}.cmd"
    ps1 = folder / f"{name}.ps1"
    cmd.write_bytes(cmd_script(spec).encode("utf-8"))
    ps1.write_bytes(ps1_script(spec).encode("utf-8-sig"))
    return cmd, ps1
