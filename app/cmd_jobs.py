"""`quantdesk jobs list|show|cancel|delete|selftest` over the job store (no Qt)."""
from __future__ import annotations

import argparse
import json
import sys
import time

from app import remotecli
from app.cli import UsageError, absolute
from services.jobs.local import make_manager, open_store
from services.jobs.spec import JobSpec


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="jobs, newest first")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--limit", type=int, default=50)
    for name, text in (("show", "one job with its events (--all: every progress event)"), ("cancel", "cancel a queued or running job"),
                       ("delete", "delete a finished job's record")):
        a = sub.add_parser(name, help=text)
        a.add_argument("id", help="job id (or a unique part of it)")
        a.add_argument("--json", action="store_true")
        if name == "show":
            a.add_argument("--all", action="store_true", help="list every progress event")
    fe = sub.add_parser("fetch", help="copy a cluster job's output to this machine")
    fe.add_argument("id", help="job id (or a unique part of it)")
    fe.add_argument("--out", required=True, help="folder (or file) here to copy it to")
    fe.add_argument("--overwrite", action="store_true", help="replace --out if it is an earlier QuantDesk output")
    fe.add_argument("--force", action="store_true", help="with --overwrite: replace --out even if it is not one")
    fe.add_argument("--json", action="store_true")
    fo = sub.add_parser("follow", help="follow a cluster job that no QuantDesk window follows (after a restart)")
    fo.add_argument("id", help="job id (or a unique part of it)")
    fo.add_argument("--json", action="store_true")
    st = sub.add_parser("selftest", help="run a tiny job through the runner to check the job system works")
    st.add_argument("--steps", type=int, default=5)
    st.add_argument("--step-s", type=float, default=0.05, help="seconds a step takes")
    st.add_argument("--out", help="also build an output folder (through .partial, like a real job)")
    st.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    st.add_argument("--json", action="store_true")
    remotecli.add_arguments(st)


def _condensed(events: list[dict], everything: bool):
    """(event, progress events skipped before it): a run of progress events shows its first and last."""
    skipped = 0
    for i, e in enumerate(events):
        is_progress = e["type"] == "progress"
        inner = 0 < i < len(events) - 1 and events[i - 1]["type"] == "progress" and events[i + 1]["type"] == "progress"
        if is_progress and inner and not everything:
            skipped += 1
            continue
        yield e, skipped
        skipped = 0


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "-"


def run(args: argparse.Namespace) -> int:
    store = open_store()
    if store.notice:
        print(f"notice: {store.notice}", file=sys.stderr)
    cmd = args.jobs_command
    if cmd == "list":
        if args.limit < 1:
            raise UsageError("--limit must be 1 or more")
        recs = store.list(args.limit)
        if args.json:
            print(json.dumps([r.to_dict() for r in recs], ensure_ascii=False))
            return 0
        for r in recs:
            prog = f"{r.done}/{r.total} {r.unit}" if r.total else ""
            kind = r.kind if r.known_kind else f"{r.kind}?"
            where = "" if not r.spec.remote else f"  [{r.spec.executor}]"
            print(f"{r.id}  {kind:<9} {r.status:<11} {_when(r.created)}  {prog:<12} {r.model}{where}")
        if not recs:
            print("no jobs yet")
        return 0
    if cmd == "selftest":
        from app.jobcli import run_job

        if not 0 <= args.steps <= 100_000 or not 0 <= args.step_s <= 60:
            raise UsageError("--steps must be 0 to 100000 and --step-s 0 to 60")
        remote = remotecli.is_remote(args)
        out = None
        if args.out:
            from services.jobs.outputs import check_output

            out = remotecli.path_arg(args.out, remote)
            if not remote and (errors := check_output(out, [], overwrite=args.overwrite, force=args.overwrite).errors):
                raise UsageError(errors[0])
        spec = JobSpec(kind="selftest", model="-", out=out, params={"steps": args.steps, "step_s": args.step_s})
        return run_job(remotecli.prepare(args, spec) if remote else spec, args.json)
    try:
        rec = store.get(args.id)
    except KeyError as exc:
        raise UsageError(f"{exc.args[0]}; see `quantdesk jobs list`") from exc
    if cmd == "show":
        events = store.events(rec.id)
        if args.json:
            print(json.dumps({**rec.to_dict(), "events": events}, ensure_ascii=False))
            return 0
        print(f"{rec.id}  {rec.kind}  {rec.status}\nmodel: {rec.model}\nout:   {rec.out}\nlog:   {rec.log_path}")
        if rec.error:
            print(f"error: {rec.error}")
        for e, skipped in _condensed(events, args.all):
            if skipped:
                print(f"  ... {skipped} more progress events (--all lists them)")
            stamp = time.strftime("%H:%M:%S", time.localtime(e["t"]))
            detail = {k: v for k, v in e.items() if k not in ("seq", "t", "type", "traceback", "v")}
            print(f"  {stamp} {e['type']:<8} {json.dumps(detail, ensure_ascii=False)}")
        return 0
    if cmd == "fetch":
        from app.jobcli import run_job
        from services.clusters.fetch import fetch_spec

        try:
            if args.force and not args.overwrite:
                raise ValueError("--force only goes with --overwrite")
            spec = fetch_spec(rec, absolute(args.out), args.overwrite, args.force)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        return run_job(spec, args.json)
    if cmd == "follow":
        from app.jobcli import follow_existing, report_job

        if not rec.spec.remote or rec.final:
            raise UsageError(f"{rec.id} is {'not a cluster job' if not rec.spec.remote else rec.status}: "
                             "follow takes a running cluster job")
        try:
            return report_job(follow_existing(rec.id), args.json)
        except RuntimeError as exc:
            raise UsageError(str(exc)) from exc
    if cmd == "cancel":
        if rec.final:
            print(f"quantdesk: {rec.id} was not cancelled: it is not running ({rec.status})", file=sys.stderr)
            return 1
        manager = make_manager(store)
        try:
            cancelled = manager.cancel(rec.id)
        except RuntimeError as exc:
            print(f"quantdesk: {exc}", file=sys.stderr)
            return 1
        if cancelled:
            print(f"{rec.id}: cancelled")
            return 0
        final = store.get(rec.id)
        reason = ("it finished before the cancel arrived" if final.status == "succeeded"
                  else f"it is not running ({final.status})" + (f": {final.error}" if final.error else ""))
        print(f"quantdesk: {rec.id} was not cancelled: {reason}", file=sys.stderr)
        return 1
    if cmd == "delete":
        try:
            make_manager(store).delete(rec.id)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        print(f"{rec.id}: deleted")
        return 0
    raise UsageError(f"unknown action {cmd}")
