"""`quantdesk compare`: quantize one model with several methods, then evaluate them side by side.

Each method is an ordinary quantize job (same calibration tokens) of one job group; one eval job then
scores every output that was made against the source model on the same held-out tokens and prompts
(services/quant/compare.py). A method that fails does not stop the others.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli import UsageError, absolute, absolute_source
from app.jobcli import follow_group
from services.jobs.group import group_records
from services.quant.backends import methods
from services.quant.compare import comparison_rows, evaluation_record, plan_compare


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="folder of the fp16/bf16 model")
    p.add_argument("--methods", default="awq,gptq,w8a8,fp8-dynamic",
                   help=f"comma-separated, from {', '.join(methods())} (default: awq,gptq,w8a8,fp8-dynamic)")
    p.add_argument("--out-dir", required=True, help="folder for the outputs, one subfolder per method")
    p.add_argument("--calib", default="pileval", help="calibration source (the same tokens for every method)")
    p.add_argument("--text", required=True, help="held-out text for perplexity")
    p.add_argument("--samples", type=int, default=128)
    p.add_argument("--seqlen", type=int, default=512)
    p.add_argument("--group-size", type=int, default=128, choices=(128, 64, 32))
    p.add_argument("--context", type=int, default=512)
    p.add_argument("--max-tokens", type=int, default=16384)
    p.add_argument("--no-answers", action="store_true", help="skip the answer comparison")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--overwrite", action="store_true", help="replace earlier QuantDesk outputs in --out-dir")
    p.add_argument("--force", action="store_true", help="with --overwrite: also folders QuantDesk did not make")
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    model, out_dir = Path(absolute(args.model)), Path(absolute(args.out_dir))
    chosen = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not args.text.strip() or not args.calib.strip():
        raise UsageError("--text and --calib need a file, a folder or a dataset name")
    shared = {"calib": absolute_source(args.calib), "samples": args.samples, "seqlen": args.seqlen,
              "device": args.device, "overwrite": args.overwrite, "force": args.overwrite and args.force}
    try:
        plan = plan_compare(model, chosen, out_dir, shared, absolute_source(args.text), group_size=args.group_size,
                            context=args.context, max_tokens=args.max_tokens, answers=not args.no_answers)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    group = follow_group(plan.members, plan.final, plan.group)
    records = group_records(group.manager.store, plan.group)
    rows = comparison_rows(records)
    ev = evaluation_record(records)
    if group.status != "succeeded" or ev is None or not ev.result:
        print(f"\ncomparison {group.status}" + (f": {group.error}" if group.error else ""), file=sys.stderr)
        return 2 if any(r.error_kind == "bad_input" for r in records) else 1
    if args.json:
        print(json.dumps({"group": plan.group, "rows": rows, "tokens": ev.result["tokens"], "eval_job": ev.id},
                         ensure_ascii=False))
        return 0 if all(r["status"] == "succeeded" for r in rows) else 1
    print(f"\n{ev.result['tokens']} held-out tokens, context {ev.result['context']} (group {plan.group})")
    print(f"{'method':22}{'size MB':>9}{'quantize s':>12}{'perplexity':>12}{'delta':>9}{'agree':>7}")
    for r in rows:
        size = "" if r["output_bytes"] is None else f"{r['output_bytes'] / 1e6:.1f}"
        secs = "" if r["quantize_s"] is None else f"{r['quantize_s']:.1f}"
        ppl = "" if r["perplexity"] is None else f"{r['perplexity']:.3f}"
        delta = "" if r["delta_pct"] is None else f"{r['delta_pct']:+.2f}%"
        agree = "" if r["agreement"] is None else f"{r['agreement']:.0%}"
        print(f"{r['method']:22}{size:>9}{secs:>12}{ppl:>12}{delta:>9}{agree:>7}"
              + (f"  {r['status']}: {r['error']}" if r["status"] != "succeeded" else ""))
    return 0 if all(r["status"] == "succeeded" for r in rows) else 1
