"""The job runner: `python -m services.jobs.runner SPEC.json [LOG_FILE|-] [--watch-stdin] [--parent PID]
[--stop-on-term]`.

Runs one job in this (child) process. Its stdout carries only JSON event lines; everything else
(libraries, warnings, tqdm, C extensions writing to fd 1/2) goes to the job's log file, or to stderr
with `-` (on a cluster, where stdout and stderr are the job's one log). `--stop-on-term`: SIGTERM is a
cancel request (Ray's stop_job), honoured at the next step.
Exit status: 0 succeeded, 1 failed, 2 bad input, 3 cancelled (or the parent went away).
A stop request (a `cancel` line on stdin, or SPEC.cancel appearing) is honoured at the next step;
when the parent is gone the job stops within about a second, removing its partial output.
"""
from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback
from pathlib import Path

from services.jobs import protocol as p
from services.jobs.events import Emitter, JobCancelled, JobFailure
from services.jobs.kinds import KINDS
from services.jobs.outputs import discard_partial
from services.jobs.spec import JobSpec
from services.messages import msg
from services.runtime import process
from services.runtime.parentwatch import CANCELLED, StopWatch, cancel_file, ray_supervisor

log = logging.getLogger("quantdesk.runner")


def _redirect_output(log_path: Path | None):
    """Keep the real stdout for events; send fd 1 and 2 (and Python's streams) to the log file."""
    events = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    if log_path == Path("-"):
        target = os.fdopen(os.dup(2), "w", encoding="utf-8", buffering=1)
    else:
        target = open(log_path, "a", encoding="utf-8", buffering=1) if log_path else open(os.devnull, "w")
    os.dup2(target.fileno(), 1)
    os.dup2(target.fileno(), 2)
    sys.stdout = sys.stderr = target
    logging.basicConfig(stream=target, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        force=True)
    return events


def _parse_args(argv: list[str]) -> tuple[list[str], bool, int | None, bool]:
    positional, watch_stdin, parent, on_term = [], False, None, False
    it = iter(argv)
    for a in it:
        if a == "--watch-stdin":
            watch_stdin = True
        elif a == "--stop-on-term":
            on_term = True
        elif a == "--parent":
            parent = int(next(it))
        else:
            positional.append(a)
    return positional, watch_stdin, parent, on_term


def _load(spec_path: Path) -> JobSpec:
    spec = JobSpec.from_json(spec_path.read_text(encoding="utf-8"), known_kinds_only=False)
    if spec.kind not in KINDS:
        raise JobFailure(msg("this QuantDesk cannot run {kind!r} jobs (a newer version made it)", kind=spec.kind),
                         hint=msg("update QuantDesk"), bad_input=True)
    if rel := spec.relative_paths():
        raise JobFailure(msg("relative paths in the job spec: {paths}", paths=", ".join(rel)),
                         hint=msg("job specs hold absolute paths; the CLI and panels make them absolute"),
                         bad_input=True)
    return spec


def run(spec_path: Path, emitter: Emitter) -> int:
    spec: JobSpec | None = None
    try:
        spec = _load(spec_path)
        log.info("job %s (%s) starting in pid %d", spec.id, spec.kind, os.getpid())
        module, func = KINDS[spec.kind].handler.split(":")
        summary = getattr(importlib.import_module(module), func)(spec, emitter)
    except JobCancelled as exc:
        emitter.cancelled(str(exc))
        code = p.EXIT_CANCELLED
    except JobFailure as exc:
        emitter.error(str(exc), hint=exc.hint, bad_input=exc.bad_input)
        code = p.EXIT_BAD_INPUT if exc.bad_input else p.EXIT_FAILED
    except ModuleNotFoundError as exc:
        frozen = getattr(sys, "frozen", False)
        emitter.error(msg("this job needs {module}, which is not installed where jobs run", module=exc.name),
                      hint=msg("install the ML runtime: quantdesk runtime install (or the Environment panel's fix)")
                      if frozen else msg("install the ml extra: pip install -e '.[ml]'"),
                      traceback=traceback.format_exc())
        code = p.EXIT_FAILED
    except MemoryError:
        emitter.error(msg("out of memory"), hint=msg("use fewer calibration samples or a shorter sequence length, "
                                                     "or close other programs"), traceback=traceback.format_exc())
        code = p.EXIT_FAILED
    except OSError as exc:
        hint = msg("free disk space or pick another output folder") if getattr(exc, "errno", None) == 28 else ""
        emitter.error(f"{type(exc).__name__}: {exc}", hint=hint, traceback=traceback.format_exc())
        code = p.EXIT_FAILED
    except Exception as exc:
        log.exception("job failed")
        emitter.error(f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
        code = p.EXIT_FAILED
    else:
        emitter.result(True, summary)
        return p.EXIT_OK
    if spec is not None and spec.out:
        discard_partial(spec.out)
    return code


def _stop_on_term(watch: StopWatch, give_up) -> None:
    """SIGTERM asks the job to stop; if its next step does not come before the sender's SIGKILL (Ray's
    RAY_JOB_STOP_WAIT_TIME_S), the partial output is removed and the runner exits first."""
    import signal
    import threading

    wait = float(os.environ.get("RAY_JOB_STOP_WAIT_TIME_S") or 3)

    def on_term(signum, frame) -> None:
        watch.request(CANCELLED)
        timer = threading.Timer(max(0.5, wait - 2), give_up)
        timer.daemon = True
        timer.start()

    signal.signal(signal.SIGTERM, on_term)


def main(argv: list[str]) -> int:
    args, watch_stdin, parent, on_term = _parse_args(argv)
    if not args:
        print("usage: python -m services.jobs.runner SPEC.json [LOG_FILE] [--watch-stdin] [--parent PID]",
              file=sys.stderr)
        return p.EXIT_BAD_INPUT
    spec_path = Path(args[0])
    stream = _redirect_output(Path(args[1]) if len(args) > 1 else None)

    def orphaned() -> None:  # the job did not reach its next step within the grace time
        log.warning("the job did not stop by itself; stopping it (%s)", watch.requested())
        try:
            spec = JobSpec.from_json(spec_path.read_text(encoding="utf-8"), known_kinds_only=False)
            if spec.out:
                discard_partial(spec.out)
        finally:
            if os.name != "nt" and os.getpgid(0) == os.getpid():  # our own group: take the tools we started along
                process.kill_group(os.getpid())
            os._exit(p.EXIT_CANCELLED)

    watch = StopWatch(stdin_fd=sys.stdin.fileno() if watch_stdin else None, cancel_file=cancel_file(spec_path),
                      parent_pid=parent, on_orphan=orphaned, ancestor=ray_supervisor() if on_term else None)
    if on_term:
        _stop_on_term(watch, orphaned)
        log.info("stops with the Ray job supervisor %s", ray_supervisor())
    try:
        return run(spec_path, Emitter(stream, watch.requested))
    finally:
        watch.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
