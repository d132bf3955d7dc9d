"""`quantdesk eval`: perplexity, KV-cache policies and answer agreement, as a job (no Qt)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app import remotecli
from app.cli import UsageError, absolute, absolute_source
from services.evaluate.precision import PRECISIONS, group_text
from services.evaluate.preflight import check_models, check_precision
from services.evaluate.report import what
from services.evaluate.settings import KV_POLICIES, EvalSettings
from services.evaluate.verdict import Thresholds, verdict
from services.jobs.kinds import is_dataset_name
from services.jobs.spec import JobSpec


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="model folder (fp16/bf16 or AWQ), or a finished quantize job's id")
    p.add_argument("--also", action="append", default=[], metavar="DIR",
                   help="another candidate model folder or job id (repeatable)")
    p.add_argument("--baseline", help="model folder (or job id) to compare against; default: --model with fp16 KV")
    p.add_argument("--kv", default="fp16", help=f"comma-separated KV policies: {','.join(KV_POLICIES)}")
    p.add_argument("--precision", metavar="LIST",
                   help=f"comma-separated simulated precisions of --model, scored on the same tokens: "
                        f"{','.join(PRECISIONS)} (W weights, A activations, KV cache bits; without KV the cache "
                        "stays 16-bit, unlike QServe's w4a8)")
    p.add_argument("--group-size", metavar="LIST",
                   help="weight group sizes for --precision, comma-separated: -1 (per output channel) or e.g. 128 "
                        "(default 128; write --group-size=-1,128 for a list that starts with -1)")
    p.add_argument("--text", required=True, help="held-out text: a dataset name, file or folder")
    p.add_argument("--field", help="JSON field or column of the text")
    p.add_argument("--context", type=int, default=512)
    p.add_argument("--stride", type=int, help="window stride (default: --context, non-overlapping)")
    p.add_argument("--max-tokens", type=int, default=16384, help="score at most this many tokens")
    p.add_argument("--prompts", help="prompts file (.txt, .json, .jsonl); default: the built-in English/Chinese set")
    p.add_argument("--no-answers", action="store_true", help="skip the answer comparison")
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--fine", type=float, default=3.0, help="perplexity increase (%%) still called fine")
    p.add_argument("--caution", type=float, default=10.0, help="increase (%%) above which: do not ship")
    p.add_argument("--json", action="store_true")
    remotecli.add_arguments(p)


def resolve_model(arg: str) -> str:
    """A model folder, or the output of a finished job given by (part of) its id."""
    path = Path(absolute(arg))
    if path.is_dir():
        return str(path)
    from services.jobs.local import open_store

    try:
        rec = open_store().get(arg)
    except KeyError:
        raise UsageError(f"{arg} is neither a model folder nor a job id") from None
    if rec.status != "succeeded" or not rec.out or not Path(rec.out).is_dir():
        raise UsageError(f"job {rec.id} has no finished output ({rec.status})")
    return rec.out


def split_list(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def group_sizes(text: str | None, precisions: list[str]) -> list[int]:
    """--group-size as whole numbers (default [128]); UsageError saying what to write."""
    if text is None:
        return [128]
    if not precisions:
        raise UsageError("--group-size applies to simulated precisions: add --precision, e.g. --precision w4a16,w4a8")
    try:
        return [int(x) for x in split_list(text)]
    except ValueError:
        raise UsageError(f"--group-size takes whole numbers such as -1 or 128, not {text!r}") from None


def cluster_model(arg: str) -> str:
    """A model for a cluster job: a folder here (absolute), a path or URI as the cluster names it, or a finished
    job's id (its output)."""
    if Path(absolute(arg)).is_dir() or "://" in arg or "/" in arg or "\\" in arg:
        return remotecli.path_arg(arg, True)
    return resolve_model(arg)


def run(args: argparse.Namespace) -> int:
    from app.jobcli import exit_status, follow_job

    remote = remotecli.is_remote(args)
    model_of = cluster_model if remote else resolve_model
    precisions = [x.lower() for x in split_list(args.precision)]
    text = remotecli.source_arg(args.text) if remote else absolute_source(args.text)
    prompts = (remotecli.path_arg(args.prompts, True) if remote else absolute(args.prompts)) if args.prompts else None
    s = EvalSettings(baseline=model_of(args.baseline) if args.baseline else None,
                     also=[model_of(a) for a in args.also],
                     kv=[k.strip() for k in args.kv.split(",") if k.strip()], text=text,
                     text_field=args.field, max_tokens=args.max_tokens, context=args.context, stride=args.stride,
                     prompts=prompts, answers=not args.no_answers, max_new_tokens=args.max_new_tokens,
                     device=args.device, precision=precisions, group_size=group_sizes(args.group_size, precisions))
    if problems := s.problems():
        raise UsageError("; ".join(problems))
    if not 0 <= args.fine <= args.caution:
        raise UsageError("thresholds: 0 <= --fine <= --caution (percent of perplexity increase)")
    model = model_of(args.model)
    folders = [model, *([s.baseline] if s.baseline else []), *s.also]
    # a cluster job's paths may be the cluster's own: what is here is checked here, the rest on the cluster
    here = [f for f in folders if not remote or Path(f).exists()]
    if s.prompts and (not remote or Path(s.prompts).exists()) and not Path(s.prompts).is_file():
        raise UsageError(f"prompts file not found: {s.prompts}")
    if not remote and not is_dataset_name(s.text) and not Path(s.text).exists():
        raise UsageError(f"text not found: {s.text}; give a file or folder, or a dataset name")
    if errors := check_models(here, s.context):
        raise UsageError("; ".join(errors))
    if model in here and (errors := check_precision(model, s.precision, s.group_size)):
        raise UsageError("; ".join(errors))
    spec = JobSpec(kind="eval", model=model, params=s.to_dict())
    if remote:
        spec = remotecli.prepare(args, spec)
    rec = follow_job(spec)
    if rec.status != "succeeded":
        if args.json:
            print(json.dumps({"id": rec.id, "status": rec.status, "error": rec.error}, ensure_ascii=False))
        print(f"\njob {rec.status}" + (f": {rec.error}" if rec.error else ""), file=sys.stderr)
        return exit_status(rec)
    summary = rec.result
    if args.json:
        print(json.dumps({"id": rec.id, **summary}, ensure_ascii=False))
        return 0
    t = Thresholds(args.fine, args.caution)
    print(f"\n{summary['tokens']} tokens of {summary['text']}, context {summary['context']}, "
          f"stride {summary['stride']}, {summary['device']}")
    print(f"{'variant':46} {'perplexity':>11} {'delta':>8} {'agree':>6} {'s':>7}  verdict")
    for v in summary["variants"]:
        delta = "" if v["delta_pct"] is None else f"{v['delta_pct']:+.2f}%"
        agree = "" if v["agreement"] is None else f"{v['agreement']:.0%}"
        print(f"{v['name'][:46]:46} {v['perplexity']:11.3f} {delta:>8} {agree:>6} {v['seconds']:7.1f}  "
              f"{verdict(v['delta_pct'], v['kv'], v['baseline'], t, what(v), v.get('agreement'))[1]}")
    sims = [v for v in summary["variants"] if v.get("precision")]
    if sims:
        print(f"\n{'simulated precision':24} {'KV':6} {'vs baseline':>12} {'vs W4A16':>9} {'agree':>6} "
              f"{'agree W4A16':>11}")
    for v in sims:
        w4 = "" if v.get("delta_w4a16_pct") is None else f"{v['delta_w4a16_pct']:+.2f}%"
        agree_w4 = "" if v.get("agreement_w4a16") is None else f"{v['agreement_w4a16']:.0%}"
        agree = "" if v["agreement"] is None else f"{v['agreement']:.0%}"
        print(f"{v['precision'].upper() + ' ' + group_text(v['group_size']):24} {v['kv']:6} "
              f"{v['delta_pct']:+11.2f}% {w4:>9} {agree:>6} {agree_w4:>11}")
    return 0
