"""`quantdesk compare`: quantize one model with several methods, then evaluate them side by side.

Each method is an ordinary quantize job (same calibration tokens); one eval job then scores every
output against the source model on the same held-out tokens and prompts. Nothing here is new
machinery: it is the quantize and eval commands in sequence, with one table at the end.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli import UsageError, absolute, absolute_source
from app.jobcli import exit_status, follow_job
from services.evaluate.settings import EvalSettings
from services.jobs.spec import JobSpec
from services.quant.backends import get_backend, methods
from services.quant.preflight import preflight


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
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    model, out_dir = Path(absolute(args.model)), Path(absolute(args.out_dir))
    chosen = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not chosen or len(set(chosen)) != len(chosen) or any(m not in methods() for m in chosen):
        raise UsageError(f"--methods takes distinct names from {', '.join(methods())}")
    specs = []
    for method in chosen:
        backend = get_backend(None, method)
        s = backend.settings({"method": method, "backend": backend.name, "calib": absolute_source(args.calib),
                              "samples": args.samples, "seqlen": args.seqlen, "group_size": args.group_size,
                              "device": args.device})
        out = out_dir / f"{model.name}-{method}"
        report = preflight(model, out, s)
        if not report.ok:
            raise UsageError(f"{method}: " + "; ".join(report.errors))
        specs.append(JobSpec(kind="quantize", model=str(model), out=str(out), params=s.to_dict()))
    ev = EvalSettings(baseline=str(model), also=[str(sp.out) for sp in specs[1:]], text=absolute_source(args.text),
                      context=args.context, max_tokens=args.max_tokens, answers=not args.no_answers,
                      device=args.device)
    if problems := ev.problems():
        raise UsageError("; ".join(problems))

    made = {}
    for spec in specs:
        rec = follow_job(spec)
        if rec.status != "succeeded":
            print(f"\n{spec.params['method']}: job {rec.status}" + (f": {rec.error}" if rec.error else ""),
                  file=sys.stderr)
            return exit_status(rec)
        made[spec.out] = (spec.params["method"], rec.result or {})
    rec = follow_job(JobSpec(kind="eval", model=str(specs[0].out), params=ev.to_dict()))
    if rec.status != "succeeded" or not rec.result:
        print(f"\nevaluation {rec.status}" + (f": {rec.error}" if rec.error else ""), file=sys.stderr)
        return exit_status(rec)
    rows = []
    for v in rec.result["variants"]:
        method, q = made.get(v["model"], ("source", {}))
        rows.append({"method": method, "folder": v["model"], "output_bytes": q.get("output_bytes"),
                     "quantize_s": q.get("quantize_s"), "perplexity": v["perplexity"], "delta_pct": v["delta_pct"],
                     "agreement": v["agreement"]})
    if args.json:
        print(json.dumps({"rows": rows, "tokens": rec.result["tokens"], "eval_job": rec.id}, ensure_ascii=False))
        return 0
    print(f"\n{rec.result['tokens']} held-out tokens, context {rec.result['context']}")
    print(f"{'method':14}{'size MB':>9}{'quantize s':>12}{'perplexity':>12}{'delta':>9}{'agree':>7}")
    for r in rows:
        size = "" if r["output_bytes"] is None else f"{r['output_bytes'] / 1e6:.1f}"
        secs = "" if r["quantize_s"] is None else f"{r['quantize_s']:.1f}"
        delta = "" if r["delta_pct"] is None else f"{r['delta_pct']:+.2f}%"
        agree = "" if r["agreement"] is None else f"{r['agreement']:.0%}"
        print(f"{r['method']:14}{size:>9}{secs:>12}{r['perplexity']:>12.3f}{delta:>9}{agree:>7}")
    return 0
