"""Evaluation results as Markdown and CSV, with a verdict per variant."""
from __future__ import annotations

import csv
import io

from services.evaluate.verdict import Thresholds, verdict

COLUMNS = ("name", "model", "kv", "perplexity", "delta_pct", "agreement", "tokens", "seconds", "verdict")


def rows(summary: dict, t: Thresholds = Thresholds()) -> list[dict]:
    out = []
    for v in summary["variants"]:
        out.append({**{k: v.get(k) for k in COLUMNS if k != "verdict"},
                    "verdict": verdict(v.get("delta_pct"), v["kv"], v.get("baseline", False), t)[1]})
    return out


def to_csv(summary: dict, t: Thresholds = Thresholds()) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows(summary, t):
        w.writerow(r)
    return buf.getvalue()


def to_markdown(summary: dict, t: Thresholds = Thresholds()) -> str:
    lines = ["# QuantDesk evaluation", "",
             f"{summary['tokens']} tokens of `{summary['text']}`, context {summary['context']}, "
             f"stride {summary['stride']}, device {summary['device']}.", "",
             "| Variant | KV | Perplexity | Δ vs baseline | Agreement | Tokens | Time (s) | Verdict |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for r in rows(summary, t):
        delta = "" if r["delta_pct"] is None else f"{r['delta_pct']:+.2f}%"
        agree = "" if r["agreement"] is None else f"{r['agreement']:.0%}"
        lines.append(f"| {r['name']} | {r['kv']} | {r['perplexity']:.3f} | {delta} | {agree} | {r['tokens']} | "
                     f"{r['seconds']:.1f} | {r['verdict']} |")
    for a in summary.get("answers", []):
        lines += ["", f"## {a['prompt']}", ""]
        for name, o in a["outputs"].items():
            div = "" if o["first_divergence"] is None else f" (differs from token {o['first_divergence']})"
            lines.append(f"- **{name}**{div}: {o['text'].strip()}")
    return "\n".join(lines) + "\n"
