"""`quantdesk targets list`: the export targets, their settings and whether this machine can build them."""
from __future__ import annotations

import argparse
import json

from services.targets.registry import TARGETS


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="targets_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="the targets with their availability here")
    ls.add_argument("--json", action="store_true")


def availability(target) -> dict:
    checks = target.prerequisites()
    missing = [c for c in checks if c.status == "fail"]
    return {"name": target.name, "title": target.title, "summary": target.summary,
            "ready": not missing, "scripts_only": bool(missing) and target.scripts_without_prerequisites, "checks": [c.to_dict() for c in checks],
            "settings": [{"flag": s.flag, "type": s.type.__name__, "default": s.default, "help": s.help,
                          "choices": list(s.choices)} for s in target.schema]}


def run(args: argparse.Namespace) -> int:
    rows = [availability(t) for t in TARGETS.values()]
    if args.json:
        print(json.dumps({"targets": rows}, ensure_ascii=False))
        return 0
    for r in rows:
        state = "ready" if r["ready"] else "scripts only" if r["scripts_only"] else "prerequisites missing"
        print(f"{r['name']:14}{state:24}{r['summary']}")
        for c in r["checks"]:
            if c["status"] in ("fail", "warn"):
                fix = c.get("fix") or {}
                print(f"{'':14}{c['status']}: {c['summary']}" + (f"\n{'':16}fix: {fix.get('label')}"
                                                                + (f": {fix['command']}" if fix.get("command") else "")
                                                                if fix else ""))
    return 0
