"""Where a model stands on the path model -> calibration data -> quantize -> evaluate -> export/serve,
read from the job store's records (the Overview panel shows it; nothing here runs a job).

Records come from any QuantDesk version and from hand-edited stores: every field read here is checked, and
a field of the wrong type counts as missing, never as an error of the page."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from services.evaluate.verdict import RANK, Thresholds, verdict
from services.messages import msg

if TYPE_CHECKING:  # the store (sqlite3 and all) loads when the records are read, not with the page
    from services.jobs.store import JobRecord

STEPS = ("model", "calibrate", "quantize", "evaluate", "deploy")
# a step's state: done, running, failed, attention (done, but look before you go on), todo, blocked (an earlier
# step is missing)
STATES = ("done", "running", "failed", "attention", "todo", "blocked")
DETAIL_CHARS = 400  # a detail line longer than this is cut (the panel's tooltip has it whole)


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


def normalized(path: str) -> str:
    """`path` as the page compares and remembers it: ~ expanded, no trailing separator, no ./ or //."""
    path = os.path.expanduser(path.strip())
    return os.path.normpath(path) if path else ""


def same_path(a: object, b: object) -> bool:
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return False
    return os.path.normcase(normalized(a)) == os.path.normcase(normalized(b))


def _params(r: JobRecord) -> dict:
    return r.spec.params if isinstance(r.spec.params, dict) else {}


def _result(r: JobRecord) -> dict:
    return r.result if isinstance(r.result, dict) else {}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def known_models(records: Iterable[JobRecord]) -> list[str]:
    """The source models of the store's jobs, the most recently used first (a quantize job's output is not
    a source: it is shown under the model it was made from)."""
    records = sorted(records, key=lambda r: -r.created)
    outputs = [r.out for r in records if r.kind == "quantize" and r.out]
    seen: list[str] = []
    for r in records:
        if r.kind not in ("quantize", "eval", "scan") or not r.model or r.model == "-" or r.spec.remote:
            continue
        source = _params(r).get("baseline") if r.kind == "eval" else r.model
        if isinstance(source, str) and source and not any(same_path(source, o) for o in outputs) \
                and not any(same_path(source, s) for s in seen):
            seen.append(source)
    return seen


def source_of(folder: str, records: Iterable[JobRecord]) -> str | None:
    """The model a local quantize job made `folder` from (None: `folder` is no quantize job's output)."""
    r = next((r for r in sorted(records, key=lambda r: -r.created)
              if r.kind == "quantize" and not r.spec.remote and same_path(r.out, folder)), None)
    return r.model if r else None


def model_status(model: str, records: Iterable[JobRecord],
                 describe: Callable[[str], str] | None = None,
                 exists: Callable[[str], bool] = os.path.isdir) -> ModelStatus:
    """The five steps of `model` (a source folder). `describe(folder)` gives the model's one line, or raises
    with what is wrong (default: its config's line, services/modelinfo.py); `exists` checks an output is
    still there."""
    records = sorted(records, key=lambda r: -r.created)
    mine = [r for r in records if not r.spec.remote]
    steps = [_model_step(model, describe or _describe)]
    quantizes = [r for r in mine if r.kind == "quantize" and same_path(r.model, model)]
    latest = quantizes[0] if quantizes else None
    done = next((r for r in quantizes if r.status == "succeeded" and r.out), None)
    output = done.out if done else None
    steps.append(_calibrate_step(latest))
    steps.append(_quantize_step(latest, done, exists))
    steps.append(_evaluate_step(output, mine))
    steps.append(_deploy_step(output, mine))
    if steps[0].state == "failed":  # nothing after a missing model can be done
        for s in steps[1:]:
            if s.state == "todo":
                s.state = "blocked"
    for s in steps:
        if len(s.detail) > DETAIL_CHARS:
            s.detail = s.detail[:DETAIL_CHARS - 1] + "…"
    jobs = [r.id for r in mine if same_path(r.model, model) or (output and same_path(r.model, output))
            or (r.kind == "eval" and same_path(_params(r).get("baseline"), model))]
    return ModelStatus(model, steps, output, jobs)


def _describe(folder: str) -> str:
    from services.modelinfo import model_line, read_model_shape

    return model_line(read_model_shape(folder))


def _model_step(model: str, describe: Callable[[str], str]) -> Step:
    if not os.path.isabs(os.path.expanduser(model.strip())):
        return Step("model", "failed", msg("{path} is a relative path: give the model folder's full path",
                                           path=model))
    try:
        return Step("model", "done", describe(normalized(model)))
    except Exception as exc:  # the reader's message says what to change
        return Step("model", "failed", str(exc))


def _running(r: JobRecord) -> str:
    if r.status == "queued":
        return msg("queued")
    done, total = _number(r.done), _number(r.total)
    pct = f"{100 * done / total:.0f}%" if done is not None and total else "…"
    if r.message:
        return msg("running: {progress}, {message}", progress=pct, message=r.message)
    return msg("running: {progress}", progress=pct)


def _ended(r: JobRecord) -> str:
    """Why a job that did not succeed ended, in a sentence."""
    if r.status == "cancelled":
        return msg("the job was cancelled")
    if r.status == "interrupted":
        return msg("the job was interrupted (QuantDesk closed or the machine restarted)")
    first = r.error.splitlines()[0] if isinstance(r.error, str) and r.error.strip() else "?"
    return msg("the job failed: {error}", error=first)


def _calibrate_step(q: JobRecord | None) -> Step:
    if q is None:
        return Step("calibrate", "todo", msg("pick a calibration set (pileval, or your own text) in Quantize; "
                                             "preview it in Datasets"))
    p = _params(q)
    calib, samples, seqlen = p.get("calib"), p.get("samples"), p.get("seqlen")
    if not isinstance(calib, str) or not isinstance(samples, int) or not isinstance(seqlen, int):
        used = msg("the job did not record its calibration settings")
    else:
        used = msg("{dataset}: {samples} samples × {seqlen} tokens", dataset=os.path.basename(calib) or calib,
                   samples=samples, seqlen=seqlen)
    if q.status in ("queued", "running"):
        return Step("calibrate", "running", used, q.id)
    error = q.error if isinstance(q.error, str) else ""
    if q.status == "failed" and "calib" in error.lower():
        return Step("calibrate", "failed", f"{used}; {_ended(q)}", q.id)  # "; ": translated part by part
    return Step("calibrate", "done", used, q.id)  # chosen; a quantize job that failed otherwise is the next step


def _what(q: JobRecord) -> str:
    p = _params(q)
    method, bits, group = p.get("method"), p.get("bits"), p.get("group_size")
    if isinstance(method, str) and isinstance(bits, int) and isinstance(group, int):
        return msg("{method} {bits}-bit, group size {group}", method=method.upper(), bits=bits, group=group)
    if isinstance(method, str) and method:
        return method.upper()
    return msg("quantize job {job}", job=q.id)


def _quantize_step(latest: JobRecord | None, done: JobRecord | None, exists: Callable[[str], bool]) -> Step:
    if latest is None:
        return Step("quantize", "todo", msg("not quantized yet"))
    what = _what(latest)
    if latest.status in ("queued", "running"):
        return Step("quantize", "running", f"{what}; {_running(latest)}", latest.id)
    if latest.status != "succeeded":
        text = f"{what}; {_ended(latest)}"
        if done is not None:  # the later steps are about an earlier output: say which
            text += "; " + msg("the steps below use the earlier output {out}", out=done.out)
        return Step("quantize", "todo" if latest.status == "cancelled" else "failed", text, latest.id)
    assert done is not None
    if not exists(str(done.out)):
        return Step("quantize", "attention", f"{what}; " + msg("its output {out} is no longer there: quantize "
                                                             "again, or put the folder back", out=done.out), done.id)
    ratio = _number(_result(done).get("ratio"))
    if ratio:
        return Step("quantize", "done", msg("{what} -> {out}, {times:.1f}x smaller", what=what, out=done.out,
                                            times=ratio), done.id)
    return Step("quantize", "done", msg("{what} -> {out}", what=what, out=done.out), done.id)


def _variants(r: JobRecord) -> list[dict]:
    variants = _result(r).get("variants")
    return [v for v in variants if isinstance(v, dict)] if isinstance(variants, list) else []


def _evaluate_step(output: str | None, records: list[JobRecord]) -> Step:
    if output is None:
        return Step("evaluate", "blocked", msg("after a quantize job succeeds"))
    e = next((r for r in records if r.kind == "eval" and (same_path(r.model, output) or any(
        same_path(v.get("model"), output) for v in _variants(r)))), None)
    if e is None:
        return Step("evaluate", "todo", msg("not evaluated yet: compare it with the source model"))
    if e.status in ("queued", "running"):
        return Step("evaluate", "running", _running(e), e.id)
    if e.status != "succeeded":
        return Step("evaluate", "todo" if e.status == "cancelled" else "failed", _ended(e), e.id)
    worst: tuple[str, str] | None = None
    for v in _variants(e):
        if v.get("baseline") is True:
            continue
        delta, agreement = _number(v.get("delta_pct")), _number(v.get("agreement"))
        kv = v["kv"] if isinstance(v.get("kv"), str) else "fp16"
        if delta is None and agreement is not None:  # no perplexity: the answers alone decide
            level, text = _by_answers(agreement)
        else:
            level, text = verdict(delta, kv, False, agreement=agreement)
        if level in RANK and (worst is None or RANK[level] > RANK[worst[0]]):
            worst = (level, text)
    if worst is None:
        return Step("evaluate", "todo", msg("evaluated without a baseline: compare it with the source model"), e.id)
    return Step("evaluate", "done" if worst[0] == "fine" else "attention", worst[1], e.id)


def _by_answers(agreement: float, t: Thresholds = Thresholds()) -> tuple[str, str]:
    if agreement >= t.agree_fine:
        return "fine", msg("the answers agree {agree:.0%} with the baseline's: fine", agree=agreement)
    if agreement >= t.agree_caution:
        return "caution", msg("the answers agree only {agree:.0%} with the baseline's: compare answers before "
                              "shipping", agree=agreement)
    return "bad", msg("the answers agree only {agree:.0%} with the baseline's: do not ship these weights",
                      agree=agreement)


def _deploy_step(output: str | None, records: list[JobRecord]) -> Step:
    if output is None:
        return Step("deploy", "blocked", msg("after a quantize job succeeds"))
    d = next((r for r in records if r.kind in ("export", "serve") and same_path(r.model, output)), None)
    if d is None:
        return Step("deploy", "todo", msg("not exported or served yet"))
    if d.status in ("queued", "running"):
        return Step("deploy", "running", _running(d), d.id)
    result = _result(d)
    state = "todo" if d.status == "cancelled" else "failed"
    if d.kind == "serve":
        if d.status != "succeeded":
            return Step("deploy", state, msg("serving: {why}", why=_ended(d)), d.id)
        verdict_word = result.get("verdict") if isinstance(result.get("verdict"), str) else None
        return Step("deploy", "done" if verdict_word in (None, "pass") else "attention",
                    msg("served; chat smoke test: {verdict}", verdict=verdict_word or "-"), d.id)
    if d.status != "succeeded":
        return Step("deploy", state, msg("export: {why}", why=_ended(d)), d.id)
    target = result.get("target") if isinstance(result.get("target"), str) else None
    out = result.get("out") if isinstance(result.get("out"), str) else d.out
    if target:
        return Step("deploy", "done", msg("exported for {target} -> {out}", target=target, out=out), d.id)
    return Step("deploy", "done", msg("exported -> {out}", out=out), d.id)
