"""The `fetch` job: copy a remote job's output from the cluster's storage to this machine, with progress.

When the storage is mounted here (Settings > Clusters: a storage folder with a local side) the files
are copied from the mount; otherwise they are read on a cluster node through Ray's client
(`ray://host:10001`) in chunks. Params: cluster, remote (the output as the cluster sees it), client
(optional ray:// address). Built at `<out>.partial`, moved into place when every byte arrived.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from services.clusters.config import Cluster, load_clusters
from services.clusters.paths import to_local
from services.jobs.events import Emitter, Eta, JobFailure
from services.jobs.outputs import PARTIAL_MARKER, check_output, commit, make_partial
from services.jobs.spec import JobSpec
from services.messages import msg

CHUNK = 8 * 1024**2
MB = 1024**2


def client_address(cluster: Cluster, given: str = "") -> str:
    """Ray's client address: given, or the dashboard's host on Ray's default client port."""
    if given:
        return given
    from urllib.parse import urlsplit

    return f"ray://{urlsplit(cluster.address).hostname}:10001"


class MountSource:
    def __init__(self, root: Path):
        self.root = root

    def files(self) -> list[tuple[str, int]]:
        if self.root.is_file():
            return [("", self.root.stat().st_size)]
        return sorted((f.relative_to(self.root).as_posix(), f.stat().st_size) for f in self.root.rglob("*")
                      if f.is_file() and f.name != PARTIAL_MARKER)

    def chunks(self, rel: str) -> Iterator[bytes]:
        with open(self.root / rel if rel else self.root, "rb") as f:
            while block := f.read(CHUNK):
                yield block

    def close(self) -> None:
        pass


class RaySource:
    """Reads files on a cluster node through Ray's client; chunks come back as task results."""

    def __init__(self, address: str, root: str, runtime_env: dict | None = None):
        import ray

        self.ray, self.root = ray, root.rstrip("/")
        last: Exception | None = None
        for _ in range(3):  # the client server of a fresh head sometimes fails its first start
            try:
                ray.init(address, logging_level=40, log_to_driver=False, runtime_env=runtime_env or None)
                break
            except Exception as exc:
                last = exc
        else:
            raise JobFailure(msg("cannot reach the cluster's Ray client at {address}: {error}", address=address, error=last),
                             hint=msg("check that port 10001 of the head is open to this machine, or mount the "
                                      "cluster's storage here and add its local folder in Settings > Clusters"))

        @ray.remote(num_cpus=0)
        def listing(root: str):
            import os

            if os.path.isfile(root):
                return [("", os.path.getsize(root))]
            if not os.path.isdir(root):
                return None
            out = []
            for d, _, names in os.walk(root):
                for n in names:
                    p = os.path.join(d, n)
                    if n != ".quantdesk-partial" and os.path.isfile(p):
                        out.append((os.path.relpath(p, root).replace(os.sep, "/"), os.path.getsize(p)))
            return sorted(out)

        @ray.remote(num_cpus=0)
        def read(path: str, offset: int, size: int) -> bytes:
            with open(path, "rb") as f:
                f.seek(offset)
                return f.read(size)

        self._listing, self._read = listing, read

    def files(self) -> list[tuple[str, int]] | None:
        return self.ray.get(self._listing.remote(self.root))

    def chunks(self, rel: str) -> Iterator[bytes]:
        path, offset = f"{self.root}/{rel}" if rel else self.root, 0
        while block := self.ray.get(self._read.remote(path, offset, CHUNK)):
            offset += len(block)
            yield block

    def close(self) -> None:
        self.ray.shutdown()


def copy_all(source, files: list[tuple[str, int]], dest: Path, events: Emitter,
             single_file: bool = False) -> int:
    total = sum(size for _, size in files)
    done, eta = 0, Eta(max(1, total))
    step, unit = (MB, "MB") if total >= 16 * MB else (1024, "KB")
    events.progress(0, max(1, total // step), unit, msg("{done} of {count} files", done=0, count=len(files)))
    for i, (rel, size) in enumerate(files, 1):
        target = dest if single_file else dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        got = 0
        with open(target, "wb") as f:
            for block in source.chunks(rel):
                f.write(block)
                got += len(block)
                done += len(block)
                events.progress(done // step, max(1, total // step), unit,
                                msg("{done} of {count} files: {name}", done=i, count=len(files),
                                    name=rel or dest.name), eta.remaining(done))
        if got != size:
            raise JobFailure(msg("{name}: {got} of {size} bytes arrived (the file changed on the cluster?)",
                                 name=rel or dest.name, got=got, size=size),
                             hint=msg("run Fetch again once the job that writes it has finished"))
    return total


def run(spec: JobSpec, events: Emitter, load: Callable[[], object] = load_clusters) -> dict:
    p = spec.params
    cluster = load().get(p.get("cluster"))  # type: ignore[attr-defined]
    remote = str(p.get("remote") or spec.model)
    out = Path(str(spec.out))
    try:
        check_destination(str(out), cluster.name, remote, bool(p.get("overwrite")), bool(p.get("force")), load)
    except ValueError as exc:
        raise JobFailure(str(exc), bad_input=True) from exc
    events.stage("list", msg("files of {remote} on cluster {cluster}", remote=remote, cluster=cluster.name))
    mounted = to_local(cluster, remote)
    source: MountSource | RaySource
    if mounted and Path(mounted).exists():
        source, how = MountSource(Path(mounted)), msg("from the mount {path}", path=mounted)
    else:
        source, how = RaySource(client_address(cluster, str(p.get("client") or "")), remote), msg("through Ray")
    try:
        files = source.files()
        if not files:
            raise JobFailure(msg("{remote} does not exist on cluster {cluster} (or is empty)", remote=remote,
                                 cluster=cluster.name),
                             hint=msg("was the job's output deleted there? Fetch copies finished outputs only"),
                             bad_input=True)
        single = files == [("", files[0][1])]
        events.stage("copy", msg("{count} files {how}", count=len(files), how=how))
        partial = make_partial(out)
        dest = partial / out.name if single else partial
        total = copy_all(source, files, dest, events, single_file=single)
    finally:
        source.close()
    if single:
        moved = partial.with_name(partial.name + ".file")
        shutil.move(str(dest), moved)
        shutil.rmtree(partial)
        commit(moved, out)
    else:
        commit(partial, out)
    events.artifact(str(out), "file" if single else "folder")
    return {"out": str(out), "remote": remote, "cluster": cluster.name, "files": len(files), "bytes": total,
            "via": "mount" if isinstance(source, MountSource) else "ray"}


STATE = {"running": msg("is still running"), "queued": msg("is still queued"), "failed": msg("failed"),
         "cancelled": msg("was cancelled"), "interrupted": msg("was interrupted")}


def fetch_spec(rec, out: str, overwrite: bool = False, force: bool = False) -> JobSpec:
    """The fetch job for a finished cluster job's output (ValueError says why there is nothing to fetch)."""
    if not rec.spec.remote:
        raise ValueError(msg("{job} ran on this machine: its output is already here ({out})", job=rec.id, out=rec.out))
    if not rec.out:
        raise ValueError(msg("{job} has no output to fetch", job=rec.id))
    if rec.status != "succeeded":
        raise ValueError(msg("{job} {state}: only a finished job's output can be fetched", job=rec.id,
                             state=STATE.get(rec.status, rec.status)))
    cluster = rec.spec.executor.partition(":")[2]
    check_destination(out, cluster, rec.out, overwrite, force)
    return JobSpec(kind="fetch", model=rec.out, out=out, params={"cluster": cluster, "remote": rec.out,
                                                                  "overwrite": overwrite, "force": force, "job": rec.id})


def check_destination(out: str, cluster_name: str, remote: str, overwrite: bool, force: bool,
                      load: Callable[[], object] = load_clusters) -> None:
    """ValueError when `out` cannot take the copy: it exists (without --overwrite), is not a QuantDesk output
    (without --force), or is, holds or lies inside the output itself (as the cluster names it, or its mount)."""
    inputs = [remote]
    try:
        mounted = to_local(load().get(cluster_name), remote)  # type: ignore[attr-defined]
    except ValueError:
        mounted = None
    inputs += [mounted] if mounted else []
    check = check_output(out, inputs, overwrite=overwrite, force=force)
    if check.errors:
        raise ValueError("; ".join(check.errors))
