"""`quantdesk engines list|install NAME|remove NAME`: the serving engines, each in its own environment."""
from __future__ import annotations

import argparse
import json
import sys

from app.cli import UsageError
from app.jobcli import follow_job, report_job
from services.jobs.spec import JobSpec
from services.serving.engines import ENGINES, state, states


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="engines_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="the engines and whether each is installed")
    ls.add_argument("--json", action="store_true")
    ins = sub.add_parser("install", help="create the engine's environment and install it (a job: Ctrl-C cancels)")
    ins.add_argument("name", choices=list(ENGINES))
    ins.add_argument("--reinstall", action="store_true", help="replace an installed engine")
    ins.add_argument("--json", action="store_true")
    rm = sub.add_parser("remove", help="delete the engine's environment")
    rm.add_argument("name", choices=list(ENGINES))
    rm.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    if args.engines_command == "list":
        rows = [s.to_dict() for s in states()]
        if args.json:
            print(json.dumps({"engines": rows}, ensure_ascii=False))
        else:
            for r in rows:
                print(f"{r['name']:10}{r['status']:13}{r['summary']}\n{'':23}{r['message']}")
        return 0
    if args.engines_command == "remove":
        from services.serving.install import remove

        try:
            folder = remove(args.name)
        except (FileNotFoundError, PermissionError) as exc:
            raise UsageError(str(exc)) from None
        print(json.dumps({"removed": str(folder)}) if args.json else f"removed {folder}")
        return 0
    s = state(args.name)
    if s.installed and not args.reinstall:
        raise UsageError(f"{s.engine.title} is already installed ({s.message}): use --reinstall to replace it")
    print(f"installing {s.engine.title} into {s.folder} (about {s.engine.minutes} min on 2 cores)", file=sys.stderr)
    final = follow_job(JobSpec(kind="engine", model="-", params={"engine": args.name, "reinstall": args.reinstall}))
    code = report_job(final, args.json)
    if code == 0 and not args.json:
        print(f"\n{s.engine.title} {(final.result or {}).get('version')} installed in {s.folder}", file=sys.stderr)
    return code
