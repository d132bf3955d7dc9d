"""Compare methods: one model quantized with several methods (same calibration tokens), then one
evaluation of every output that succeeded against the source, on the same held-out tokens and prompts.

`plan_compare` checks everything up front and returns the member jobs and the final job's factory;
`comparison_rows` reads the table back from the group's job records (live or from history).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.evaluate.settings import EvalSettings
from services.jobs.group import new_group_id
from services.jobs.kinds import is_dataset_name
from services.jobs.spec import JobSpec
from services.jobs.store import JobRecord
from services.messages import msg
from services.quant.backends import get_backend, methods
from services.quant.preflight import preflight

DEFAULT_METHODS = ("awq", "gptq", "w8a8", "fp8-dynamic")
# The settings every method shares; each method's own settings keep their defaults (group size aside).
SHARED = ("calib", "samples", "seqlen", "calib_mode", "seed", "device", "dtype", "trust_remote_code",
          "overwrite", "force")


@dataclass
class ComparePlan:
    group: str
    members: list[JobSpec]
    evaluation: EvalSettings

    def final(self, succeeded: list[JobRecord]) -> JobSpec:
        """The eval job over the outputs that were made (the source is the baseline)."""
        outs = [r.out for r in succeeded if r.out]
        ev = EvalSettings(**{**self.evaluation.to_dict(), "also": outs[1:]})
        return JobSpec(kind="eval", model=outs[0], params=ev.to_dict(), group=self.group)


def method_label(params: dict) -> str:
    """e.g. "gptq g128", "awq g64 (llmcompressor)", "fp8-dynamic"."""
    method = params.get("method", "awq")
    label = method + (f" g{params['group_size']}" if params.get("group_size") and method in ("awq", "gptq") else "")
    default = get_backend(None, method).name if method in methods() else None
    return label + (f" ({params['backend']})" if params.get("backend") not in (None, default) else "")


def plan_compare(model: Path, chosen: list[str], out_dir: Path, shared: dict, text: str, *, group_size: int = 128,
                 context: int = 512, max_tokens: int = 16384, answers: bool = True) -> ComparePlan:
    """The jobs of one comparison; ValueError naming every problem (paths must be absolute)."""
    problems: list[str] = []
    if not chosen:
        problems.append(msg("tick at least one method ({methods})", methods=", ".join(methods())))
    if len(set(chosen)) != len(chosen):
        problems.append(msg("each method once"))
    problems += [f"unknown method {m!r}; methods: {', '.join(methods())}" for m in chosen if m not in methods()]
    if not text.strip():
        problems.append(msg("give held-out text for perplexity (a file or a dataset name)"))
    elif not is_dataset_name(text) and not Path(text).exists():
        problems.append(msg("the held-out text {text} does not exist: pick a file, a folder or a dataset name", text=text))
    if problems:
        raise ValueError("; ".join(problems))
    group = new_group_id("compare")
    members = []
    for method in chosen:
        backend = get_backend(None, method)
        params = {k: shared[k] for k in SHARED if k in shared}
        params.update(method=method, backend=backend.name)
        if any(st.name == "group_size" and st.applies(method) for st in backend.schema):
            params["group_size"] = group_size
        s = backend.settings(params)
        out = out_dir / f"{model.name}-{method}"
        report = preflight(model, out, s)
        problems += [f"{method}: {e}" for e in report.errors]
        members.append(JobSpec(kind="quantize", model=str(model), out=str(out), params=s.to_dict(), group=group))
    ev = EvalSettings(baseline=str(model), text=text, context=context, max_tokens=max_tokens, answers=answers,
                      device=shared.get("device", "auto"))
    problems += ev.problems()
    if problems:
        raise ValueError("; ".join(problems))
    return ComparePlan(group, members, ev)


def comparison_rows(records: list[JobRecord]) -> list[dict]:
    """One row for the source and one per method, from a group's records (any of them may still run)."""
    quantize = [r for r in records if r.kind == "quantize"]
    evals = [r for r in records if r.kind == "eval"]
    scored = {}
    ev = evals[-1] if evals else None
    if ev is not None and ev.status == "succeeded" and ev.result:
        scored = {v["model"]: v for v in ev.result.get("variants", []) if not v.get("kv") or v["kv"] == "fp16"}
    rows = []
    if ev is not None:
        base = ev.spec.params.get("baseline")
        src = scored.get(base, {})
        rows.append({"method": "source", "job": None, "status": ev.status, "folder": base,
                     "output_bytes": _first(quantize, "input_bytes"), "quantize_s": None,
                     "perplexity": src.get("perplexity"), "delta_pct": 0.0 if src else None,
                     "agreement": None, "error": None})
    for r in quantize:
        q = r.result or {}
        v = scored.get(r.out or "", {})
        rows.append({"method": method_label(r.spec.params), "job": r.id, "status": r.status, "folder": r.out,
                     "output_bytes": q.get("output_bytes"), "quantize_s": q.get("quantize_s"),
                     "perplexity": v.get("perplexity"), "delta_pct": v.get("delta_pct"),
                     "agreement": v.get("agreement"), "error": r.error})
    return rows


def evaluation_record(records: list[JobRecord]) -> JobRecord | None:
    evals = [r for r in records if r.kind == "eval"]
    return evals[-1] if evals else None


def _first(records: list[JobRecord], key: str):
    for r in records:
        if r.result and r.result.get(key) is not None:
            return r.result[key]
    return None
