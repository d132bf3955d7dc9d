"""Pre-flight of a job that runs on a cluster: its paths in the cluster's view (or a clear refusal), its
GPU request from what the cluster has, and the local checks planned against the cluster's largest node."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.clusters.config import Cluster
from services.clusters.paths import ClusterPathError, remote_spec, to_local
from services.clusters.resources import GIB, ClusterResources
from services.jobs.spec import JobSpec
from services.messages import msg

# (model, out, params, memory_free, disk_free) -> (errors, warnings, notes), run on the local view of the paths
LocalCheck = Callable[..., tuple[list[str], list[str], list[str]]]


@dataclass
class RemotePlan:
    spec: JobSpec  # in the cluster's view, executor set
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    resources: ClusterResources | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def plan_remote(cluster: Cluster, spec: JobSpec, resources: ClusterResources | None,
                local_check: LocalCheck | None = None) -> RemotePlan:
    """`spec` (local paths as the user gave them) made ready for `cluster`."""
    try:
        rspec = remote_spec(cluster, spec)
    except ClusterPathError as exc:
        return RemotePlan(spec, errors=[str(exc)], resources=resources)
    rspec.executor = f"ray:{cluster.name}"
    plan = RemotePlan(rspec, resources=resources)
    device = str(spec.params.get("device") or "auto")
    if resources is None:
        plan.notes.append(msg("cluster {name}'s resources are unknown: the job is not planned against them",
                              name=cluster.name))
    else:
        plan.notes.append(msg("cluster {name}: {summary}", name=cluster.name, summary=resources.summary()))
        if not resources.nodes:
            plan.errors.append(msg("cluster {name} has no live node: start its workers, then try again", name=cluster.name))
        elif device == "cuda" and resources.gpus < 1:
            plan.errors.append(msg("cluster {name} has no GPU: use --device cpu (slow) or a cluster with GPUs",
                                   name=cluster.name))
        elif device in ("cuda", "auto") and resources.gpus >= 1:
            rspec.params["num_gpus"] = 1
        elif device == "auto":
            plan.warnings.append(msg("cluster {name} has no GPU: the job runs on a CPU node (slow)", name=cluster.name))
    if local_check is None or plan.errors:
        return plan
    model = to_local(cluster, rspec.model) if rspec.model and rspec.model != "-" else None
    out = to_local(cluster, rspec.out) if rspec.out else None
    if model is None or out is None:
        plan.notes.append(msg("the model or the output folder is not mounted on this machine: the cluster checks "
                              "them when the job starts"))
        return plan
    gpu = bool(rspec.params.get("num_gpus"))
    memory = resources.largest_memory(with_gpu=gpu) if resources and resources.nodes else None
    errors, warnings, notes = local_check(model, out, spec.params, memory_free=(lambda: memory) if memory else None)
    plan.errors += errors
    plan.warnings += warnings
    plan.notes += notes
    if memory:
        plan.notes.append(msg("memory planned against the cluster's largest GPU node: {gib:.1f} GiB", gib=memory / GIB)
                          if gpu else msg("memory planned against the cluster's largest node: {gib:.1f} GiB",
                                          gib=memory / GIB))
    return plan


def check_on_cluster(name: str, spec: JobSpec, local_check: LocalCheck | None = None) -> RemotePlan:
    """plan_remote for the saved cluster `name`, asking it for its resources (a worker thread's call: it
    waits for the cluster). A cluster that cannot be reached is an error of the plan."""
    from services.clusters.config import ClusterError, load_clusters
    from services.clusters.executor import ClusterUnavailable, RayExecutor

    try:
        cluster = load_clusters().get(name)
    except ClusterError as exc:
        return RemotePlan(spec, errors=[str(exc)])
    try:
        resources = ClusterResources.from_answer(RayExecutor(cluster, timeout_s=20).call("resources"))
    except ClusterUnavailable as exc:
        return RemotePlan(spec, errors=[f"{exc}; check it in Settings > Clusters"])
    return plan_remote(cluster, spec, resources, local_check)
