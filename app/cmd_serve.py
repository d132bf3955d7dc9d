"""`quantdesk serve --model DIR|FILE.gguf|JOB_ID`: start the real engine on the model, check it answers, stop it.

With --smoke (the default without --keep-running) it runs the smoke test and prints the report;
--keep-running serves until Ctrl-C (after the smoke test, when asked for).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli import UsageError, absolute
from app.jobcli import follow_job, report_job
from services.jobs.spec import JobSpec
from services.serving.launch import ServeError, plan_serve


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="an export folder, a .gguf file, a checkpoint folder, or a job id")
    p.add_argument("--engine", default="auto", choices=("auto", "llamacpp", "vllm", "lmdeploy"))
    p.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--context", type=int, default=None, help="context to serve (default 4096, or the model's limit)")
    p.add_argument("--smoke", action=argparse.BooleanOptionalAction, default=None,
                   help="ask the built-in prompts and report (default: on, unless --keep-running); --no-smoke just "
                        "serves, until Ctrl-C")
    p.add_argument("--parallel", type=int, default=4, help="requests at once in the concurrency check (1: none)")
    p.add_argument("--max-tokens", type=int, default=64, help="answer length in the smoke test")
    p.add_argument("--prompts", default=None, help="prompt file (.txt, .json, .jsonl) instead of the built-in set")
    p.add_argument("--reference", default="auto",
                   help="the model to compare answers with: auto (the export's source), none, or a folder")
    p.add_argument("--keep-running", action="store_true", help="serve until Ctrl-C")
    p.add_argument("--extra-bufts", default="auto", choices=("auto", "on", "off"),
                   help="llama.cpp weight repacking (auto: off on CPUs with AMX, where it crashes)")
    p.add_argument("--ready-timeout", type=float, default=None, help="seconds to wait for the server")
    p.add_argument("--json", action="store_true")


def resolve(value: str) -> Path:
    """A path as given (made absolute), or a finished export or quantize job's output."""
    path = Path(absolute(value))
    if path.exists() or any(sep in value for sep in ("/", "\\")) or value.endswith(".gguf"):
        return path
    from services.jobs.local import open_store

    try:
        rec = open_store().get(value)
    except KeyError as exc:
        raise UsageError(f"{value} is neither a file, a folder nor a job id ({exc.args[0]})") from None
    if rec.kind not in ("export", "quantize") or rec.status != "succeeded" or not rec.out:
        raise UsageError(f"job {rec.id} is a {rec.status} {rec.kind} job: give a finished export or quantize job")
    return Path(rec.out)


def _check_numbers(args: argparse.Namespace) -> None:
    if not 1 <= args.parallel <= 256:
        raise UsageError(f"--parallel {args.parallel}: give 1 to 256")
    if not 1 <= args.max_tokens <= 4096:
        raise UsageError(f"--max-tokens {args.max_tokens}: give 1 to 4096")
    if args.ready_timeout is not None and not 1 <= args.ready_timeout <= 7200:
        raise UsageError(f"--ready-timeout {args.ready_timeout}: give 1 to 7200 seconds")


def reference_folder_problem(folder: Path) -> str | None:
    """What makes `folder` unusable as the reference model, read from its files (no torch)."""
    from services.modelfiles import check_weights

    if not (folder / "config.json").is_file():
        return "not a model folder (no config.json): give the Hugging Face folder the export was made from"
    if not any((folder / n).is_file() for n in ("tokenizer.json", "tokenizer.model", "tokenizer_config.json")):
        return "it has no tokenizer files (tokenizer.json or tokenizer.model)"
    errors, _, _ = check_weights(folder)
    return "; ".join(errors) or None


def params_from(args: argparse.Namespace) -> dict:
    smoke = args.smoke if args.smoke is not None else not args.keep_running
    ref: str | bool | None = {"auto": None, "none": False}.get(args.reference, args.reference)
    if isinstance(ref, str):
        ref = absolute(ref)
        if not Path(ref).is_dir():
            raise UsageError(f"--reference {args.reference}: not a folder (give auto, none or a model folder)")
        if problem := reference_folder_problem(Path(ref)):
            raise UsageError(f"--reference {args.reference}: {problem}")
    prompts = absolute(args.prompts) if args.prompts else None
    if prompts:
        from services.evaluate.answers import load_prompts

        try:
            load_prompts(prompts)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--prompts {args.prompts}: {exc}") from None
    return {"engine": args.engine, "port": args.port, "context": args.context, "smoke": smoke,
            "parallel": args.parallel, "max_tokens": args.max_tokens, "prompts": prompts, "reference": ref,
            "keep_running": args.keep_running, "extra_bufts": args.extra_bufts, "ready_timeout": args.ready_timeout}


def print_report(r: dict) -> None:
    s = r.get("smoke")
    print(f"\n{r.get('engine')} served {r.get('model')} at {r.get('url')}; ready after {r.get('ready_s')} s",
          file=sys.stderr)
    if not s:
        return
    for a in s["answers"]:
        agree = "" if a["similarity"] is None else (f"  similarity {a['similarity']:.0%}, same token at "
                                                     f"{a['agreement']:.0%} of positions")
        print(f"\n> {a['prompt']}\n{a['text'].strip()}\n  ({a['tokens']} tokens, first after {a['ttft_s']} s, "
              f"{a['tokens_per_s']} tok/s{agree})")
    c = s.get("concurrency") or {}
    print(f"\nmedian time to first token {s['ttft_s_median']} s, median {s['tokens_per_s_median']} tok/s")
    if c:
        print(f"{c['parallel']} at once: {c['throughput_tok_s']} tok/s, latency p50 {c['latency_p50_s']} s, "
              f"p95 {c['latency_p95_s']} s")
    print(f"{s['compared']}\nverdict: {s['verdict']}: {s['verdict_text']}")


def run(args: argparse.Namespace) -> int:
    _check_numbers(args)
    model = resolve(args.model)
    params = params_from(args)
    try:  # every refusal before the job starts
        plan = plan_serve(model, args.engine, args.port, args.context, args.extra_bufts)
    except ServeError as exc:
        raise UsageError(str(exc)) from None
    params["engine"] = plan.engine
    final = follow_job(JobSpec(kind="serve", model=str(model), params=params))
    code = report_job(final, args.json)
    if code == 0 and not args.json:
        print_report(final.result or {})
        if (final.result or {}).get("smoke", {}).get("verdict") == "fail":
            return 1
    elif code == 0 and (final.result or {}).get("smoke", {}).get("verdict") == "fail":
        return 1
    return code
