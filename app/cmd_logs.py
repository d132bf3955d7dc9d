"""`quantdesk logs export`: the support bundle (a zip, redacted) for a problem report."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli import UsageError, absolute


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="logs_command", metavar="ACTION", required=True)
    ex = sub.add_parser("export", help="write a support bundle (zip) with secrets redacted")
    ex.add_argument("--out", required=True, help="the .zip to write")
    ex.add_argument("--job", action="append", default=[], metavar="ID", help="a job to include (repeatable)")
    ex.add_argument("--jobs", type=int, default=10, metavar="N", help="without --job: the N newest jobs (default 10)")
    ex.add_argument("--no-doctor", action="store_true", help="leave out the environment report (faster)")
    ex.add_argument("--max-mb", type=float, default=50, help="size cap; the oldest job logs are dropped first")
    ex.add_argument("--overwrite", action="store_true", help="replace an existing zip")
    ex.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from services.support.bundle import plan_bundle, write_bundle

    out = Path(absolute(args.out))
    if out.suffix.lower() != ".zip":
        raise UsageError(f"--out must be a .zip file, not {out.name}")
    if out.is_dir():
        raise UsageError(f"{out} is a folder: give a file name ending in .zip")
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out} exists: pick another name or add --overwrite")
    if not out.parent.is_dir():
        raise UsageError(f"the folder {out.parent} does not exist")
    import math

    if args.jobs < 0 or not (args.max_mb > 0 and math.isfinite(args.max_mb)):
        raise UsageError("--jobs must be 0 or more and --max-mb a number of megabytes more than 0")
    try:
        plan, redactor = plan_bundle(jobs=args.job or None, last_jobs=args.jobs, doctor=not args.no_doctor,
                                     cap=int(args.max_mb * 1024 * 1024))
    except ValueError as exc:  # a --job that is not there
        raise UsageError(f"{exc}: see quantdesk jobs list") from exc
    try:
        write_bundle(out, plan, redactor)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc}") from exc
    summary = {"out": str(out), "files": len(plan.entries) + 1, "bytes": out.stat().st_size,
               "redacted": dict(redactor.counts), "dropped_for_size": plan.dropped, "notes": plan.notes}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        for n in plan.notes:
            print(f"note: {n}", file=sys.stderr)
        red = ", ".join(f"{v} {k}" for k, v in redactor.counts.items()) or "nothing"
        print(f"wrote {out} ({summary['files']} files, {summary['bytes'] / 1e6:.1f} MB); redacted: {red}"
              + (f"; dropped {len(plan.dropped)} old logs for size" if plan.dropped else ""), file=sys.stderr)
    return 0
