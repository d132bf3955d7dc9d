"""The job runner: `python -m services.jobs.runner SPEC.json [LOG_FILE]`.

Runs one job in this (child) process. Its stdout carries only JSON event lines; everything else
(libraries, warnings, tqdm, C extensions writing to fd 1/2) goes to the job's log file. The exit
status is 0 when the job succeeded, 1 when it failed.
"""
from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback
from pathlib import Path

from services.jobs.events import Emitter, JobFailure
from services.jobs.spec import JobSpec

HANDLERS = {
    "quantize": "services.quant.job:run",
    "selftest": "services.jobs.selftest:run",
    "eval": "services.evaluate.job:run",
}


def _redirect_output(log_path: Path | None) -> Emitter:
    """Keep the real stdout for events; send fd 1 and 2 (and Python's streams) to the log file."""
    events_fd = os.dup(1)
    events = os.fdopen(events_fd, "w", encoding="utf-8", buffering=1)
    target = open(log_path, "a", encoding="utf-8", buffering=1) if log_path else open(os.devnull, "w")
    os.dup2(target.fileno(), 1)
    os.dup2(target.fileno(), 2)
    sys.stdout = sys.stderr = target
    logging.basicConfig(stream=target, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        force=True)
    return Emitter(events)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m services.jobs.runner SPEC.json [LOG_FILE]", file=sys.stderr)
        return 2
    spec = JobSpec.from_json(Path(argv[0]).read_text(encoding="utf-8"))
    emitter = _redirect_output(Path(argv[1]) if len(argv) > 1 else None)
    logging.getLogger("quantdesk.runner").info("job %s (%s) starting in pid %d", spec.id, spec.kind, os.getpid())
    try:
        module, func = HANDLERS[spec.kind].split(":")
        summary = getattr(importlib.import_module(module), func)(spec, emitter)
    except JobFailure as exc:
        emitter.error(str(exc), hint=exc.hint)
        return 1
    except MemoryError:
        emitter.error("out of memory", hint="use fewer calibration samples or a shorter sequence length, "
                                            "or close other programs", traceback=traceback.format_exc())
        return 1
    except OSError as exc:
        hint = "free disk space or pick another output folder" if getattr(exc, "errno", None) == 28 else ""
        emitter.error(f"{type(exc).__name__}: {exc}", hint=hint, traceback=traceback.format_exc())
        return 1
    except Exception as exc:
        emitter.error(f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
        logging.exception("job failed")
        return 1
    emitter.result(True, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
