"""`quantdesk quantize`: the same job, runner and store as the Quantize panel (no Qt)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import UsageError
from app.jobcli import run_job
from services.jobs.spec import JobSpec
from services.quant.preflight import preflight
from services.quant.settings import DEVICES, DTYPES, GROUP_SIZES, VERSIONS, AwqSettings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, type=Path, help="folder of the fp16/bf16 Hugging Face model")
    p.add_argument("--out", required=True, type=Path, help="folder for the quantized model (must not exist)")
    p.add_argument("--method", default="awq", choices=("awq",))
    p.add_argument("--backend", default="autoawq", choices=("autoawq",))
    p.add_argument("--bits", type=int, default=4)
    p.add_argument("--group-size", type=int, default=128, choices=GROUP_SIZES)
    p.add_argument("--zero-point", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--version", default="gemm", choices=VERSIONS)
    p.add_argument("--calib", default="pileval", help="calibration source: a dataset name, file or folder")
    p.add_argument("--calib-field", help="JSON field or column of the calibration text")
    p.add_argument("--samples", type=int, default=128)
    p.add_argument("--seqlen", type=int, default=512)
    p.add_argument("--calib-mode", default="concat", choices=("concat", "truncate"))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--dtype", default="float16", choices=DTYPES)
    p.add_argument("--keep", action="append", default=[], metavar="MODULE",
                   help="module name to leave unquantized (repeatable), e.g. --keep mlp.down_proj")
    p.add_argument("--trust-remote-code", action="store_true", help="allow the model's own Python code")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--json", action="store_true", help="print the final summary as JSON on stdout")


def settings_from(args: argparse.Namespace) -> AwqSettings:
    return AwqSettings(bits=args.bits, group_size=args.group_size, zero_point=args.zero_point, version=args.version,
                       calib=args.calib, calib_field=args.calib_field, samples=args.samples, seqlen=args.seqlen,
                       calib_mode=args.calib_mode, seed=args.seed, device=args.device, dtype=args.dtype,
                       keep=args.keep, trust_remote_code=args.trust_remote_code, overwrite=args.overwrite)


def run(args: argparse.Namespace) -> int:
    s = settings_from(args)
    report = preflight(args.model, args.out, s)  # reject bad input before any process starts
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if not report.ok:
        raise UsageError("; ".join(report.errors))
    spec = JobSpec(kind="quantize", model=str(args.model.resolve()), out=str(args.out.resolve()), params=s.to_dict())
    return run_job(spec, args.json)
