"""Clusters the user runs jobs on: a name, Ray's dashboard address, an optional auth header, how the
cluster sees this machine's files, and the Python that runs jobs there. Saved in `clusters.json`."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from services.paths import user_dirs

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
HEADER_RE = re.compile(r"^[A-Za-z0-9\-]+$")


class ClusterError(ValueError):
    """A cluster setting is wrong, or the named cluster does not exist; the message says what to change."""


@dataclass
class Storage:
    """`local` (a folder on this machine, e.g. Z:\\ or /mnt/nfs) is `remote` on the cluster's nodes."""
    remote: str
    local: str = ""  # empty: the cluster's storage is not mounted here (no local copy, Fetch goes through Ray)


@dataclass
class Cluster:
    name: str
    address: str  # the Ray dashboard, e.g. http://10.0.0.5:8265
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Authorization": "Bearer ..."}
    storage: list[Storage] = field(default_factory=list)
    python: str = "python"  # the interpreter with torch and the ML packages on the cluster's nodes
    pip: list[str] = field(default_factory=list)  # packages Ray installs for the job (runtime_env pip)
    env: dict[str, str] = field(default_factory=dict)  # extra environment of the job on the cluster

    def problems(self) -> list[str]:
        out = []
        if not NAME_RE.match(self.name or ""):
            out.append(f"cluster name {self.name!r}: use letters, digits, '-', '_' or '.' (up to 40), e.g. lab-gpu")
        parts = urlsplit(self.address or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            out.append(f"address {self.address!r}: give the Ray dashboard's URL, e.g. http://10.0.0.5:8265")
        for k in self.headers:
            if not HEADER_RE.match(k):
                out.append(f"header name {k!r}: use letters, digits and '-', e.g. Authorization")
        for s in self.storage:
            if not (s.remote.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", s.remote)):
                out.append(f"storage {s.remote!r}: give the folder's absolute path as the cluster's nodes see it")
        if not self.python.strip():
            out.append("python: name the interpreter on the cluster, e.g. python or /opt/venv/bin/python")
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Cluster:
        storage = [Storage(**{k: str(v) for k, v in s.items() if k in ("remote", "local")})
                   for s in d.get("storage") or [] if isinstance(s, dict) and s.get("remote")]
        return cls(name=str(d.get("name", "")), address=str(d.get("address", "")).rstrip("/"),
                   headers={str(k): str(v) for k, v in (d.get("headers") or {}).items()}, storage=storage,
                   python=str(d.get("python") or "python"), pip=[str(x) for x in d.get("pip") or []],
                   env={str(k): str(v) for k, v in (d.get("env") or {}).items()})


def clusters_path() -> Path:
    return user_dirs().config / "clusters.json"


@dataclass
class Clusters:
    clusters: list[Cluster] = field(default_factory=list)
    default: str = ""

    def get(self, name: str | None = None) -> Cluster:
        """The named cluster, or the default one when `name` is empty."""
        name = name or self.default
        if not self.clusters:
            raise ClusterError("no cluster is set up: add one with quantdesk cluster add NAME --address URL "
                               "(or in Settings > Clusters)")
        if not name:
            if len(self.clusters) == 1:
                return self.clusters[0]
            raise ClusterError(f"name the cluster (--cluster): {', '.join(c.name for c in self.clusters)}")
        for c in self.clusters:
            if c.name == name:
                return c
        raise ClusterError(f"no cluster named {name!r}; clusters: {', '.join(c.name for c in self.clusters)}")

    def names(self) -> list[str]:
        return [c.name for c in self.clusters]

    def put(self, cluster: Cluster, make_default: bool = False) -> None:
        if problems := cluster.problems():
            raise ClusterError("; ".join(problems))
        self.clusters = [c for c in self.clusters if c.name != cluster.name] + [cluster]
        if make_default or not self.default:
            self.default = cluster.name

    def remove(self, name: str) -> None:
        self.get(name)
        self.clusters = [c for c in self.clusters if c.name != name]
        if self.default == name:
            self.default = self.clusters[0].name if self.clusters else ""


def load_clusters(path: Path | None = None) -> Clusters:
    """The saved clusters; a missing file is none, a broken one raises ClusterError naming the file."""
    path = path or clusters_path()
    if not path.exists():
        return Clusters()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        items = [Cluster.from_dict(d) for d in raw.get("clusters") or [] if isinstance(d, dict)]
    except (OSError, ValueError) as exc:
        raise ClusterError(f"{path} cannot be read ({exc}): fix or delete it, then add the clusters again") from exc
    names = {c.name for c in items}
    default = str(raw.get("default") or "")
    return Clusters(items, default if default in names else "")


def save_clusters(clusters: Clusters, path: Path | None = None) -> Path:
    """Write atomically; the file holds auth headers, so on POSIX only the user may read it."""
    import os

    path = path or clusters_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"schema_version": 1, "default": clusters.default, "clusters": [c.to_dict() for c in clusters.clusters]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    if os.name != "nt":
        tmp.chmod(0o600)
    tmp.replace(path)
    return path


def redacted(doc: dict) -> dict:
    """clusters.json for a support bundle: header values (tokens) and env values removed."""
    out = json.loads(json.dumps(doc))
    for c in out.get("clusters") or []:
        if isinstance(c, dict):
            for key in ("headers", "env"):
                if isinstance(c.get(key), dict):
                    c[key] = {k: "[REDACTED]" for k in c[key]}
    return out
