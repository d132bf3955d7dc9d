"""`quantdesk scan`: which layers quantization hurts, one at a time, measured on held-out text."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli import UsageError, absolute, absolute_source
from app.jobcli import exit_status, follow_job
from services.insight.advice import advice_line
from services.insight.settings import ScanSettings, scan_problems
from services.jobs.kinds import is_dataset_name
from services.jobs.spec import JobSpec


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="folder of the unquantized model")
    p.add_argument("--text", "--calib", dest="text", required=True,
                   help="held-out text to measure on: a file, a folder or a dataset name")
    p.add_argument("--method", default="rtn", choices=("rtn", "awq"),
                   help="rtn: round to nearest; awq: activation-aware scales searched per unit, then rounding")
    p.add_argument("--awq-calib", metavar="SOURCE",
                   help="with --method awq: calibration text for the scales (default: the text after the scored "
                        "tokens)")
    p.add_argument("--calib-tokens", type=int, default=512, help="with --method awq: calibration tokens")
    p.add_argument("--budget-mb", type=float, metavar="N",
                   help="advise which layers to keep in fp16 within N MB, with the predicted and measured perplexity")
    p.add_argument("--bits", type=int, default=4)
    p.add_argument("--group-size", type=int, default=128)
    p.add_argument("--unit", default="layer", choices=("layer", "block"))
    p.add_argument("--max-tokens", type=int, default=2048)
    p.add_argument("--context", type=int, default=512)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--top", type=int, default=15, help="rows to print (all go into --json)")
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    model = Path(absolute(args.model))
    if not args.text.strip():
        raise UsageError("--text needs a file, a folder or a dataset name")
    if args.method != "awq" and (args.awq_calib or args.calib_tokens != 512):
        raise UsageError("--awq-calib and --calib-tokens go with --method awq")
    if args.awq_calib is not None and not args.awq_calib.strip():
        raise UsageError("--awq-calib needs a file, a folder or a dataset name")
    calib = absolute_source(args.awq_calib) if args.awq_calib else None
    if calib and not is_dataset_name(calib) and not Path(calib).exists():
        raise UsageError(f"calibration text not found: {calib}; give a file or folder, or a dataset name")
    s = ScanSettings(text=absolute_source(args.text), max_tokens=args.max_tokens, context=args.context,
                     bits=args.bits, group_size=args.group_size, unit=args.unit, method=args.method,
                     device=args.device, calib=calib, calib_tokens=args.calib_tokens, budget_mb=args.budget_mb)
    if not is_dataset_name(s.text) and not Path(s.text).exists():
        raise UsageError(f"text not found: {s.text}; give a file or folder, or a dataset name")
    if problems := scan_problems(model, s):
        raise UsageError("; ".join(problems))
    if args.top < 1:
        raise UsageError("--top must be 1 or more")
    rec = follow_job(JobSpec(kind="scan", model=str(model), params=s.to_dict()))
    if rec.status != "succeeded" or not rec.result:
        print(f"\nscan {rec.status}" + (f": {rec.error}" if rec.error else ""), file=sys.stderr)
        return exit_status(rec)
    r = rec.result
    if r.get("advice"):
        from services.insight.predictions import record

        record(rec.id, r, r["advice"])  # so a later quantize + eval of this keep list can stand beside it
    if args.json:
        print(json.dumps(r, ensure_ascii=False))
        return 0
    method = " with AWQ scales" if r.get("method") == "awq" else ""
    print(f"\n{r['tokens']} tokens; unquantized perplexity {r['base_perplexity']:.3f}; everything at "
          f"W{r['bits']} g{r['group_size']}{method}: {r['all_quantized']['perplexity']:.3f}")
    print(f"scan {r['seconds']} s = {r['cost_ratio']}x one evaluation of the unquantized model on these tokens "
          f"({r['reference_seconds']} s)")
    keep = r.get("keep_most_sensitive")
    if keep:
        print(f"keeping {keep['name']} in fp16: {keep['perplexity']:.3f}")
    print(f"{'rank':>4}  {'unit':40}{'KL':>10}{'ppl Δ':>10}{'MB saved':>10}")
    for u in r["units"][: args.top]:
        saved = (u["fp16_bytes"] - u["quantized_bytes"]) / 1e6
        print(f"{u['rank']:>4}  {u['name']:40}{u['kl']:>10.5f}{u['delta_pct']:>+9.2f}%{saved:>10.2f}")
    print("\nby module type (summed KL): " + ", ".join(f"{t['type']} {t['kl']:.4f}" for t in r["by_type"]))
    adv = r.get("advice")
    if adv:
        print(f"\nwithin {adv['budget_mb']:g} MB: {advice_line(adv)}; measured with them kept: "
              f"{adv['measured_perplexity']:.3f}")
        for name in adv["keep"]:
            print(f"  --keep {name}")
    return 0
