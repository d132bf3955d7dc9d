"""The job kinds the runner knows: where each one's code lives and which of its params are paths.

A new kind (export, serve, scan) is one entry here. Kinds from a newer QuantDesk that this
version does not know are still listed from the store, but the runner refuses to run them.
"""
from __future__ import annotations

from dataclasses import dataclass

from services.datasets.catalog import CATALOG


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: str  # "module:function", imported in the runner only
    path_params: tuple[str, ...] = ()  # params holding paths (lists allowed); dataset names are kept
    out_kind: str = "folder"
    # "module:function(job_id)" run by the job's owner when it ended without success (the runner may have
    # been killed): stops what the job started outside its process tree, e.g. docker containers
    cleanup: str | None = None
    stop_grace_s: float = 0.5  # how long a cancelled job gets to stop by itself before its tree is killed
    uses_slot: bool = True  # counts against "jobs at once"; a long-running server does not block the queue


KINDS: dict[str, JobKind] = {k.name: k for k in (
    JobKind("quantize", "services.quant.job:run", path_params=("calib",)),
    JobKind("eval", "services.evaluate.job:run", path_params=("baseline", "also", "text", "prompts")),
    JobKind("export", "services.targets.job:run", path_params=("llama_quantize",),
            cleanup="services.targets.docker:remove_job_containers"),
    JobKind("scan", "services.insight.job:run", path_params=("text",)),
    # a server stops its engine and reports on Stop: it gets time to do so
    JobKind("serve", "services.serving.job:run", path_params=("prompts", "reference"), out_kind="none",
            stop_grace_s=20.0, uses_slot=False),
    JobKind("runtime", "services.runtime.runtime_job:run", path_params=("root", "wheels"), out_kind="none",
            stop_grace_s=10.0, uses_slot=False),
    JobKind("engine", "services.serving.install:run", path_params=("root",), out_kind="none", stop_grace_s=10.0,
            uses_slot=False),
    JobKind("selftest", "services.jobs.selftest:run"),
    JobKind("probe", "services.clusters.probe:run", out_kind="none"),
    JobKind("fetch", "services.clusters.fetch:run", out_kind="folder", uses_slot=False),
)}


def uses_slot(kind: str) -> bool:
    k = KINDS.get(kind)
    return k.uses_slot if k else True


def stop_grace(kind: str) -> float:
    k = KINDS.get(kind)
    return k.stop_grace_s if k else 0.5


def run_cleanup(kind: str, job_id: str) -> None:
    """The kind's cleanup for a job that did not succeed (errors are the caller's to log)."""
    import importlib

    k = KINDS.get(kind)
    if k is not None and k.cleanup:
        module, func = k.cleanup.split(":")
        getattr(importlib.import_module(module), func)(job_id)


def is_dataset_name(value: str) -> bool:
    return value.strip().lower() in CATALOG


def path_values(kind: str, params: dict) -> list[tuple[str, str]]:
    """(param, value) for every path-valued param of a job of `kind` (dataset names left out)."""
    out: list[tuple[str, str]] = []
    k = KINDS.get(kind)
    for name in k.path_params if k else ():
        value = params.get(name)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v and not is_dataset_name(v):
                out.append((name, v))
    return out
