"""The "export" job: check again, build into `<out>.partial`, verify, record target.json, move into place."""
from __future__ import annotations

import json
import time
from pathlib import Path

from services.jobs.events import Emitter, JobFailure
from services.jobs.outputs import MARKER, commit, make_partial
from services.jobs.spec import JobSpec
from services.messages import msg
from services.targets.base import BuildInputs, Verdict
from services.targets.preflight import check_export
from services.targets.registry import get_target

RECORD = "target.json"


def run(spec: JobSpec, events: Emitter) -> dict:
    started = time.monotonic()
    params = dict(spec.params)
    name = params.pop("target", "")
    overwrite, force = bool(params.pop("overwrite", False)), bool(params.pop("force", False))
    out = Path(str(spec.out))
    events.stage("check", msg("checking {model} for the {target} target", model=Path(spec.model).name, target=name))
    c = check_export(spec.model, out, name, params, overwrite=overwrite, force=force)
    for w in c.warnings:
        events.log(w, "WARNING")
    if not c.ok or c.source is None:
        raise JobFailure(c.errors[0], hint="; ".join(c.errors[1:]), bad_input=True)
    target = get_target(name)
    partial = make_partial(out)
    b = BuildInputs(c.source, c.params, c.gpu, Verdict(c.errors, c.warnings, c.notes, c.info), partial, out,
                    spec.id)
    built = target.build(b, events)
    events.check()
    events.stage("verify", msg("checking the {target} output", target=target.title))
    verify = target.verify(b, events)
    if not verify.get("ok"):
        raise JobFailure(msg("the {target} output did not pass its check: {problems}", target=target.title,
                             problems="; ".join(verify.get("problems") or [json.dumps(verify)[:300]])))
    src = c.source
    record = {
        "tool": "quantdesk", "kind": "export", "job_id": spec.id, "target": name,
        "input": {"model": str(src.model), "format": src.fmt.describe(), "source_of": c.params.get("source_of"),
                  "architecture": src.shape.architecture if src.shape else None},
        "params": c.params, "gpu": c.gpu.__dict__ if c.gpu else None,
        "plan": c.info.get("sizing"), "command": built.get("command"), "files": built.get("files", []),
        "built": {k: v for k, v in built.items() if k not in ("command", "files")},
        "verify": verify, "notes": c.notes, "warnings": c.warnings,
        "duration_s": round(time.monotonic() - started, 2),
    }
    (partial / RECORD).write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    (partial / MARKER).write_text(json.dumps({"tool": "quantdesk", "kind": "export", "job_id": spec.id,
                                              "record": RECORD}, indent=2), encoding="utf-8")
    events.check()
    commit(partial, out)
    events.artifact(str(out), "export")
    return {"out": str(out), "target": name, "command": built.get("command"), "files": built.get("files", []),
            "verify": verify, "notes": c.notes, "warnings": c.warnings, "duration_s": record["duration_s"]}
