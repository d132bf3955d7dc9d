"""The real llama.cpp engine for the integration tests, installed once per machine and then reused.

It lives in ~/.cache/quantdesk-tests/engines (QUANTDESK_TEST_ENGINES overrides) and is installed with
`quantdesk engines install llamacpp`, as a user would. pip keeps the compiled wheel in its cache, so a
new install on the same machine takes seconds; the first one compiles llama.cpp (about 5 minutes on
2 cores). A full test run starts the install in the background when it starts (`python -m tests.engines`),
so the build overlaps the other tests; a lock keeps two installs from running at once.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINES = Path(os.environ.get("QUANTDESK_TEST_ENGINES") or Path.home() / ".cache" / "quantdesk-tests" / "engines")
LOG = ENGINES / "install.log"
LOCK = ENGINES / "install.lock"


def installed() -> bool:
    from services.serving.engines import state

    return state("llamacpp", ENGINES).installed


def install(timeout: float = 3000) -> None:
    """Install llama.cpp into ENGINES unless it is there; holds the lock meanwhile. Raises with the log's tail."""
    from filelock import FileLock

    ENGINES.mkdir(parents=True, exist_ok=True)
    with FileLock(str(LOCK), timeout=timeout):
        if installed():
            return
        with tempfile.TemporaryDirectory() as home, open(LOG, "w", encoding="utf-8") as log:
            env = {**os.environ, "QUANTDESK_HOME": home, "QUANTDESK_ENGINES": str(ENGINES)}
            code = subprocess.run([sys.executable, "-m", "app", "engines", "install", "llamacpp"], cwd=ROOT,
                                  stdout=log, stderr=subprocess.STDOUT, env=env, timeout=timeout).returncode
        if code != 0 or not installed():
            tail = LOG.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
            raise RuntimeError(f"installing llama.cpp failed (exit {code}); {LOG}:\n" + "\n".join(tail))


def start_in_background() -> subprocess.Popen | None:
    if installed():
        return None
    ENGINES.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "tests.engines"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


if __name__ == "__main__":
    try:
        install()
    except Exception as exc:  # the fixture reports it
        print(exc, file=sys.stderr)
        sys.exit(1)
