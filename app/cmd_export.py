"""`quantdesk export`: a checkpoint to a serving engine's command, a GGUF file or an NPU build, as a job.

The targets and their settings come from services/targets (each setting is a flag here); a refused
combination exits 2 with the reason and the fix before any job starts.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from app.cli import UsageError, absolute
from app.jobcli import follow_job, report_job
from services.jobs.spec import JobSpec
from services.targets.base import PARAMS
from services.targets.preflight import check_export
from services.targets.registry import TARGETS, get_target


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="model folder, or the id of a finished quantize job")
    p.add_argument("--target", required=True, choices=list(TARGETS))
    p.add_argument("--out", required=True, help="folder for the export (must not exist, or see --overwrite)")
    for s in PARAMS:
        text = f"[{', '.join(s.methods)}] {s.help}"
        if s.type is bool:
            p.add_argument(s.flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            p.add_argument(s.flag, type=s.type, default=None, choices=s.choices or None,
                           help=text + (f" (default {s.default})" if s.default else ""))
    p.add_argument("--overwrite", action="store_true", help="replace an earlier QuantDesk output in --out")
    p.add_argument("--force", action="store_true", help="with --overwrite: replace a folder QuantDesk did not make")
    p.add_argument("--check", action="store_true", help="only check: print what the export would do")
    p.add_argument("--json", action="store_true")


def resolve_model(value: str, accepts_job_source: bool) -> tuple[Path, str | None, list[str]]:
    """(folder, job id or None, notes): a folder as given, or a finished quantize job's output (or source)."""
    path = Path(absolute(value))
    if path.exists() or any(sep in value for sep in ("/", "\\")):
        return path, None, []
    from services.jobs.local import open_store

    try:
        rec = open_store().get(value)
    except KeyError as exc:
        raise UsageError(f"{value} is neither a folder nor a job id ({exc.args[0]})") from None
    if rec.kind != "quantize" or rec.status != "succeeded" or not rec.out:
        raise UsageError(f"job {rec.id} is a {rec.status} {rec.kind} job: give a finished quantize job or a folder")
    if accepts_job_source:
        return Path(rec.model), rec.id, [
            f"job {rec.id}: exporting its source model {rec.model} (re-quantizing the AWQ output's dequantized "
            "weights would compound the error)"]
    return Path(rec.out), rec.id, []


def run(args: argparse.Namespace) -> int:
    target = get_target(args.target)
    model, job_id, notes = resolve_model(args.model, target.accepts_job_source)
    out = Path(absolute(args.out))
    raw = {s.name: getattr(args, s.name) for s in PARAMS if getattr(args, s.name) is not None}
    if raw.get("llama_quantize"):
        found = shutil.which(raw["llama_quantize"])
        raw["llama_quantize"] = absolute(found or raw["llama_quantize"])
    if job_id and target.accepts_job_source:
        raw["source_of"] = job_id
    c = check_export(model, out, target.name, raw, overwrite=args.overwrite, force=args.force)
    for line in notes + [f"note: {n}" for n in c.notes] + [f"warning: {w}" for w in c.warnings]:
        print(line, file=sys.stderr)
    if not c.ok:
        raise UsageError("; ".join(c.errors))
    if args.check:
        if args.json:
            print(json.dumps({"ok": True, "command": c.info.get("command"), "notes": c.notes, "warnings": c.warnings,
                              "plan": c.info.get("sizing")}, ensure_ascii=False))
        else:
            print(c.info.get("command") or "ok")
        return 0
    spec = JobSpec(kind="export", model=str(model), out=str(out),
                   params={**c.params, "overwrite": args.overwrite, "force": args.force})
    final = follow_job(spec)
    code = report_job(final, args.json)
    if code == 0 and not args.json:
        r = final.result or {}
        if r.get("target") == "edge10" and not (r.get("verify") or {}).get("compiled"):
            print(f"\nscripts written to {r.get('out')}; nothing was compiled here: run them on the GPU host",
                  file=sys.stderr)
        elif (r.get("verify") or {}).get("scripts_only"):
            print(f"\nscripts written to {r.get('out')}; QuantDesk ran none of them: see its README.md and run them "
                  "on the GPU host", file=sys.stderr)
        else:
            print(f"\nexported to {r.get('out')}", file=sys.stderr)
        if r.get("command"):
            print(r["command"])
    return code
