"""`quantdesk runtime status|install|repair`: the managed ML runtime (torch and the quantization stack)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli import UsageError, absolute
from app.jobcli import follow_job, report_job
from services.jobs.spec import JobSpec
from services.runtime import managed


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="runtime_command", metavar="ACTION", required=True)
    st = sub.add_parser("status", help="where the runtime is and which torch build it has")
    st.add_argument("--json", action="store_true")
    for name, text in (("install", "create the runtime (resumes an interrupted install)"),
                       ("repair", "reinstall the runtime's packages over a broken install")):
        a = sub.add_parser(name, help=text)
        a.add_argument("--cuda", default="auto", choices=("auto", *managed.BUILDS),
                       help="torch build (auto: from the NVIDIA driver and GPUs)")
        a.add_argument("--wheels", default=None, help="a folder of downloaded wheels: install offline from it")
        a.add_argument("--json", action="store_true")


def detected_build(asked: str) -> managed.TorchBuild:
    from services.envcheck.probe import Probe

    info = Probe().nvidia()
    return managed.choose_torch(info.driver, [g.sm for g in info.gpus if g.sm], asked)


def run(args: argparse.Namespace) -> int:
    if args.runtime_command == "status":
        here, managed_state = managed.state(), managed.state(frozen=True)
        out = {"jobs_run_on": here.to_dict(), "managed": managed_state.to_dict(),
               "would_install": detected_build("auto").__dict__}
        if args.json:
            print(json.dumps(out, ensure_ascii=False))
        else:
            print(f"jobs run on: {here.message}\nmanaged runtime: {managed_state.status}: {managed_state.message}\n"
                  f"torch build for this machine: {out['would_install']['tag']} ({out['would_install']['reason']})")
        return 0
    build = detected_build(args.cuda)
    if build.error:
        raise UsageError(build.error)
    wheels = absolute(args.wheels) if args.wheels is not None else None
    if args.wheels is not None and (not args.wheels.strip() or not Path(str(wheels)).is_dir()):
        raise UsageError(f"--wheels {args.wheels}: not a folder")
    if managed.state().status == "dev":
        print("note: this is a development install: jobs run on this Python; the managed runtime is for the "
              "installed app", file=sys.stderr)
    print(f"torch build: {build.tag} ({build.reason})", file=sys.stderr)
    final = follow_job(JobSpec(kind="runtime", model="-", params={
        "build": build.tag, "reason": build.reason, "wheels": wheels, "repair": args.runtime_command == "repair"}))
    return report_job(final, args.json)
