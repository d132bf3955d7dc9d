"""Launch scripts for the targets: bash, cmd and PowerShell, with paths quoted (spaces, CJK) and
Windows paths translated for WSL (vLLM has no Windows build) or Docker Desktop.

Every function takes paths as strings, so Windows logic is tested on Linux.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path, PurePosixPath, PureWindowsPath

from services.envcheck.launcher import cmd_quote, ps_quote
from services.messages import msg

MODEL_VAR = "QUANTDESK_MODEL"
MODEL = "$" + MODEL_VAR  # stands for the model folder in a target's argv (bash scripts let the user override it)
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_WSL_SHARE = re.compile(r"^[\\/]{2}wsl(?:\$|\.localhost)[\\/][^\\/]+(?P<rest>(?:[\\/].*)?)$", re.IGNORECASE)


def is_windows_path(path: str) -> bool:
    return bool(_DRIVE.match(path)) or path.startswith("\\\\")


def wsl_path(path: str) -> str:
    """`C:\\模型\\a b` -> `/mnt/c/模型/a b`; `\\\\wsl$\\Ubuntu\\home\\u` -> `/home/u`; POSIX paths unchanged."""
    if m := _WSL_SHARE.match(path):
        return m.group("rest").replace("\\", "/") or "/"
    if path.startswith("\\\\"):
        raise ValueError(msg("{path} is on a network share, which WSL does not see under /mnt: copy the model to a "
                             "local drive (or mount the share inside WSL and pass that path)", path=path))
    if _DRIVE.match(path):
        p = PureWindowsPath(path)
        return str(PurePosixPath("/mnt", p.drive[0].lower(), *p.parts[1:]))
    return path


def docker_host_path(path: str, windows_shell: bool) -> str:
    """A host path for `docker run -v`: Docker Desktop takes `C:/...` from cmd/PowerShell, `/mnt/c/...` from WSL."""
    if is_windows_path(path) and not windows_shell:
        return wsl_path(path)
    if _DRIVE.match(path):
        return path.replace("\\", "/")
    return path


def sh_quote(value: str) -> str:
    return shlex.quote(value)


def sh_script(argv: list[str], header: list[str], env: dict[str, str] | None = None,
              model_var: tuple[str, str] | None = None, pass_args: bool = True) -> str:
    """A bash script running `argv` with the user's extra arguments appended.

    `model_var` = (NAME, default path): the path can be overridden from the environment (e.g. on a
    server where the model lies elsewhere) and `$NAME` in `argv` stands for it.
    """
    lines = ["#!/usr/bin/env bash", *[f"# {h}" for h in header], "set -euo pipefail"]
    lines += [f"export {k}={sh_quote(v)}" for k, v in (env or {}).items()]
    if model_var:
        name, default = model_var
        lines.append(f'if [ -z "${{{name}:-}}" ]; then {name}={sh_quote(default)}; fi')
    words = [f'"${model_var[0]}"' if model_var and a == f"${model_var[0]}" else sh_quote(a) for a in argv]
    lines.append("exec " + " ".join(words) + (' "$@"' if pass_args else ""))
    return "\n".join(lines) + "\n"


def cmd_problem(*paths: str) -> str | None:
    """Why a path cannot go into a .cmd launcher (cmd.exe has no escape for a double quote), or None."""
    for p in paths:
        if '"' in p:
            return msg("{path} contains a double quote, which a Windows .cmd launcher cannot quote: rename the folder",
                       path=p)
    return None


def _rem(header: list[str]) -> list[str]:
    # cmd expands %...% even in rem lines (and aborts on "%~"): double every %
    return [f"rem {h.replace('%', '%%')}" for h in header]


def cmd_via_wsl(script: str, header: list[str]) -> str:
    """A .cmd that runs the bash script beside it inside WSL (found through %~dp0, so the folder can move)."""
    lines = ["@echo off", "chcp 65001 >nul", *_rem(header)]
    lines += ["wsl.exe --cd \"%~dp0.\" -e bash ./" + script + " %*"]
    return "\r\n".join(lines) + "\r\n"


def ps1_via_wsl(script: str, header: list[str]) -> str:
    lines = [*[f"# {h}" for h in header], "$ErrorActionPreference = 'Stop'",
             f"wsl.exe --cd $PSScriptRoot -e bash ./{script} @args", "exit $LASTEXITCODE"]
    return "\r\n".join(lines) + "\r\n"


def cmd_native(argv: list[str], header: list[str], env: dict[str, str] | None = None, pass_args: bool = True) -> str:
    """A .cmd running `argv` directly (Windows paths as given), the user's arguments appended."""
    lines = ["@echo off", "chcp 65001 >nul", "setlocal", *_rem(header)]
    lines += [f"set {cmd_quote(f'{k}={v}')}" for k, v in (env or {}).items()]
    lines.append(" ".join(a if re.fullmatch(r"[\w.\-=:/]+", a) else cmd_quote(a) for a in argv)
                 + (" %*" if pass_args else ""))
    lines.append("exit /b %ERRORLEVEL%")
    return "\r\n".join(lines) + "\r\n"


def ps1_native(argv: list[str], header: list[str], env: dict[str, str] | None = None, pass_args: bool = True) -> str:
    lines = [*[f"# {h}" for h in header], "$ErrorActionPreference = 'Stop'"]
    lines += [f"$env:{k} = {ps_quote(v)}" for k, v in (env or {}).items()]
    lines.append("& " + " ".join(ps_quote(a) for a in argv) + (" @args" if pass_args else ""))
    lines.append("exit $LASTEXITCODE")
    return "\r\n".join(lines) + "\r\n"


def write_text(folder: Path, name: str, text: str, executable: bool = False) -> Path:
    """Write a script with the line endings already in `text` (cmd and ps1 get CRLF, bash LF) in UTF-8;
    a .ps1 gets a BOM, without which Windows PowerShell 5.1 reads it in the ANSI code page (CJK paths break)."""
    path = folder / name
    with open(path, "w", encoding="utf-8-sig" if name.endswith(".ps1") else "utf-8", newline="") as f:
        f.write(text)
    if executable:
        path.chmod(0o755)
    return path


def pretty_command(argv: list[str], model: str | None = None) -> str:
    """One line to show and copy (bash quoting), with `model` in place of MODEL."""
    return " ".join(sh_quote(model if a == MODEL and model else a) for a in argv)
