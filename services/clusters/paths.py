"""Which files a cluster can read: a job's paths translated to the cluster's view of shared storage.

A path is fine when it is a URI, is under a storage folder as the cluster names it, or is under the
folder where that storage is mounted on this machine (translated). Anything else is on this machine
only, and the job is refused before it is submitted.
"""
from __future__ import annotations

import re
from pathlib import PurePath, PurePosixPath, PureWindowsPath

from services.clusters.config import Cluster
from services.jobs.kinds import KINDS, is_dataset_name
from services.jobs.spec import JobSpec
from services.messages import msg


class ClusterPathError(ValueError):
    """A job's path the cluster cannot read; the message says where to put it."""


def _pure(path: str) -> PurePath:
    if re.match(r"^[A-Za-z]:[\\/]", path) or path.startswith("\\\\"):
        return PureWindowsPath(path)
    return PurePosixPath(path)


def _under(path: str, folder: str) -> str | None:
    """The part of `path` below `folder` ('' for the folder itself), or None when it is not inside."""
    if not folder:
        return None
    p, f = _pure(path), _pure(folder)
    if type(p) is not type(f):
        return None
    try:
        return p.relative_to(f).as_posix().removeprefix(".")
    except ValueError:
        return None


def _join(remote: str, rest: str) -> str:
    base = remote.rstrip("/\\")
    return f"{base}/{rest}" if rest else base or "/"


def to_remote(cluster: Cluster, path: str) -> str:
    """`path` as the cluster's nodes see it, or ClusterPathError."""
    if "://" in path:
        return path
    for s in cluster.storage:
        if _under(path, s.remote) is not None:
            return path
    for s in cluster.storage:
        rest = _under(path, s.local)
        if rest is not None:
            return _join(s.remote, rest)
    if not cluster.storage:
        raise ClusterPathError(
            f"{path} is on this machine only, and cluster {cluster.name} has no shared storage set up: add the "
            f"folder its nodes share (quantdesk cluster add {cluster.name} --address ... --storage REMOTE=LOCAL, "
            "or Settings > Clusters), put the file there, and give that path")
    where = "; ".join(msg("{local} (= {remote} on the cluster)", local=s.local, remote=s.remote)
                      if s.local and s.local != s.remote else s.remote for s in cluster.storage)
    raise ClusterPathError(msg("cluster {cluster} cannot read {path}: it is on this machine only. Put it on the "
                               "shared storage ({where}) and give that path", cluster=cluster.name, path=path,
                               where=where))


def to_local(cluster: Cluster, path: str) -> str | None:
    """Where a cluster path is mounted on this machine, or None when it is not."""
    for s in cluster.storage:
        rest = _under(path, s.remote)
        if rest is not None and s.local:
            base = _pure(s.local)
            return str(base.joinpath(*rest.split("/")) if rest else base)
    return None


def remote_spec(cluster: Cluster, spec: JobSpec) -> JobSpec:
    """The spec with every path (model, out, the kind's path params) in the cluster's view. Dataset names
    and URIs stay; a path the cluster cannot read raises ClusterPathError naming it."""
    import copy

    out = copy.deepcopy(spec)
    if out.model and out.model != "-":
        out.model = to_remote(cluster, out.model)
    if out.out:
        out.out = to_remote(cluster, out.out)
    kind = KINDS.get(spec.kind)
    for name in kind.path_params if kind else ():
        value = out.params.get(name)
        if isinstance(value, list):
            out.params[name] = [_param(cluster, v) for v in value]
        elif isinstance(value, str):
            out.params[name] = _param(cluster, value)
    return out


def _param(cluster: Cluster, value):
    if not isinstance(value, str) or not value or is_dataset_name(value):
        return value
    return to_remote(cluster, value)
