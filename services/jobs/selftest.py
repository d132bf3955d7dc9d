"""A job that exercises the runner protocol without the ML stack: `quantdesk jobs selftest`.

Params: steps (int), step_s (float), fail_at (int or None), out (writes <out>.partial then renames).
Used to check that jobs start, report, cancel and fail cleanly on a machine.
"""
from __future__ import annotations

import os
import time

from services.jobs.events import Emitter, Eta, JobFailure
from services.jobs.outputs import commit, make_partial
from services.jobs.spec import JobSpec
from services.messages import msg


def run(spec: JobSpec, events: Emitter) -> dict:
    steps = int(spec.params.get("steps", 5))
    step_s = float(spec.params.get("step_s", 0.05))
    fail_at = spec.params.get("fail_at")
    partial = make_partial(spec.out) if spec.out else None
    events.stage("selftest", msg("{steps} steps of {seconds} s", steps=steps, seconds=step_s))
    print("library chatter that must go to the log, not to the event stream")
    os.write(1, b"C-level chatter on fd 1\n")
    eta = Eta(steps)
    for i in range(steps):
        if fail_at is not None and i == int(fail_at):
            raise JobFailure(msg("selftest failed at step {step} as asked", step=i),
                             hint=msg("this is what a failure looks like"))
        time.sleep(step_s)
        if partial:
            (partial / f"step{i}.txt").write_text(str(i))
        events.progress(i + 1, steps, "step", f"step {i + 1}", eta.remaining(i + 1))
    if partial and spec.out:
        commit(partial, spec.out)
        events.artifact(spec.out, "folder")
    return {"steps": steps, "pid": os.getpid()}
