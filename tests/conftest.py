"""Shared test set-up: offscreen Qt, a private QUANTDESK_HOME per test, and logfail."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"  # child processes too: no test reaches a hub
os.environ["HF_DATASETS_OFFLINE"] = "1"
if os.environ.get("PYTEST_XDIST_WORKER"):  # one thread per worker: two workers on two cores, no oversubscription
    os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.logfail import logfail, pytest_runtest_call  # noqa: E402,F401  (fixture and hook)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Tests talk to loopback and local sockets only; anything else is refused (and fails loudly)."""
    import socket

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def allowed(address) -> bool:
        if isinstance(address, (str, bytes)):  # AF_UNIX
            return True
        host = str(address[0])
        return host in ("localhost", "::1") or host.startswith("127.")

    def connect(self, address):
        if not allowed(address):
            raise OSError(f"tests may not use the network (tried {address!r}); use a fake probe")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not allowed(address):
            raise OSError(f"tests may not use the network (tried {address!r}); use a fake probe")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(autouse=True)
def quantdesk_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own settings, logs, data and cache folders."""
    home = tmp_path_factory.mktemp("qdhome")
    monkeypatch.setenv("QUANTDESK_HOME", str(home))
    return home


def run_python(code: str, *args: str, timeout: float = 120, env: dict | None = None):
    """Run `python -c code` in a fresh interpreter from the repository root."""
    import subprocess

    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=full_env)


def shared(tmp_path_factory, name: str, build) -> Path:
    """`build(folder)` once per test run, shared by the xdist workers (a file lock; built aside, then renamed)."""
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, common to all workers
    target = root / name
    with FileLock(str(root / f"{name}.lock")):
        if not target.exists():
            scratch = root / f"{name}.building"
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir()
            build(scratch)
            scratch.rename(target)
    return target


@pytest.fixture(scope="session")
def tiny_tokenizer(tmp_path_factory) -> Path:
    """A byte-level BPE tokenizer trained on standard-library docstrings (built once per run)."""
    from tests.tinymodels import build_tokenizer

    return shared(tmp_path_factory, "tokenizer", lambda d: build_tokenizer(d))


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory, tiny_tokenizer) -> Path:
    """A 2-layer GQA Llama (hidden 128, 4 heads, 2 KV heads) in fp16 with random weights."""
    from tests.tinymodels import build_model

    return shared(tmp_path_factory, "tiny llama 模型", lambda d: build_model(
        d, tiny_tokenizer, "llama", dtype="float16", hidden=128, intermediate=256, heads=4, kv_heads=2, layers=2))


@pytest.fixture(scope="session")
def tiny_qwen2(tmp_path_factory, tiny_tokenizer) -> Path:
    """A 2-layer Qwen2 (qkv bias, tied embeddings) in fp16 with random weights."""
    from tests.tinymodels import build_model

    return shared(tmp_path_factory, "tiny qwen2", lambda d: build_model(
        d, tiny_tokenizer, "qwen2", dtype="float16", hidden=128, intermediate=256, heads=4, kv_heads=2, layers=2))


@pytest.fixture(scope="session")
def structured_llama(tmp_path_factory, tiny_tokenizer) -> Path:
    """A tiny Llama with real structure: briefly trained, with activation outliers (see tinymodels)."""
    from tests.tinymodels import build_structured_model

    return shared(tmp_path_factory, "structured", lambda d: build_structured_model(d / "llama", tiny_tokenizer)) \
        / "llama"


@pytest.fixture(scope="session")
def held_out_ids(tiny_tokenizer) -> list[int]:
    from tests.tinymodels import split_corpus

    return split_corpus(tiny_tokenizer)[1][:8192]


@pytest.fixture(scope="session")
def calib_file(tmp_path_factory) -> Path:
    """Calibration text (training-split docstrings) in a file with a space and Chinese in its path."""
    from tests.tinymodels import stdlib_docstrings

    docs = stdlib_docstrings()
    path = tmp_path_factory.mktemp("calib") / "校准 text.txt"
    path.write_text("\n\n".join(d.replace("\n\n", "\n") for d in docs[: len(docs) * 8 // 10]), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def structured_awq(tmp_path_factory, structured_llama, calib_file) -> Path:
    """`structured_llama` quantized (W4 g64) through `quantdesk quantize`, once per run."""
    import subprocess

    def build(folder: Path) -> None:
        proc = subprocess.run([sys.executable, "-m", "app", "quantize", "--model", str(structured_llama), "--out",
                               str(folder / "awq"), "--calib", str(calib_file), "--samples", "32", "--seqlen", "128",
                               "--group-size", "64"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                              env={**os.environ, "QUANTDESK_HOME": str(folder / "home")})
        assert proc.returncode == 0, proc.stderr[-2000:]

    return shared(tmp_path_factory, "structured-awq", build) / "awq"


@pytest.fixture(scope="session")
def held_out_file(tmp_path_factory) -> Path:
    from tests.tinymodels import stdlib_docstrings

    docs = stdlib_docstrings()
    path = tmp_path_factory.mktemp("heldout") / "held out.txt"
    path.write_text("\n\n".join(d.replace("\n\n", "\n") for d in docs[len(docs) * 8 // 10:]), encoding="utf-8")
    return path


_engine_install = None


def pytest_sessionstart(session):
    """A full run (or one with the integration tests) starts the llama.cpp install at once (tests/engines.py)."""
    global _engine_install
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller started it
    args = [str(a) for a in session.config.args]
    if any(Path(a).resolve() in (ROOT, ROOT / "tests", ROOT / "tests" / "integration") or "serve" in a
           for a in args) or not args:
        from tests.engines import start_in_background

        _engine_install = start_in_background()


def pytest_sessionfinish(session):
    if _engine_install is not None and _engine_install.poll() is None:
        from services.runtime.process import kill_tree

        kill_tree(_engine_install.pid)


@pytest.fixture(scope="session")
def llamacpp_engines() -> Path:
    """The folder holding the real llama.cpp engine (installed once per machine; see tests/engines.py)."""
    from tests import engines

    try:
        engines.install()
    except Exception as exc:
        pytest.fail(str(exc))
    return engines.ENGINES


@pytest.fixture
def fake_ray(tmp_path, monkeypatch):
    """A FAKE Ray cluster "lab" whose shared storage /mnt/lab is mounted here at the returned folder."""
    from tests.fakes.ray_jobs import use_fake_cluster

    shared = tmp_path / "shared 共享"
    shared.mkdir()
    use_fake_cluster(monkeypatch, tmp_path, "/mnt/lab", str(shared))
    return shared
