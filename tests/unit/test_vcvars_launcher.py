"""Capturing the MSVC x64 environment, applying it to jobs, and writing .cmd/.ps1 launchers."""
import pytest

from services.envcheck.actions import run_fix
from services.envcheck.jobenv import job_environment, load_overrides
from services.envcheck.launcher import LauncherSpec, cmd_quote, cmd_script, ps1_script, write_launchers
from services.envcheck.model import Fix
from services.envcheck.probe import RunResult
from services.envcheck.vcvars import (
    MARKER,
    apply_delta,
    capture_command,
    load_msvc_env,
    parse_capture,
    parse_set_output,
)
from tests.fakes.probe import VCVARS, healthy_windows

BEFORE = r"""ALLUSERSPROFILE=C:\ProgramData
=C:=C:\Users\张伟
COMPUTERNAME=工作站-01
Path=C:\Windows\system32;C:\Windows;C:\Users\张伟\AppData\Local\Programs\Python\Python311\Scripts\
PATHEXT=.COM;.EXE;.BAT;.CMD
USERNAME=张伟
"""
AFTER = r"""ALLUSERSPROFILE=C:\ProgramData
COMPUTERNAME=工作站-01
DevEnvDir=C:\Program Files (x86)\Microsoft Visual Studio\2022\BuildTools\Common7\IDE\
INCLUDE=C:\Program Files (x86)\Microsoft Visual Studio\2022\BuildTools\VC\Tools\MSVC\14.40.33807\include;C:\Program Files (x86)\Windows Kits\10\include\10.0.22621.0\ucrt;C:\Program Files (x86)\Windows Kits\10\include\10.0.22621.0\shared
LIB=C:\Program Files (x86)\Microsoft Visual Studio\2022\BuildTools\VC\Tools\MSVC\14.40.33807\lib\x64;C:\Program Files (x86)\Windows Kits\10\lib\10.0.22621.0\ucrt\x64
Path=C:\Program Files (x86)\Microsoft Visual Studio\2022\BuildTools\VC\Tools\MSVC\14.40.33807\bin\HostX64\x64;C:\Windows\system32;C:\Windows;C:\Users\张伟\AppData\Local\Programs\Python\Python311\Scripts\
PATHEXT=.COM;.EXE;.BAT;.CMD
USERNAME=张伟
VSCMD_ARG_HOST_ARCH=x64
VSCMD_ARG_TGT_ARCH=x64
"""


def test_parse_set_output_keeps_non_ascii_and_skips_hidden_entries():
    env = parse_set_output(BEFORE)
    assert env["USERNAME"] == "张伟" and env["COMPUTERNAME"] == "工作站-01"
    assert "" not in env and not any(k.startswith("=") for k in env)
    assert env["Path"].endswith(r"Python311\Scripts" + "\\")


def test_capture_delta_holds_only_what_vcvars_changed():
    delta = parse_capture(BEFORE + MARKER + "\r\n" + AFTER)
    assert delta["prepend"]["PATH"] == [
        r"C:\Program Files (x86)\Microsoft Visual Studio\2022\BuildTools\VC\Tools\MSVC\14.40.33807\bin\HostX64\x64"]
    assert len(delta["prepend"]["INCLUDE"]) == 3 and any(p.endswith(r"\ucrt") for p in delta["prepend"]["INCLUDE"])
    assert delta["set"]["VSCMD_ARG_TGT_ARCH"] == "x64"
    assert "USERNAME" not in delta["set"] and "PATHEXT" not in delta["set"]


def test_capture_without_include_is_refused():
    with pytest.raises(ValueError, match="no INCLUDE"):
        parse_capture(BEFORE + MARKER + BEFORE)
    with pytest.raises(ValueError, match="no marker"):
        parse_capture(AFTER)


def test_applying_the_delta_puts_x64_tools_first_and_keeps_the_users_path():
    delta = parse_capture(BEFORE + MARKER + AFTER)
    env = {"Path": r"D:\新工具;C:\Windows\system32", "TEMP": r"C:\Temp"}
    out = apply_delta(env, delta)
    parts = out["Path"].split(";")
    assert parts[0].endswith(r"HostX64\x64") and r"D:\新工具" in parts
    assert "PATH" not in out  # the existing key's case is kept
    assert out["INCLUDE"].count(";") == 2 and out["TEMP"] == r"C:\Temp"
    assert apply_delta(out, delta)["Path"] == out["Path"]  # applying twice adds nothing


def test_capture_action_runs_vcvars_once_and_stores_the_delta(tmp_path):
    probe = healthy_windows()
    raw = BEFORE + MARKER + "\r\n" + AFTER
    probe.commands["cmd.exe /u /s /c"] = RunResult(0, raw)
    outcome = run_fix(Fix("action", "capture", action="capture_msvc", args=[VCVARS]), tmp_path, probe)
    assert "captured" in outcome
    assert probe.ran[-1] == capture_command(VCVARS)
    assert f'call "{VCVARS}"' in probe.ran[-1]
    stored = load_msvc_env(tmp_path)
    assert stored["vcvars"] == VCVARS and stored["set"]["VSCMD_ARG_TGT_ARCH"] == "x64"
    env = job_environment(tmp_path, base={"Path": r"C:\Windows"}, windows=True)
    assert env["Path"].split(";")[0].endswith(r"HostX64\x64") and "INCLUDE" in env
    assert "INCLUDE" not in job_environment(tmp_path, base={"PATH": "/usr/bin"}, windows=False)


def test_capture_failure_says_why(tmp_path):
    probe = healthy_windows()
    probe.commands["cmd.exe /u /s /c"] = RunResult(1, "", "'vcvars64.bat' is not recognized")
    with pytest.raises(RuntimeError, match="did not finish"):
        run_fix(Fix("action", "capture", action="capture_msvc", args=[VCVARS]), tmp_path, probe)
    assert load_msvc_env(tmp_path) is None


def test_env_fix_is_stored_for_jobs(tmp_path):
    run_fix(Fix("env", "mirror", env={"HF_ENDPOINT": "https://hf-mirror.com"}), tmp_path)
    assert load_overrides(tmp_path) == {"HF_ENDPOINT": "https://hf-mirror.com"}
    assert job_environment(tmp_path, base={})["HF_ENDPOINT"] == "https://hf-mirror.com"


def test_pip_install_action_reports_failure(tmp_path):
    probe = healthy_windows()
    probe.commands["py -m pip install ninja"] = RunResult(1, "", "ERROR: No matching distribution found for ninja")
    with pytest.raises(RuntimeError, match="No matching distribution"):
        run_fix(Fix("action", "ninja", action="pip_install", args=["ninja"]), tmp_path, probe, python="py")
    probe.commands["py -m pip install ninja"] = RunResult(0, "Successfully installed ninja-1.13.0")
    assert run_fix(Fix("action", "ninja", action="pip_install", args=["ninja"]), tmp_path, probe, python="py") == "installed ninja"


SPEC = LauncherSpec(command='lmdeploy serve api_server "D:\\模型 目录\\qwen-awq" --server-port 23333',
                    python_prefix=r"C:\Users\张伟\My Envs\quantdesk", vcvars=VCVARS)


def test_cmd_launcher_quotes_spaces_chinese_and_percent():
    text = cmd_script(SPEC)
    lines = text.split("\r\n")
    assert lines[:2] == ["@echo off", "chcp 65001 >nul"]  # UTF-8 before any non-ASCII line
    assert f'call "{VCVARS}" >nul' in text
    assert r'call "C:\Users\张伟\My Envs\quantdesk\Scripts\activate.bat"' in text
    assert "set DISTUTILS_USE_SDK=1" in text
    assert cmd_quote(r"C:\100% 模型") == r'"C:\100%% 模型"'
    with pytest.raises(ValueError):
        cmd_quote('C:\\bad"name')


def test_conda_launcher_activates_the_prefix():
    spec = LauncherSpec(command="quantdesk", python_prefix=r"C:\Miniconda3\envs\量化", conda_root=r"C:\Miniconda3")
    text = cmd_script(spec)
    assert r'call "C:\Miniconda3\Scripts\activate.bat" "C:\Miniconda3\envs\量化"' in text
    assert "vcvars" not in text
    ps = ps1_script(spec)
    assert r"& 'C:\Miniconda3\shell\condabin\conda-hook.ps1'" in ps and r"conda activate 'C:\Miniconda3\envs\量化'" in ps


def test_ps1_launcher_imports_vcvars_and_escapes_quotes():
    spec = LauncherSpec(command="quantdesk", python_prefix=r"C:\Users\O'Brien\env 环境", vcvars=VCVARS)
    ps = ps1_script(spec)
    assert r"& 'C:\Users\O''Brien\env 环境\Scripts\Activate.ps1'" in ps
    assert "Set-Item -Path \"env:" in ps and "$env:DISTUTILS_USE_SDK = '1'" in ps


def test_written_files_have_the_right_encodings(tmp_path):
    cmd, ps1 = write_launchers(tmp_path / "启动 脚本", "serve", SPEC)
    raw_cmd, raw_ps1 = cmd.read_bytes(), ps1.read_bytes()
    assert not raw_cmd.startswith(b"\xef\xbb\xbf") and raw_ps1.startswith(b"\xef\xbb\xbf")
    assert "模型 目录" in raw_cmd.decode("utf-8") and b"\r\n" in raw_cmd
