"""`quantdesk cluster add|list|check|remove|default`: the Ray clusters jobs can run on (no Qt)."""
from __future__ import annotations

import argparse
import json
import sys

from app.cli import UsageError
from services.clusters.config import Cluster, ClusterError, Storage, load_clusters, save_clusters


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="cluster_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add (or with --replace change) a cluster")
    add.add_argument("name")
    add.add_argument("--address", required=True, help="the Ray dashboard, e.g. http://10.0.0.5:8265")
    add.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'",
                     help="an HTTP header every request carries, e.g. 'Authorization: Bearer TOKEN'")
    add.add_argument("--storage", action="append", default=[], metavar="REMOTE[=LOCAL]",
                     help="a folder the cluster's nodes share (as they name it), and where it is mounted here if it is; "
                          "REMOTE alone when this machine names it the same (repeatable)")
    add.add_argument("--python", default="python", help="the interpreter with torch on the nodes (default: python)")
    add.add_argument("--pip", action="append", default=[], metavar="REQ",
                     help="a package Ray installs for each job (runtime_env pip; needs the cluster online)")
    add.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="environment of jobs there")
    add.add_argument("--default", action="store_true", help="make it the default cluster")
    add.add_argument("--replace", action="store_true", help="replace a cluster of that name")
    add.add_argument("--json", action="store_true")
    ls = sub.add_parser("list", help="the clusters")
    ls.add_argument("--json", action="store_true")
    check = sub.add_parser("check", help="reach the cluster, list its resources and run a probe job there")
    check.add_argument("name", nargs="?", help="default: the default cluster")
    check.add_argument("--no-probe", action="store_true", help="only the resources (no job is submitted)")
    check.add_argument("--json", action="store_true")
    for name, text in (("remove", "forget a cluster (its jobs' records stay)"), ("default", "make it the default")):
        a = sub.add_parser(name, help=text)
        a.add_argument("name")
        a.add_argument("--json", action="store_true")


def _cluster(args: argparse.Namespace) -> Cluster:
    headers = {}
    for h in args.header:
        name, sep, value = h.partition(":")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"--header {h!r}: write it as 'NAME: VALUE', e.g. 'Authorization: Bearer TOKEN'")
        headers[name.strip()] = value.strip()
    storage = []
    for s in args.storage:
        remote, sep, local = s.partition("=")
        storage.append(Storage(remote.strip(), (local if sep else remote).strip()))
    env = {}
    for e in args.env:
        k, sep, v = e.partition("=")
        if not sep or not k.strip():
            raise UsageError(f"--env {e!r}: write it as NAME=VALUE")
        env[k.strip()] = v
    return Cluster(args.name, args.address.strip().rstrip("/"), headers, storage, args.python, args.pip, env)


def _show(c: Cluster, default: str) -> dict:
    d = c.to_dict()
    d["headers"] = {k: "(set)" for k in c.headers}
    d["default"] = c.name == default
    return d


def _check(cluster: Cluster, probe: bool) -> tuple[dict, bool]:
    from services.clusters.executor import ClusterUnavailable, RayExecutor
    from services.clusters.resources import ClusterResources

    out: dict = {"name": cluster.name, "address": cluster.address}
    try:
        res = ClusterResources.from_answer(RayExecutor(cluster).call("resources"))
    except ClusterUnavailable as exc:
        out["error"] = str(exc)
        return out, False
    out["resources"] = res.to_dict()
    print(f"{cluster.name}: {res.summary()}", file=sys.stderr)
    if not probe:
        return out, bool(res.nodes)
    from app.jobcli import follow_job
    from services.jobs.spec import JobSpec

    rec = follow_job(JobSpec(kind="probe", model="-", params={"storage": [s.remote for s in cluster.storage]},
                             executor=f"ray:{cluster.name}"))
    out["probe"] = {"job": rec.id, "status": rec.status, "error": rec.error, **(rec.result or {})}
    if rec.status != "succeeded":
        return out, False
    r = rec.result or {}
    print(f"python {r.get('python')} ({r.get('executable')}) on {r.get('node')}; CUDA: {r.get('cuda')} "
          f"{', '.join(r.get('gpus') or [])}", file=sys.stderr)
    for name, version in (r.get("packages") or {}).items():
        print(f"  {name}: {version or 'not installed'}", file=sys.stderr)
    for folder, state in (r.get("storage") or {}).items():
        print(f"  storage {folder}: {state}", file=sys.stderr)
    problems = []
    if r.get("missing"):
        problems.append(f"the cluster's Python lacks {', '.join(r['missing'])}: point --python at an interpreter "
                        "that has them, or add them with --pip")
    bad = [f"{f} ({state})" for f, state in (r.get("storage") or {}).items() if state != "ok"]
    if bad:
        problems.append(f"storage not usable on the node: {', '.join(bad)}")
    out["problems"] = problems
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    return out, not problems


def run(args: argparse.Namespace) -> int:
    try:
        clusters = load_clusters()
        cmd = args.cluster_command
        if cmd == "add":
            try:
                clusters.get(args.name)
                exists = True
            except ClusterError:
                exists = False
            if exists and not args.replace:
                raise UsageError(f"a cluster named {args.name!r} exists: add --replace to change it")
            cluster = _cluster(args)
            clusters.put(cluster, make_default=args.default)
            path = save_clusters(clusters)
            print(json.dumps(_show(cluster, clusters.default)) if args.json else f"saved {cluster.name} in {path}")
            return 0
        if cmd == "list":
            rows = [_show(c, clusters.default) for c in clusters.clusters]
            if args.json:
                print(json.dumps(rows, ensure_ascii=False))
            for r in [] if args.json else rows:
                storage = ", ".join(f"{s['remote']}={s['local']}" if s["local"] else s["remote"] for s in r["storage"])
                print(f"{'*' if r['default'] else ' '} {r['name']:<16} {r['address']:<32} {storage or 'no storage'}")
            if not rows and not args.json:
                print("no clusters: quantdesk cluster add NAME --address http://HEAD:8265 --storage /shared")
            return 0
        if cmd == "check":
            out, ok = _check(clusters.get(args.name), probe=not args.no_probe)
            if args.json:
                print(json.dumps(out, ensure_ascii=False, default=str))
            if "error" in out:
                print(f"quantdesk: error: {out['error']}", file=sys.stderr)
            return 0 if ok else 1
        if cmd == "remove":
            clusters.remove(args.name)
        elif cmd == "default":
            clusters.get(args.name)
            clusters.default = args.name
        save_clusters(clusters)
        if args.json:
            print(json.dumps({"default": clusters.default, "clusters": clusters.names()}))
        return 0
    except ClusterError as exc:
        raise UsageError(str(exc)) from exc
