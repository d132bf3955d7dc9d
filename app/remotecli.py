"""`--executor local|ray --cluster NAME` for the job subcommands: the spec made ready for the cluster."""
from __future__ import annotations

import argparse
import sys
from pathlib import PurePosixPath

from app.cli import UsageError, absolute
from services.jobs.spec import JobSpec


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="run here, or on a Ray cluster (quantdesk cluster add)")
    p.add_argument("--cluster", help="with --executor ray: the cluster's name (default: the default cluster)")


def is_remote(args: argparse.Namespace) -> bool:
    if args.cluster and args.executor != "ray":
        raise UsageError("--cluster goes with --executor ray")
    return args.executor == "ray"


def path_arg(value: str, remote: bool) -> str:
    """A path argument: absolute here; for a cluster job a POSIX absolute path or URI is the cluster's own."""
    if remote and ("://" in value or PurePosixPath(value).is_absolute()):
        return value
    return absolute(value)


def source_arg(value: str) -> str:
    """A cluster job's data source: a dataset name stays a name, a path as path_arg makes it."""
    from services.datasets.catalog import CATALOG
    from services.jobs.kinds import is_dataset_name

    if is_dataset_name(value):
        return value
    if not any(c in value for c in "/\\") and not value.startswith("~"):
        raise UsageError(f"{value!r} is neither a dataset name ({', '.join(CATALOG)}) nor a path on the cluster's "
                         "shared storage")
    return path_arg(value, True)


def prepare(args: argparse.Namespace, spec: JobSpec, local_check=None) -> JobSpec:
    """The spec for the chosen cluster: paths translated, GPUs requested, pre-flight against the cluster's
    resources; warnings and notes on stderr; UsageError when something must change first."""
    from services.clusters.config import ClusterError, load_clusters
    from services.clusters.executor import ClusterUnavailable, RayExecutor
    from services.clusters.paths import ClusterPathError, remote_spec
    from services.clusters.preflight import plan_remote
    from services.clusters.resources import ClusterResources

    try:
        cluster = load_clusters().get(args.cluster)
    except ClusterError as exc:
        raise UsageError(str(exc)) from exc
    try:
        remote_spec(cluster, spec)  # a path the cluster cannot read is refused before asking the cluster anything
    except ClusterPathError as exc:
        raise UsageError(str(exc)) from exc
    try:
        resources = ClusterResources.from_answer(RayExecutor(cluster).call("resources"))
    except ClusterUnavailable as exc:
        raise UsageError(f"{exc}; check it with quantdesk cluster check {cluster.name}") from exc
    plan = plan_remote(cluster, spec, resources, local_check)
    if not plan.ok:
        raise UsageError("; ".join(plan.errors))
    for w in plan.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for n in plan.notes:
        print(f"note: {n}", file=sys.stderr)
    print(f"output on cluster {cluster.name}: {plan.spec.out} (quantdesk jobs fetch ID --out FOLDER copies it here)"
          if plan.spec.out else f"running on cluster {cluster.name}", file=sys.stderr)
    return plan.spec
