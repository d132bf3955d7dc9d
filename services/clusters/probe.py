"""The `probe` job: runs on a cluster node and reports what jobs will find there (Python, the ML
packages, CUDA, the shared storage folders). `quantdesk cluster check` submits it."""
from __future__ import annotations

import importlib.metadata as md
import os
import socket
import sys
import tempfile

from services.jobs.events import Emitter
from services.jobs.spec import JobSpec
from services.messages import msg
from services.runtime.runtime import current_runtime

PACKAGES = ("torch", "transformers", "accelerate", "datasets", "autoawq", "llmcompressor", "psutil", "platformdirs")
NEEDED = ("torch", "transformers", "psutil", "platformdirs")


def _folder(path: str) -> str:
    if not os.path.isdir(path):
        return "missing"
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".quantdesk-probe-"):
            pass
    except OSError:
        return "read-only"
    return "ok"


def run(spec: JobSpec, events: Emitter) -> dict:
    events.stage("probe", msg("what jobs find on this node"))
    packages: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            packages[name] = md.version(name)
        except md.PackageNotFoundError:
            packages[name] = None
    cuda, gpus = False, []
    if packages["torch"]:
        try:
            import torch

            cuda = bool(torch.cuda.is_available())
            gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else []
        except Exception as exc:  # a broken torch is a finding, not a failed probe
            events.log(msg("torch does not import: {error}", error=exc), "WARNING")
            packages["torch"] = None
    storage = {p: _folder(p) for p in spec.params.get("storage") or []}
    return {"python": ".".join(map(str, sys.version_info[:3])), "executable": current_runtime().python, "platform": sys.platform,
            "node": socket.gethostname(), "packages": packages, "cuda": cuda, "gpus": gpus, "storage": storage,
            "missing": [n for n in NEEDED if not packages.get(n)]}
