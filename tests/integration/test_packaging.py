"""The installed app: the PyInstaller onedir build (no torch inside) runs its CLI, renders a panel, runs a job
through the frozen runner mode, and makensis compiles the installer script over it (where NSIS is installed)."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def onedir(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist 安装")
    r = subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py"), "--dist", str(dist), "--work",
                        str(dist / "work"), "--no-installer"], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return dist / "QuantDesk"


def frozen(onedir, home, *args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(onedir / "quantdesk"), *args], capture_output=True, text=True, timeout=timeout,
                          env={**env, "QUANTDESK_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}, cwd=home)


def test_the_frozen_app_runs_without_python_or_torch(onedir, tmp_path):
    assert (onedir / "QuantDesk").is_file() and (onedir / "_internal" / "src" / "services" / "jobs" / "runner.py").is_file()
    assert not list((onedir / "_internal").glob("torch*")) and (onedir / "_internal" / "resources" / "translations" /
                                                                 "quantdesk_zh_CN.qm").is_file()
    r = frozen(onedir, tmp_path, "--version")
    assert r.returncode == 0 and r.stdout.startswith("quantdesk 0."), r.stderr
    r = frozen(onedir, tmp_path, "doctor", "--json")
    checks = {c["id"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["runtime"]["status"] == "warn" and "quantdesk runtime install" in checks["runtime"]["fix"]["command"]
    r = frozen(onedir, tmp_path, "gui", "--panel", "jobs", "--lang", "zh_CN", "--screenshot", str(tmp_path / "j.png"))
    assert r.returncode == 0 and (tmp_path / "j.png").stat().st_size > 10000, r.stderr[-2000:]
    r = frozen(onedir, tmp_path, "jobs", "selftest", "--steps", "3")
    assert r.returncode == 0, r.stderr[-2000:]
    r = frozen(onedir, tmp_path, "runtime", "status", "--json")
    assert json.loads(r.stdout)["jobs_run_on"]["status"] == "missing"


@pytest.mark.skipif(not shutil.which("makensis"), reason="makensis (NSIS; Debian: apt-get install nsis) is not installed")
def test_the_installer_script_compiles(onedir, tmp_path):
    out = tmp_path / "setup 安装.exe"
    r = subprocess.run(["makensis", "-V2", "-DVERSION=0.1.0", f"-DPAYLOAD={onedir}", f"-DOUTFILE={out}",
                        "-DCOMPRESSOR=zlib", str(ROOT / "packaging" / "installer.nsi")],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert out.read_bytes()[:2] == b"MZ" and out.stat().st_size > 20_000_000
