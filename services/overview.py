"""Where a model stands on the path model -> calibration data -> quantize -> evaluate -> export/serve,
read from the job store's records (the Overview panel shows it; nothing here runs a job)."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from services.evaluate.verdict import RANK, verdict
from services.jobs.store import JobRecord
from services.messages import msg

STEPS = ("model", "calibrate", "quantize", "evaluate", "deploy")
# a step's state: done, running, failed, attention (done, but look before you go on), todo, blocked (an earlier
# step is missing)
STATES = ("done", "running", "failed", "attention", "todo", "blocked")


@dataclass
class Step:
    id: str
    state: str
    detail: str
    job_id: str | None = None


@dataclass
class ModelStatus:
    model: str
    steps: list[Step]
    output: str | None = None  # the quantized folder the later steps are about
    jobs: list[str] = field(default_factory=list)  # this model's jobs, newest first

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    @property
    def next_step(self) -> str | None:
        """The first step that still needs the user (None: all done)."""
        return next((s.id for s in self.steps if s.state in ("todo", "failed", "attention")), None)


def same_path(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    norm = lambda p: os.path.normcase(os.path.normpath(p.rstrip("/\\")))  # noqa: E731
    return norm(a) == norm(b)


def known_models(records: Iterable[JobRecord]) -> list[str]:
    """The source models of the store's jobs, the most recently used first (a quantize job's output is not
    a source: it is shown under the model it was made from)."""
    records = sorted(records, key=lambda r: -r.created)
    outputs = [r.out for r in records if r.kind == "quantize" and r.out]
    seen: list[str] = []
    for r in records:
        if r.kind not in ("quantize", "eval", "scan") or not r.model or r.model == "-" or r.spec.remote:
            continue
        source = r.spec.params.get("baseline") if r.kind == "eval" else r.model
        if source and not any(same_path(source, o) for o in outputs) and not any(same_path(source, s) for s in seen):
            seen.append(source)
    return seen


def model_status(model: str, records: Iterable[JobRecord],
                 describe: Callable[[str], str] | None = None) -> ModelStatus:
    """The five steps of `model` (a source folder). `describe(folder)` gives the model's one line, or raises
    with what is wrong (default: its config's line, services/modelinfo.py)."""
    records = sorted(records, key=lambda r: -r.created)
    mine = [r for r in records if not r.spec.remote]
    steps = [_model_step(model, describe or _describe)]
    quantize = next((r for r in mine if r.kind == "quantize" and same_path(r.model, model)), None)
    steps.append(_calibrate_step(quantize))
    steps.append(_quantize_step(quantize))
    done = next((r for r in mine if r.kind == "quantize" and same_path(r.model, model) and r.status == "succeeded"),
                None)
    output = done.out if done else None
    steps.append(_evaluate_step(output, model, mine))
    steps.append(_deploy_step(output, mine))
    if steps[0].state == "failed":  # nothing after a missing model can be done
        for s in steps[1:]:
            if s.state == "todo":
                s.state = "blocked"
    jobs = [r.id for r in mine if same_path(r.model, model) or (output and same_path(r.model, output))
            or (r.kind == "eval" and same_path(r.spec.params.get("baseline"), model))]
    return ModelStatus(model, steps, output, jobs)


def _describe(folder: str) -> str:
    from services.modelinfo import model_line, read_model_shape

    return model_line(read_model_shape(folder))


def _model_step(model: str, describe: Callable[[str], str]) -> Step:
    try:
        return Step("model", "done", describe(model))
    except Exception as exc:  # the reader's message says what to change
        return Step("model", "failed", str(exc))


def _running(r: JobRecord) -> str:
    if r.status == "queued":
        return msg("queued")
    pct = f"{100 * r.done / r.total:.0f}%" if r.total else "…"
    if r.message:
        return msg("running: {progress}, {message}", progress=pct, message=r.message)
    return msg("running: {progress}", progress=pct)


def _ended(r: JobRecord) -> str:
    """Why a job that did not succeed ended, in a sentence."""
    if r.status == "cancelled":
        return msg("the job was cancelled")
    if r.status == "interrupted":
        return msg("the job was interrupted (QuantDesk closed or the machine restarted)")
    return msg("the job failed: {error}", error=(r.error or "").splitlines()[0] if r.error else "?")


def _calibrate_step(q: JobRecord | None) -> Step:
    if q is None:
        return Step("calibrate", "todo", msg("pick a calibration set (pileval, or your own text) in Quantize; "
                                             "preview it in Datasets"))
    p = q.spec.params
    return Step("calibrate", "done", msg("{dataset}: {samples} samples × {seqlen} tokens",
                                         dataset=os.path.basename(str(p.get("calib", "pileval"))),
                                         samples=p.get("samples", 128), seqlen=p.get("seqlen", 512)), q.id)


def _quantize_step(q: JobRecord | None) -> Step:
    if q is None:
        return Step("quantize", "todo", msg("not quantized yet"))
    p = q.spec.params
    what = msg("{method} {bits}-bit, group size {group}", method=str(p.get("method", "awq")).upper(),
               bits=p.get("bits", 4), group=p.get("group_size", 128))
    if q.status in ("queued", "running"):
        return Step("quantize", "running", f"{what}: {_running(q)}", q.id)
    if q.status != "succeeded":
        return Step("quantize", "failed", f"{what}: {_ended(q)}", q.id)
    ratio = (q.result or {}).get("ratio")
    if ratio:
        return Step("quantize", "done", msg("{what} -> {out}, {times:.1f}x smaller", what=what, out=q.out,
                                            times=ratio), q.id)
    return Step("quantize", "done", msg("{what} -> {out}", what=what, out=q.out), q.id)


def _evaluate_step(output: str | None, model: str, records: list[JobRecord]) -> Step:
    if output is None:
        return Step("evaluate", "blocked", msg("after a quantize job succeeds"))
    e = next((r for r in records if r.kind == "eval" and (same_path(r.model, output) or any(
        same_path(v.get("model"), output) for v in (r.result or {}).get("variants", [])))), None)
    if e is None:
        return Step("evaluate", "todo", msg("not evaluated yet: compare it with the source model"))
    if e.status in ("queued", "running"):
        return Step("evaluate", "running", _running(e), e.id)
    if e.status != "succeeded":
        return Step("evaluate", "failed", _ended(e), e.id)
    worst: tuple[str, str] | None = None
    for v in (e.result or {}).get("variants", []):
        if v.get("baseline"):
            continue
        level, text = verdict(v.get("delta_pct"), v.get("kv", "fp16"), False, agreement=v.get("agreement"))
        if level in RANK and (worst is None or RANK[level] > RANK[worst[0]]):
            worst = (level, text)
    if worst is None:
        return Step("evaluate", "todo", msg("evaluated without a baseline: compare it with the source model"), e.id)
    return Step("evaluate", "done" if worst[0] == "fine" else "attention", worst[1], e.id)


def _deploy_step(output: str | None, records: list[JobRecord]) -> Step:
    if output is None:
        return Step("deploy", "blocked", msg("after a quantize job succeeds"))
    d = next((r for r in records if r.kind in ("export", "serve") and same_path(r.model, output)), None)
    if d is None:
        return Step("deploy", "todo", msg("not exported or served yet"))
    if d.status in ("queued", "running"):
        return Step("deploy", "running", _running(d), d.id)
    result = d.result or {}
    if d.kind == "serve":
        if d.status != "succeeded":
            return Step("deploy", "failed", msg("serving: {why}", why=_ended(d)), d.id)
        ok = result.get("verdict") in (None, "pass")
        return Step("deploy", "done" if ok else "attention",
                    msg("served; chat smoke test: {verdict}", verdict=result.get("verdict", "-")), d.id)
    if d.status != "succeeded":
        return Step("deploy", "failed", msg("export: {why}", why=_ended(d)), d.id)
    return Step("deploy", "done", msg("exported for {target} -> {out}", target=result.get("target", "?"),
                                      out=result.get("out") or d.out), d.id)
