"""Clusters the user runs jobs on: a name, Ray's dashboard address, an optional auth header, how the
cluster sees this machine's files, and the Python that runs jobs there. Saved in `clusters.json`."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import urlsplit

from services.messages import msg
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
            out.append(msg("cluster name {name!r}: use letters, digits, '-', '_' or '.' (up to 40), e.g. lab-gpu",
                           name=self.name))
        out += address_problems(self.address)
        for k, v in self.headers.items():
            if not HEADER_RE.match(k):
                out.append(msg("header name {name!r}: use letters, digits and '-', e.g. Authorization", name=k))
            elif any(c in v for c in "\r\n\0"):
                out.append(msg("header {name}: its value has a line break; give it on one line", name=k))
        for s in self.storage:
            if not _absolute(s.remote):
                out.append(msg("storage {remote!r}: give the folder's absolute path as the cluster's nodes see it",
                               remote=s.remote))
            if s.local and not _absolute(s.local):
                out.append(msg("storage {remote!r}: where it is mounted here ({local!r}) must be an absolute path",
                               remote=s.remote, local=s.local))
            if "=" in s.remote or "=" in s.local:
                out.append(msg("storage {remote}={local}: write REMOTE=LOCAL with one '='", remote=s.remote, local=s.local))
        if not self.python.strip():
            out.append(msg("python: name the interpreter on the cluster, e.g. python or /opt/venv/bin/python"))
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Cluster:
        """A cluster from clusters.json; wrong types raise ValueError naming the field."""
        name = d.get("name")

        def typed(key: str, kind: type, default):
            value = d.get(key, default)
            if value is None:
                return default
            if not isinstance(value, kind):
                raise ValueError(msg("cluster {name!r}: {key} must be a JSON {kind}, not {actual}", name=name, key=key,
                                     kind=kind.__name__, actual=type(value).__name__))
            return value

        def text_map(key: str) -> dict[str, str]:
            m = typed(key, dict, {})
            bad = [k for k, v in m.items() if not isinstance(v, str)]
            if bad:
                raise ValueError(msg("cluster {name!r}: the values of {key} must be strings ({keys})", name=name, key=key,
                                     keys=", ".join(bad)))
            return dict(m)

        storage = []
        for s in typed("storage", list, []):
            if not isinstance(s, dict) or not isinstance(s.get("remote"), str):
                raise ValueError(msg("cluster {name!r}: each storage entry is an object with remote and local", name=name))
            storage.append(Storage(s["remote"], str(s.get("local") or "")))
        pip = typed("pip", list, [])
        if not all(isinstance(x, str) for x in pip):
            raise ValueError(msg("cluster {name!r}: pip is a list of requirement strings", name=name))
        return cls(name=str(typed("name", str, "")), address=str(typed("address", str, "")).rstrip("/"),
                   headers=text_map("headers"), storage=storage, python=str(typed("python", str, "python")),
                   pip=list(pip), env=text_map("env"))


def _absolute(path: str) -> bool:
    """Absolute as the cluster's nodes (POSIX) or this machine (Windows: drive or UNC) name it."""
    return PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute()


def address_problems(address: str) -> list[str]:
    """What is wrong with a dashboard address (credentials go in a header, never in the URL: it is logged)."""
    example = msg("e.g. {url}", url="http://10.0.0.5:8265")
    if address != address.strip():
        return [msg("address {address!r}: remove the spaces around it", address=address)]
    parts = urlsplit(address or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [msg("address {address!r}: give the Ray dashboard's URL, {example}", address=address, example=example)]
    try:
        _ = parts.port
    except ValueError:
        return [msg("address {address!r}: the port must be a number from 1 to 65535, {example}", address=address,
                    example=example)]
    if parts.username or parts.password:
        return [msg("address {host}: do not put a user or password in the URL (it would show in logs); give them as "
                    "a header, e.g. --header 'Authorization: Basic ...'", host=parts.hostname)]
    if parts.path.strip("/") or parts.query or parts.fragment:
        return [msg("address {address!r}: give only the dashboard's scheme, host and port, {example}", address=address,
                    example=example)]
    return []


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
            raise ClusterError(msg("no cluster is set up: add one with quantdesk cluster add NAME --address URL "
                                   "(or in Settings > Clusters)"))
        if not name:
            if len(self.clusters) == 1:
                return self.clusters[0]
            raise ClusterError(msg("name the cluster (--cluster): {names}", names=", ".join(self.names())))
        for c in self.clusters:
            if c.name == name:
                return c
        raise ClusterError(msg("no cluster named {name!r}; clusters: {names}", name=name, names=", ".join(self.names())))

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
        if not isinstance(raw, dict) or not isinstance(raw.get("clusters", []), list):
            raise ValueError(msg("not a JSON object with a list of clusters"))
        items = [Cluster.from_dict(d) if isinstance(d, dict) else _not_an_object(d) for d in raw.get("clusters", [])]
        problems = [f"{c.name or '?'}: {p}" for c in items for p in c.problems()]
        names = [c.name for c in items]
        problems += [msg("the name {name!r} is used twice", name=n) for n in sorted({n for n in names if names.count(n) > 1})]
        if problems:
            raise ValueError("; ".join(problems))
    except (OSError, ValueError) as exc:
        raise ClusterError(msg("{path} cannot be read ({reason}): fix or delete it, then add the clusters again",
                               path=path, reason=exc)) from exc
    default = str(raw.get("default") or "")
    return Clusters(items, default if default in {c.name for c in items} else "")


def _not_an_object(d) -> Cluster:
    raise ValueError(msg("each cluster is a JSON object, not {kind}", kind=type(d).__name__))


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
