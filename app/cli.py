"""The `quantdesk` command line: one argparse tree over the same services as the window.

Headless subcommands never import Qt. Exit status: 0 success, 1 the job failed, 2 bad arguments
or bad input (one line on stderr says what to change). `--json` prints one JSON document on
stdout and nothing else. Each subcommand's module declares its own arguments (`add_arguments`)
and is imported only when that subcommand (or the full --help) is asked for.
"""
from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from pathlib import Path

from services import __version__

PANEL_NAMES = ("overview", "environment", "datasets", "quantize", "evaluate", "targets", "monitor", "jobs")


class UsageError(Exception):
    """Bad arguments or input: exit status 2 with the message on stderr."""


def absolute(path: str | Path) -> str:
    """`path` made absolute against the user's working directory (never the install folder)."""
    import os

    return os.path.abspath(os.path.expanduser(str(path)))


def absolute_source(value: str) -> str:
    """A data source: a dataset name stays a name, a path becomes absolute."""
    from services.jobs.kinds import is_dataset_name

    return value if is_dataset_name(value) else absolute(value)



def _lazy(target: str):
    """A handler that imports `module:function` only when the subcommand runs."""
    def handler(args: argparse.Namespace) -> int:
        module, func = target.split(":")
        return getattr(importlib.import_module(module), func)(args)
    return handler


def _gui(args: argparse.Namespace) -> int:
    if args.panel and args.panel not in PANEL_NAMES:
        raise UsageError(f"unknown panel {args.panel!r}; choose one of: {', '.join(PANEL_NAMES)}")
    size = (1200, 800)
    if args.size:
        m = re.fullmatch(r"([0-9]{3,4})x([0-9]{3,4})", args.size.strip().lower())
        if not (m and 640 <= int(m[1]) <= 7680 and 480 <= int(m[2]) <= 4320):
            raise UsageError(f"--size takes WIDTHxHEIGHT in pixels, from 640x480 to 7680x4320, e.g. 1024x700, "
                             f"not {args.size!r}")
        size = (int(m[1]), int(m[2]))
    from app.gui import run_gui  # Qt is imported only here

    return run_gui(panel=args.panel, screenshot=args.screenshot, language=args.lang, size=size)


def _setup_gui(p: argparse.ArgumentParser) -> None:
    p.add_argument("--panel", help=f"panel to show: {', '.join(PANEL_NAMES)}")
    p.add_argument("--screenshot", type=Path, metavar="FILE.png", help="render the window offscreen, save a PNG and exit")
    p.add_argument("--lang", choices=("en", "zh_CN"), help="interface language for this run")
    p.add_argument("--size", metavar="WxH", help="the screenshot's window size (default 1200x800)")
    p.set_defaults(handler=_gui)


def _module(name: str):
    """Setup for a subcommand implemented in app/<name>.py (its add_arguments and run)."""
    def setup(p: argparse.ArgumentParser) -> None:
        importlib.import_module(f"app.{name}").add_arguments(p)
        p.set_defaults(handler=_lazy(f"app.{name}:run"))
    return setup


def _setup_datasets(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="datasets_command", metavar="ACTION", required=True)
    _module("cmd_datasets")(sub.add_parser("preview", help="statistics and first samples of a calibration source"))


COMMANDS = {
    "gui": ("open the workbench (or render a panel to a PNG)", _setup_gui),
    "doctor": ("environment report (and fixes)", _module("cmd_doctor")),
    "datasets": ("calibration datasets", _setup_datasets),
    "quantize": ("quantize a model (AWQ, GPTQ, W8A8, FP8)", _module("cmd_quantize")),
    "compare": ("quantize with several methods and evaluate them side by side", _module("cmd_compare")),
    "eval": ("perplexity, answer agreement and KV-cache quality", _module("cmd_eval")),
    "plan": ("memory plan: weights, KV cache, what fits on a GPU", _module("cmd_plan")),
    "scan": ("layer sensitivity: which layers quantization hurts", _module("cmd_scan")),
    "export": ("export or compile for a serving engine, GGUF or an NPU", _module("cmd_export")),
    "targets": ("the export targets and what this machine has for them", _module("cmd_targets")),
    "engines": ("serving engines (llama.cpp, vLLM, LMDeploy), each in its own environment", _module("cmd_engines")),
    "serve": ("serve a model with a real engine, chat with it and measure it", _module("cmd_serve")),
    "runtime": ("the managed ML runtime (torch and the quantization stack) of an installed QuantDesk",
                _module("cmd_runtime")),
    "cluster": ("Ray clusters that run jobs remotely: add, list, check", _module("cmd_cluster")),
    "jobs": ("job queue and history", _module("cmd_jobs")),
    "logs": ("support bundle: logs, jobs and environment, redacted", _module("cmd_logs")),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full tree, or with `only` just that subcommand (start-up imports nothing else)."""
    p = argparse.ArgumentParser(
        prog="quantdesk",
        description="QuantDesk: check the machine, pick calibration data, quantize, evaluate, plan memory "
                    "and export LLMs. Without a subcommand it opens the workbench window.")
    p.add_argument("--version", action="version", version=f"quantdesk {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, (text, setup) in COMMANDS.items():
        if only is None or name == only:
            setup(sub.add_parser(name, help=text))
    return p


def run_module(argv: list[str]) -> int:
    """The runner mode of a frozen build: `quantdesk --run-module MODULE ARGS` runs `python -m MODULE ARGS`."""
    import runpy

    if not argv:
        print("quantdesk: error: --run-module needs a module name", file=sys.stderr)
        return 2
    sys.argv = [argv[0], *argv[1:]]
    try:
        runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def _absolute_env() -> None:
    """Folder variables made absolute here: job runners start in another working directory."""
    import os

    for name in ("QUANTDESK_HOME", "QUANTDESK_ENGINES"):
        if os.environ.get(name):
            os.environ[name] = absolute(os.environ[name])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from services.runtime.runtime import RUN_MODULE_FLAG

    if argv and argv[0] == RUN_MODULE_FLAG:
        return run_module(argv[1:])
    _absolute_env()
    command = argv[0] if argv and argv[0] in COMMANDS else (None if argv else "gui")
    args = build_parser(only=command).parse_args(argv or ["gui"])
    from services.jobs.store import StoreError

    try:
        return args.handler(args)
    except (UsageError, StoreError) as exc:
        if getattr(args, "json", False):
            print(json.dumps({"status": "bad_input", "error": str(exc)}, ensure_ascii=False))
        print(f"quantdesk: error: {exc}", file=sys.stderr)
        return 2
    except (FileExistsError, NotADirectoryError) as exc:  # e.g. QUANTDESK_HOME/data is a file
        print(f"quantdesk: error: {exc}: QuantDesk's folders must be folders (see QUANTDESK_HOME)", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `quantdesk jobs list | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
