"""`quantdesk doctor`: the environment report in the terminal or as JSON (no Qt)."""
from __future__ import annotations

import argparse
import json
import sys

from app.cli import UsageError
from services.envcheck.actions import run_fix
from services.envcheck.context import CheckContext
from services.envcheck.runner import run_checks
from services.envcheck.vcvars import load_msvc_env
from services.paths import user_dirs
from services.settings import default_output_dir, load_settings

MARK = {"ok": "OK  ", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--fix", metavar="CHECK_ID", help="run the fix QuantDesk offers for this check (e.g. msvc, ninja)")
    p.add_argument("--timeout", type=float, default=90.0, help="seconds a single check may take (default 90)")


def context() -> CheckContext:
    return CheckContext(output_dir=str(default_output_dir(load_settings())), msvc_env=load_msvc_env(user_dirs().config))


def run(args: argparse.Namespace) -> int:
    progress = (lambda d, t, m: print(f"[{d}/{t}] {m}", file=sys.stderr)) if not args.json else (lambda *a: None)
    report = run_checks(ctx=context(), progress=progress, timeout=args.timeout,
                        only=[args.fix] if args.fix else None)
    if args.fix:
        if not report.checks:
            raise UsageError(f"no check named {args.fix!r}; run `quantdesk doctor` to see the ids")
        check = report.checks[0]
        if check.status in ("ok", "skip") or not check.fix:
            print(f"{check.id}: nothing to fix ({check.summary})")
            return 0
        if check.fix.kind == "job":  # a long install: run as a job, followed here
            from app.jobcli import follow_job, report_job
            from services.envcheck.actions import job_for_fix

            return report_job(follow_job(job_for_fix(check.fix)), False)
        if check.fix.kind not in ("action", "env"):
            raise UsageError(f"{check.id}: this fix is done by hand: {check.fix.label}"
                             + (f"\n  {check.fix.command}" if check.fix.command else ""))
        try:
            print(run_fix(check.fix, user_dirs().config))
        except RuntimeError as exc:
            print(f"quantdesk: fix failed: {exc}", file=sys.stderr)
            return 1
        return 0
    failed = 1 if report.counts()["fail"] else 0  # a failed check is exit status 1, like a failed job
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return failed
    for c in report.checks:
        print(f"{MARK[c.status]}  {c.title:<36} {c.summary}")
        if c.status in ("warn", "fail") and c.fix:
            print(f"      fix: {c.fix.label}")
            if c.fix.command:
                print(f"           {c.fix.command}")
            for k, v in c.fix.env.items():
                print(f"           set {k}={v}")
            if c.fix.kind in ("action", "env", "job"):
                print(f"           or run: quantdesk doctor --fix {c.id}")
    counts = report.counts()
    print(f"\n{counts['ok']} ok, {counts['warn']} warnings, {counts['fail']} failed, {counts['skip']} skipped "
          f"in {report.platform['seconds']} s")
    return failed
