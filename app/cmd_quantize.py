"""`quantdesk quantize`: the same job, runner and store as the Quantize panel (no Qt).

The method and backend come from the backend registry; each backend's own settings become flags
(services/quant/backends/*.py `schema`).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app import remotecli
from app.cli import UsageError, absolute, absolute_source
from app.jobcli import run_job
from services.jobs.spec import JobSpec
from services.quant.backends import BACKENDS, get_backend, methods
from services.quant.preflight import local_view_check, preflight
from services.quant.settings import CALIB_MODES, DEVICES, DTYPES


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="folder of the fp16/bf16 Hugging Face model")
    p.add_argument("--out", required=True, help="folder for the quantized model (must not exist)")
    p.add_argument("--method", default="awq", choices=methods())
    p.add_argument("--backend", choices=list(BACKENDS), help="default: the method's usual backend")
    seen: set[str] = set()
    for backend in BACKENDS.values():
        for st in backend.schema:
            if st.name in seen:
                continue
            seen.add(st.name)
            flag = "--" + st.name.replace("_", "-")
            if st.type is bool:
                p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=st.help)
            else:
                p.add_argument(flag, type=st.type, choices=st.choices or None, default=None,
                               help=f"{st.help} (default {st.default})")
    p.add_argument("--calib", default="pileval", help="calibration source: a dataset name, file or folder")
    p.add_argument("--calib-field", help="JSON field or column of the calibration text")
    p.add_argument("--samples", type=int, default=128)
    p.add_argument("--seqlen", type=int, default=512)
    p.add_argument("--calib-mode", default="concat", choices=CALIB_MODES)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--dtype", default="float16", choices=DTYPES)
    p.add_argument("--keep", action="append", default=[], metavar="MODULE",
                   help="module name to leave unquantized (repeatable), e.g. --keep mlp.down_proj")
    p.add_argument("--trust-remote-code", action="store_true", help="allow the model's own Python code")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --out if it is an earlier QuantDesk output (swapped only after success)")
    p.add_argument("--force", action="store_true", help="with --overwrite: replace --out even if it is not a "
                                                        "QuantDesk output")
    p.add_argument("--json", action="store_true", help="print the final summary as JSON on stdout")
    remotecli.add_arguments(p)


def params_from(args: argparse.Namespace, remote: bool = False) -> dict:
    """The job's params: the shared settings plus the chosen backend's (absolute paths)."""
    try:
        backend = get_backend(args.backend, args.method)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    calib = remotecli.source_arg(args.calib) if remote else absolute_source(args.calib)
    params = {"method": args.method, "backend": backend.name, "calib": calib,
              "calib_field": args.calib_field, "samples": args.samples, "seqlen": args.seqlen,
              "calib_mode": args.calib_mode, "seed": args.seed, "device": args.device, "dtype": args.dtype,
              "keep": args.keep, "trust_remote_code": args.trust_remote_code, "overwrite": args.overwrite,
              "force": args.force}
    names = {st.name for st in backend.schema}
    for b in BACKENDS.values():
        for st in b.schema:
            value = getattr(args, st.name, None)
            if value is None:
                continue
            flag = "--" + st.name.replace("_", "-")
            if st.name not in names:
                raise UsageError(f"{flag} is not a setting of the {backend.name} backend")
            own = next(x for x in backend.schema if x.name == st.name)
            if not own.applies(args.method):
                raise UsageError(f"{flag} does not apply to --method {args.method} (it is for "
                                 f"{', '.join(own.methods)})")
            params[st.name] = value
    return backend.settings(params).to_dict()


def run(args: argparse.Namespace) -> int:
    if args.force and not args.overwrite:
        raise UsageError("--force only goes with --overwrite")
    remote = remotecli.is_remote(args)
    params = params_from(args, remote)
    if remote:
        model, out = remotecli.path_arg(args.model, True), remotecli.path_arg(args.out, True)
        spec = remotecli.prepare(args, JobSpec(kind="quantize", model=model, out=out, params=params), local_view_check)
        return run_job(spec, args.json)
    model, out = absolute(args.model), absolute(args.out)
    s = get_backend(params["backend"], params["method"]).settings(params)
    report = preflight(Path(model), Path(out), s)  # reject bad input before any process starts
    if not report.ok:
        raise UsageError("; ".join(report.errors))
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for note in report.info.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    return run_job(JobSpec(kind="quantize", model=model, out=out, params=params), args.json)

