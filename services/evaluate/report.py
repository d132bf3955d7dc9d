"""Evaluation results as Markdown and CSV, with a verdict per variant."""
from __future__ import annotations

import csv
import io

from services.evaluate.precision import group_text
from services.evaluate.verdict import Thresholds, verdict

COLUMNS = ("name", "model", "kv", "perplexity", "delta_pct", "agreement", "tokens", "seconds", "verdict")
# added after the others when the summary has simulated precisions (--precision)
PRECISION_COLUMNS = ("precision", "group_size", "delta_w4a16_pct", "agreement_w4a16")


def columns(summary: dict) -> tuple[str, ...]:
    return COLUMNS + (PRECISION_COLUMNS if any(v.get("precision") for v in summary["variants"]) else ())


def what(v: dict) -> str | None:
    """What a verdict tells not to ship: a simulated precision by its name, else the KV policy or the weights."""
    p = v.get("precision")
    return f"{p.upper()} {group_text(v['group_size'])}" if p else None


def rows(summary: dict, t: Thresholds = Thresholds()) -> list[dict]:
    out = []
    for v in summary["variants"]:
        out.append({**{k: v.get(k) for k in columns(summary) if k != "verdict"},
                    "verdict": verdict(v.get("delta_pct"), v["kv"], v.get("baseline", False), t, what(v),
                                       v.get("agreement"))[1]})
    return out


def _pct(x) -> str:
    return "" if x is None else f"{x:+.2f}%"


def _share(x) -> str:
    return "" if x is None else f"{x:.0%}"


def precision_table(summary: dict) -> list[str]:
    """Markdown lines comparing the simulated precisions with fp16 and W4A16 (none without them)."""
    sims = [v for v in summary["variants"] if v.get("precision")]
    if not sims:
        return []
    lines = ["", "## Simulated precisions", "",
             "Weights round-to-nearest, activations 8-bit per token, KV cache as named; on a copy of the fp model.", "",
             "| Precision | Groups | KV | Perplexity | Δ vs baseline | Δ vs W4A16 | Agreement vs baseline "
             "| Agreement vs W4A16 |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for v in sims:
        lines.append(f"| {v['precision'].upper()} | {group_text(v['group_size'])} | {v['kv']} | "
                     f"{v['perplexity']:.3f} | "
                     f"{_pct(v.get('delta_pct'))} | {_pct(v.get('delta_w4a16_pct'))} | {_share(v.get('agreement'))} | "
                     f"{_share(v.get('agreement_w4a16'))} |")
    return lines


def to_csv(summary: dict, t: Thresholds = Thresholds()) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns(summary), lineterminator="\n")
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
    lines += precision_table(summary)
    for a in summary.get("answers", []):
        lines += ["", f"## {a['prompt']}", ""]
        for name, o in a["outputs"].items():
            div = "" if o["first_divergence"] is None else f" (differs from token {o['first_divergence']})"
            lines.append(f"- **{name}**{div}: {o['text'].strip()}")
    return "\n".join(lines) + "\n"
