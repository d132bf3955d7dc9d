"""Remote jobs on a real Ray head (ray start --head), inside a network namespace that has only `lo`.

Ray rewrites 127.0.0.1 to the machine's interface address; in a namespace with only loopback nothing
can leave the machine. This test runs `ray_head_cases.py` there (`unshare --net`, root; pytest collects
that file only when named); it skips with the reason where namespaces are not allowed or Ray is missing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
INSIDE = "QUANTDESK_RAY_NETNS"


def _why_not() -> str | None:
    try:
        import ray  # noqa: F401
    except ImportError:
        return "ray is not installed (pip install -e '.[ml]')"
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "unshare or ip (util-linux, iproute2) missing"
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"network namespaces are not allowed here ({probe.stderr.strip()[:200]}): run as root"
    return None


def test_remote_jobs_on_a_ray_head_in_a_loopback_only_namespace(tmp_path):
    if reason := _why_not():
        pytest.skip(reason)
    cmd = (f"ip link set lo up && exec {sys.executable} -m pytest -p no:cacheprovider -p no:randomly -q -s -x "
           f"--basetemp {tmp_path / 'inner'} tests/integration/ray_head_cases.py")
    # the inner run is no xdist worker: its shared models must stay inside its basetemp (the "shared storage")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT"))}
    proc = subprocess.run(["unshare", "--net", "sh", "-c", cmd], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, env={**env, INSIDE: "1", "RAY_USAGE_STATS_ENABLED": "0"})
    print(proc.stdout[-6000:], proc.stderr[-3000:])
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "7 passed" in proc.stdout
