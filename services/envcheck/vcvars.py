"""Find Visual Studio's x64 build tools and capture the environment vcvars64.bat sets up.

Running `vcvars64.bat` once and storing what it changes lets QuantDesk start every job with the
x64 compiler, the Windows SDK headers and libraries, so nobody needs the "x64 Native Tools" prompt.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from services.envcheck.context import join
from services.messages import msg

if TYPE_CHECKING:
    from services.envcheck.probe import Probe

VSWHERE_ARGS = ["-latest", "-products", "*", "-requires", "Microsoft.VisualStudio.Component.VC.Tools.x86.x64",
                "-property", "installationPath", "-utf8"]
MARKER = "===QUANTDESK-VCVARS==="
PATH_LIKE = ("PATH", "INCLUDE", "LIB", "LIBPATH", "EXTERNAL_INCLUDE")


def vswhere_path(probe: Probe) -> str:
    root = probe.env("ProgramFiles(x86)") or r"C:\Program Files (x86)"
    return join("windows", root, "Microsoft Visual Studio", "Installer", "vswhere.exe")


def find_vcvars64(probe: Probe) -> tuple[str | None, str]:
    """(path to vcvars64.bat or None, what was found on the way)."""
    vswhere = vswhere_path(probe)
    if not probe.exists(vswhere):
        return None, msg("vswhere.exe not found at {path}: Visual Studio or its Build Tools are not installed", path=vswhere)
    r = probe.run([vswhere, *VSWHERE_ARGS], timeout=20)
    if r.timed_out:
        return None, msg("vswhere.exe timed out after 20 s")
    install = r.stdout.strip().splitlines()[0].strip() if r.stdout.strip() else ""
    if not install:
        return None, msg("Visual Studio is installed without the C++ x64 build tools (MSVC v143 workload)")
    bat = join("windows", install, "VC", "Auxiliary", "Build", "vcvars64.bat")
    if not probe.exists(bat):
        return None, msg("{path} is missing: repair the Visual Studio installation", path=bat)
    return bat, msg("Visual Studio at {path}", path=install)


def capture_command(vcvars: str) -> str:
    """cmd line printing the environment before and after vcvars64.bat, as UTF-16 (/u) to keep non-ASCII.

    A string, not a list: cmd's /s /c quoting does not survive list2cmdline's escaping.
    """
    return f'cmd.exe /u /s /c "set && echo {MARKER} && call "{vcvars}" >nul && set"'


def parse_set_output(text: str) -> dict[str, str]:
    """Parse `set` output (NAME=value lines) into a dict; keys keep their case."""
    env: dict[str, str] = {}
    for line in text.splitlines():
        line = line.rstrip("\r")
        if not line or line.startswith("=") or "=" not in line:
            continue  # cmd's hidden "=C:=C:\..." entries and noise
        name, _, value = line.partition("=")
        env[name] = value
    return env


def env_delta(before: dict[str, str], after: dict[str, str]) -> dict:
    """What vcvars changed: {"set": {name: value}, "prepend": {name: [entries]}} (names upper-cased)."""
    b = {k.upper(): v for k, v in before.items()}
    a = {k.upper(): v for k, v in after.items()}
    delta: dict = {"set": {}, "prepend": {}}
    for name, value in a.items():
        if b.get(name) == value:
            continue
        if name in PATH_LIKE:
            old = {e.lower() for e in b.get(name, "").split(";") if e}
            new = [e for e in value.split(";") if e and e.lower() not in old]
            if new:
                delta["prepend"][name] = new
        else:
            delta["set"][name] = value
    return delta


def parse_capture(raw: str) -> dict:
    """Split the capture command's output at the marker and return the delta."""
    if MARKER not in raw:
        raise ValueError(msg("vcvars64.bat did not finish (no marker in its output)"))
    before, _, after = raw.partition(MARKER)
    delta = env_delta(parse_set_output(before), parse_set_output(after))
    if not delta["prepend"].get("INCLUDE") and "INCLUDE" not in delta["set"]:
        raise ValueError(msg("vcvars64.bat set no INCLUDE path: the C++ build tools look incomplete"))
    return delta


def capture_msvc_env(probe: Probe, vcvars: str, timeout: float = 120.0) -> dict:
    """Run vcvars64.bat once and return what it changes; raise RuntimeError with the reason."""
    r = probe.run(capture_command(vcvars), timeout=timeout, encoding="utf-16-le")
    if r.timed_out:
        raise RuntimeError(msg("vcvars64.bat took longer than {timeout:.0f} s", timeout=timeout))
    try:
        delta = parse_capture(r.stdout)
    except ValueError as exc:
        raise RuntimeError(f"{exc}\n{r.stderr.strip()}") from exc
    delta["vcvars"] = vcvars
    return delta


def apply_delta(env: dict[str, str], delta: dict | None, sep: str = ";") -> dict[str, str]:
    """A copy of `env` with the captured variables set and path entries put first."""
    out = dict(env)
    if not delta:
        return out
    upper = {k.upper(): k for k in out}
    for name, value in delta.get("set", {}).items():
        out[upper.get(name, name)] = value
    for name, entries in delta.get("prepend", {}).items():
        key = upper.get(name, name)
        current = [e for e in out.get(key, "").split(sep) if e]
        keep = [e for e in current if e.lower() not in {x.lower() for x in entries}]
        out[key] = sep.join([*entries, *keep])
    return out


def store_path(config_dir: Path) -> Path:
    return config_dir / "msvc_env.json"


def save_msvc_env(config_dir: Path, delta: dict) -> Path:
    path = store_path(config_dir)
    path.write_text(json.dumps(delta, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def load_msvc_env(config_dir: Path) -> dict | None:
    path = store_path(config_dir)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
