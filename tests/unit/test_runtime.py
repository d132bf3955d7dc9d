"""The managed ML runtime: the driver -> torch build table (fake NVML readings), an offline install from a
local wheel folder with progress, resume and repair. The wheels here are tiny ones the test writes."""
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

from services.jobs.events import Emitter, JobFailure
from services.runtime import managed, runtime_job
from tests.conftest import ROOT


@pytest.mark.parametrize("driver, sms, asked, tag, error", [
    (None, [], "auto", "cpu", None),
    ("560.94", [89], "auto", "cu126", None),
    ("572.16", [86], "auto", "cu128", None),
    ("581.08", [86, 120], "auto", "cu130", None),
    ("572.16", [120], "auto", "cu128", None),
    ("560.94", [120], "auto", "cu128", "driver 570 or newer"),
    ("470.82", [75], "auto", "cpu", None),
    ("560.94", [89], "cu130", "cu130", "needs driver 580"),
    ("581.08", [120], "cu126", "cu126", "sm_120"),
    (None, [], "cu128", "cu128", "needs an NVIDIA driver"),
    ("581.08", [89], "cpu", "cpu", None),
    ("581.08", [89], "rocm", "rocm", "unknown build"),
])
def test_torch_build_from_the_driver(driver, sms, asked, tag, error):
    b = managed.choose_torch(driver, sms, asked)
    assert b.tag == tag and (error in (b.error or "") if error else b.error is None), b
    if tag != "rocm":
        assert b.index_url == f"https://download.pytorch.org/whl/{tag}"


def test_pins_are_the_ml_extra():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["ml"]
    assert [managed.TORCH, *managed.ML_PINS] == extra
    cmds = managed.pip_commands(Path("/r/bin/python"), managed.choose_torch("581.08", [89]), None, False)
    assert cmds[0][-5:] == ["--index-url", "https://download.pytorch.org/whl/cu130", "--extra-index-url",
                            "https://pypi.org/simple", "torch==2.13.0"]
    offline = managed.pip_commands(Path("/r/bin/python"), managed.choose_torch(None, []), Path("/w"), True)
    assert "--no-index" in offline[1] and "--force-reinstall" in offline[1] and "psutil>=5.9" in offline[1]


def wheel(folder: Path, name: str, version: str) -> None:
    """A minimal pure-Python wheel: `import name` works and says its version."""
    dist = f"{name}-{version}.dist-info"
    files = {f"{name}/__init__.py": f"__version__ = {version!r}\n",
             f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{dist}/RECORD"] = "".join(f"{n},,\n" for n in [*files, f"{dist}/RECORD"])
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as z:
        for n, body in files.items():
            z.writestr(n, body)


@pytest.mark.slow
def test_offline_install_resume_and_repair(tmp_path):
    wheels = tmp_path / "wheels 轮子"
    wheels.mkdir()
    wheel(wheels, "qdfake_torch", "2.13.0")
    wheel(wheels, "qdfake_ml", "1.0")
    root = tmp_path / "runtime"
    buf = io.StringIO()
    kw = dict(torch="qdfake_torch==2.13.0", pins=("qdfake_ml",), check_modules=("qdfake_torch", "qdfake_ml"),
              base_python=sys.executable)
    build = managed.choose_torch(None, [])
    r = runtime_job.install(root, build, wheels, False, Emitter(buf), **kw)
    assert r["torch"] == "2.13.0" and r["build"] == "cpu"
    events = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert any(e["type"] == "progress" and e["unit"] == "packages" for e in events)
    assert managed.state(root, frozen=True).status == "installed"
    python = managed.venv_python(root / "venv")
    site = Path(subprocess.run([str(python), "-c", "import qdfake_ml, os; print(os.path.dirname(qdfake_ml.__file__))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    shutil.rmtree(site)  # a broken runtime: a package's files are gone, its metadata says installed
    with pytest.raises(JobFailure, match="does not import"):
        runtime_job.install(root, build, wheels, False, Emitter(io.StringIO()), **kw)  # a rerun keeps what is there
    assert managed.state(root, frozen=True).status == "incomplete"
    buf = io.StringIO()
    runtime_job.install(root, build, wheels, True, Emitter(buf), **kw)
    assert managed.state(root, frozen=True).status == "installed" and (site / "__init__.py").is_file()
    python.unlink()
    assert managed.state(root, frozen=True).status == "broken"
    runtime_job.install(root, build, wheels, True, Emitter(io.StringIO()), **kw)
    assert managed.state(root, frozen=True).status == "installed"
    with pytest.raises(JobFailure, match="not a folder"):
        runtime_job.install(root, build, tmp_path / "missing", False, Emitter(io.StringIO()), **kw)
    with pytest.raises(JobFailure, match="needs driver"):
        runtime_job.install(root, managed.choose_torch("560.1", [89], "cu130"), wheels, False, Emitter(io.StringIO()),
                            **kw)


def test_jobs_run_on_this_python_in_a_dev_install():
    from services.runtime.runtime import current_runtime, job_runtime

    assert job_runtime() == current_runtime()
    assert managed.state().status == "dev"


def test_the_build_is_pinned_offline_is_isolated_and_installs_do_not_overlap(tmp_path):
    from services.jobs.slots import try_lock
    from services.jobs.spec import JobSpec

    cu130 = managed.choose_torch("581.08", [89])
    assert managed.torch_spec(cu130) == "torch==2.13.0+cu130"
    cmds = managed.pip_commands(Path("/r/bin/python"), cu130, None, False, first=managed.torch_spec(cu130))
    assert cmds[0][-1] == "torch==2.13.0+cu130" and "--isolated" not in cmds[0]
    assert "--isolated" in managed.pip_commands(Path("/p"), cu130, Path("/w"), False)[1]
    held = try_lock(tmp_path / ".install.lock")
    try:
        with pytest.raises(JobFailure, match="another install"):
            runtime_job.install(tmp_path, cu130, None, False, Emitter(io.StringIO()))
    finally:
        held.release()
    with pytest.raises(JobFailure, match="--wheels is empty"):
        runtime_job.run(JobSpec(kind="runtime", model="-", params={"build": "cpu", "wheels": "", "root": str(tmp_path)}),
                        Emitter(io.StringIO()))


def test_run_kills_its_child_when_cancelled_and_says_so():
    """The cancel the environment checks need lives in process.run: a cancel stops the child within 0.1 s."""
    import sys
    import time

    import pytest

    from services.progress import Cancelled
    from services.runtime import process

    started = time.monotonic()
    with pytest.raises(Cancelled):
        process.run([sys.executable, "-c", "import time; time.sleep(60)"], timeout=60,
                    cancelled=lambda: time.monotonic() - started > 0.3)
    assert time.monotonic() - started < 5
    done = process.run([sys.executable, "-c", "print('ok')"], timeout=30, cancelled=lambda: False)
    assert done.returncode == 0 and done.stdout.strip() == "ok"  # a run nobody cancels is unchanged
