"""The `quantdesk` command line: one argparse tree over the same services as the window.

Headless subcommands never import Qt. Exit status: 0 success, 1 the job failed, 2 bad arguments
or bad input (one line on stderr says what to change). `--json` prints one JSON document on
stdout and nothing else.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from services import __version__

PANEL_NAMES = ("environment", "datasets", "quantize", "evaluate", "targets", "monitor", "jobs")


class UsageError(Exception):
    """Bad arguments or input: exit status 2 with the message on stderr."""


def _not_built(name: str):
    def handler(args: argparse.Namespace) -> int:
        raise UsageError(f"`quantdesk {name}` is not built yet in this version")
    return handler


def _lazy(target: str):
    """A handler that imports `module:function` only when the subcommand runs."""
    def handler(args: argparse.Namespace) -> int:
        module, func = target.split(":")
        return getattr(importlib.import_module(module), func)(args)
    return handler


def _gui(args: argparse.Namespace) -> int:
    if args.panel and args.panel not in PANEL_NAMES:
        raise UsageError(f"unknown panel {args.panel!r}; choose one of: {', '.join(PANEL_NAMES)}")
    from app.gui import run_gui  # Qt is imported only here
    return run_gui(panel=args.panel, screenshot=args.screenshot, language=args.lang)


def _add_arguments(p: argparse.ArgumentParser, module: str) -> None:
    """Let a subcommand's module declare its own arguments."""
    importlib.import_module(module).add_arguments(p)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="quantdesk",
        description="QuantDesk: check the machine, pick calibration data, quantize, evaluate, plan memory "
                    "and export LLMs. Without a subcommand it opens the workbench window.")
    p.add_argument("--version", action="version", version=f"quantdesk {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    g = sub.add_parser("gui", help="open the workbench (or render a panel to a PNG)")
    g.add_argument("--panel", help=f"panel to show: {', '.join(PANEL_NAMES)}")
    g.add_argument("--screenshot", type=Path, metavar="FILE.png",
                   help="render the window offscreen, save a PNG and exit")
    g.add_argument("--lang", choices=("en", "zh_CN"), help="interface language for this run")
    g.set_defaults(handler=_gui)

    d = sub.add_parser("doctor", help="environment report (and fixes)")
    _add_arguments(d, "app.cmd_doctor")
    d.set_defaults(handler=_lazy("app.cmd_doctor:run"))

    ds = sub.add_parser("datasets", help="calibration datasets")
    ds_sub = ds.add_subparsers(dest="datasets_command", metavar="ACTION", required=True)
    pv = ds_sub.add_parser("preview", help="statistics and first samples of a calibration source")
    _add_arguments(pv, "app.cmd_datasets")
    pv.set_defaults(handler=_lazy("app.cmd_datasets:run"))

    q = sub.add_parser("quantize", help="quantize a model (AWQ W4A16)")
    _add_arguments(q, "app.cmd_quantize")
    q.set_defaults(handler=_lazy("app.cmd_quantize:run"))

    e = sub.add_parser("eval", help="perplexity, answer agreement and KV-cache quality")
    _add_arguments(e, "app.cmd_eval")
    e.set_defaults(handler=_lazy("app.cmd_eval:run"))

    pl = sub.add_parser("plan", help="memory plan: weights, KV cache, what fits on a GPU")
    _add_arguments(pl, "app.cmd_plan")
    pl.set_defaults(handler=_lazy("app.cmd_plan:run"))

    x = sub.add_parser("export", help="export or compile for a serving engine or NPU")
    x.add_argument("--model", required=True, type=Path)
    x.add_argument("--target", required=True)
    x.add_argument("--out", required=True, type=Path)
    x.set_defaults(handler=_not_built("export"))

    j = sub.add_parser("jobs", help="job queue and history")
    _add_arguments(j, "app.cmd_jobs")
    j.set_defaults(handler=_lazy("app.cmd_jobs:run"))

    lg = sub.add_parser("logs", help="support logs")
    lg_sub = lg.add_subparsers(dest="logs_command", metavar="ACTION", required=True)
    le = lg_sub.add_parser("export", help="write a support bundle (zip) with secrets redacted")
    le.add_argument("--out", required=True, type=Path)
    le.set_defaults(handler=_not_built("logs export"))
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:  # plain `quantdesk`: open the window
        args = parser.parse_args(["gui"])
        handler = args.handler
    try:
        return handler(args)
    except UsageError as exc:
        print(f"quantdesk: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
