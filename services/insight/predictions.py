"""Mixed precision predictions, kept so a later measurement can stand beside them (no torch, no Qt).

When the Scan tab (or `quantdesk scan --budget-mb`) hands a keep list on, the prediction is saved in the user
data folder. A quantize job of the same model with the same keep list, whose output an eval job later measured,
is the measurement: `measured` finds it in the job store's records.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from services.paths import user_dirs

LIMIT = 200  # predictions kept (the newest)


def _file() -> Path:
    return user_dirs().data / "scan_predictions.json"


def load() -> list[dict]:
    """Saved predictions, newest last; an unreadable file reads as none."""
    try:
        data = json.loads(_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [d for d in data if isinstance(d, dict) and isinstance(d.get("keep"), list)] if isinstance(data, list) \
        else []


def record(scan_job: str | None, result: dict, adv: dict) -> dict:
    """Save the prediction of advice `adv` from scan `result`; returns what was saved."""
    pred = {"scan_job": scan_job, "model": result.get("model"), "keep": list(adv["keep"]),
            "method": result.get("method", "rtn"), "bits": result.get("bits"), "group_size": result.get("group_size"),
            "base_perplexity": adv["base_perplexity"], "from_perplexity": adv["from_perplexity"],
            "to_perplexity": adv["to_perplexity"], "extra_mb": adv["extra_mb"], "created": time.time()}
    same = [p for p in load() if not (p.get("model") == pred["model"] and sorted(p["keep"]) == sorted(pred["keep"])
                                      and p.get("scan_job") == scan_job)]
    path = _file()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([*same, pred][-LIMIT:], ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return pred


def _same_path(a: str | None, b: str | None) -> bool:
    return bool(a and b) and os.path.normcase(os.path.abspath(str(a))) == os.path.normcase(os.path.abspath(str(b)))


def measured(pred: dict, records: list) -> dict | None:
    """The newest measurement of `pred` among job `records` (JobRecord-like: kind, status, model, out, spec,
    result, id): {"quantize_job", "eval_job", "out", "perplexity", "fp_perplexity"}; None when there is none.
    fp_perplexity is the unquantized model's in the same evaluation, when it was evaluated too."""
    outs = {r.out: r.id for r in records
            if r.kind == "quantize" and r.status == "succeeded" and r.out and _same_path(r.model, pred.get("model"))
            and sorted((r.spec.params or {}).get("keep") or []) == sorted(pred["keep"])}
    for r in records:  # the store lists the newest first
        if r.kind != "eval" or r.status != "succeeded" or not r.result:
            continue
        variants = r.result.get("variants") or []
        for v in variants:
            out = next((o for o in outs if _same_path(o, v.get("model"))), None)
            if out is None or v.get("precision") or v.get("kv") != "fp16":
                continue
            fp = next((w["perplexity"] for w in variants if _same_path(w.get("model"), pred.get("model"))
                       and w.get("kv") == "fp16" and not w.get("precision")), None)
            return {"quantize_job": outs[out], "eval_job": r.id, "out": out, "perplexity": v["perplexity"],
                    "fp_perplexity": fp, "text": r.result.get("text")}
    return None
