"""The quality-size frontier of a model: every variant its finished evaluations scored (real checkpoints, KV
policies, simulated precisions), placed at the bytes it needs to serve one sequence of a chosen context
(weights + KV cache) against its perplexity, with the Pareto front (nothing both smaller and better) marked.

Sizes: a quantized checkpoint counts its weight files on disk; an unquantized one fp16 (2 bytes a parameter,
services/memory); a simulated precision the layout it simulates (W4A16 as AWQ's, W4A8 as QServe's, W8A8 one
byte a weight; services/memory/weights.py). The KV cache is services/memory/kv.py's bytes per token times the
context (fp8 variants as fp8). Perplexities are comparable only on the same text and context, so the points are
grouped by (source model, text, context): one frontier each.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from services.evaluate.precision import PER_CHANNEL, PRECISIONS
from services.messages import msg

# simulated precision -> services/memory weight format
WEIGHT_FORMAT = {"w4a16": "awq4", "w4a8": "w4a8", "w4a8kv4": "w4a8", "w4a8kv8": "w4a8", "w8a8": "w8a8",
                 "w8a8kv4": "w8a8", "w8a8kv8": "w8a8"}
CSV_COLUMNS = ("job", "name", "model", "kv", "precision", "group_size", "perplexity", "weight_bytes", "kv_bytes",
               "total_bytes", "on_front")


@dataclass
class Point:
    job: str
    name: str
    model: str
    source: str  # the unquantized model the variant comes from
    text: str
    context: int  # the evaluation's context (perplexity windows)
    kv: str
    precision: str | None
    group_size: int | None
    perplexity: float
    weight_bytes: int
    kv_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.weight_bytes + self.kv_bytes

    @property
    def family(self) -> tuple[str, str, int]:
        return (self.source, self.text, self.context)


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the (x, y) points no other point dominates (x and y both lower is better; a point is dominated by
    one that is no worse in both and better in one), in order of x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))
    front: list[int] = []
    best_y = float("inf")
    for i in order:
        x, y = points[i]
        if y < best_y:
            front.append(i)
            best_y = y
        elif y == best_y and front and points[front[-1]][0] == x:
            front.append(i)  # the same point twice: neither dominates the other
    return front


def kv_policy(kv: str) -> str:
    return "fp8" if kv.startswith("fp8") else kv


def variant_bytes(v: dict, context: int, disk=None) -> tuple[int, int]:
    """(weight bytes, KV bytes at `context` tokens) of an evaluated variant; ValueError when its model folder
    cannot be read. `disk(folder)` gives a quantized checkpoint's weight bytes (default: its weight files)."""
    from services.checkpoint import checkpoint_format
    from services.memory.kv import kv_bytes_per_token
    from services.memory.weights import weight_bytes
    from services.modelinfo import ModelConfigError, read_config, shape_from_config

    folder = v["model"]
    try:
        shape = shape_from_config(read_config(folder))
    except ModelConfigError as exc:
        raise ValueError(str(exc)) from exc
    kv = kv_bytes_per_token(shape, kv_policy(v["kv"] if isinstance(v.get("kv"), str) else "fp16")) * context
    precision = v.get("precision")
    if precision:
        group = v.get("group_size") or 128
        return weight_bytes(shape, WEIGHT_FORMAT[precision], PER_CHANNEL if group == PER_CHANNEL else group)["total"], kv
    if checkpoint_format(folder).quantized:
        return (disk or _disk_bytes)(folder), kv
    return weight_bytes(shape, "fp16")["total"], kv


def _disk_bytes(folder: str) -> int:
    from services.modelfiles import weight_files

    return sum(f.stat().st_size for f in weight_files(Path(folder)))


def points_from_jobs(records: Iterable, context: int) -> tuple[list[Point], list[str]]:
    """Every variant of the succeeded eval jobs in `records` (JobRecord-like, newest first), sized for `context`
    tokens of KV cache; the newest measurement of a variant wins. Returns (points, why some were left out)."""
    records = list(records)
    source_of = {r.out: r.model for r in records if r.kind == "quantize" and r.status == "succeeded" and r.out}
    points: list[Point] = []
    skipped: list[str] = []
    seen: set[tuple] = set()
    for r in records:
        if r.kind != "eval" or r.status != "succeeded" or not isinstance(r.result, dict):
            continue
        s = r.result
        variants: list = s["variants"] if isinstance(s.get("variants"), list) else []
        for v in variants:
            # a record of another version or a hand-edited store: what cannot be drawn is left out
            if not isinstance(v, dict) or not isinstance(v.get("model"), str) or not isinstance(v.get("name"), str) \
                    or not isinstance(v.get("perplexity"), int | float) or isinstance(v.get("perplexity"), bool):
                continue
            if v.get("precision") and v["precision"] not in WEIGHT_FORMAT:
                continue  # fp16 "precision" is the model itself, already a variant
            key = (v.get("model"), v.get("kv"), v.get("precision"), v.get("group_size"), s.get("text"),
                   s.get("context"))
            if key in seen:
                continue
            seen.add(key)
            try:
                wb, kb = variant_bytes(v, context)
            except (ValueError, OSError) as exc:
                skipped.append(msg("{name} (job {job}): {error}", name=v.get("name"), job=r.id, error=exc))
                continue
            points.append(Point(job=r.id, name=v["name"], model=v["model"], source=str(source_of.get(v["model"]) or v["model"]),
                                text=str(s.get("text")), context=int(s.get("context") or 0),
                                kv=v["kv"] if isinstance(v.get("kv"), str) else "fp16",
                                precision=v.get("precision"), group_size=v.get("group_size"),
                                perplexity=float(v["perplexity"]), weight_bytes=wb, kv_bytes=kb))
    return points, skipped


def families(points: Sequence[Point]) -> list[tuple[str, str, int]]:
    """The (source, text, context) groups, the one with most points first."""
    counts: dict[tuple[str, str, int], int] = {}
    for p in points:
        counts[p.family] = counts.get(p.family, 0) + 1
    return sorted(counts, key=lambda f: -counts[f])


def front_of(points: Sequence[Point]) -> list[int]:
    return pareto_front([(p.total_bytes, p.perplexity) for p in points])


def to_csv(points: Sequence[Point]) -> str:
    on = set(front_of(points))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for i, p in enumerate(points):
        d = asdict(p)
        w.writerow({**{k: d.get(k) for k in CSV_COLUMNS if k in d}, "total_bytes": p.total_bytes,
                    "on_front": i in on})
    return buf.getvalue()


def label(p: Point) -> str:
    """A short name for a point: the simulated precision or the folder, and the KV policy."""
    if p.precision:
        pr = PRECISIONS[p.precision]
        g = "" if p.group_size in (None, PER_CHANNEL) or pr.weight_bits == 8 else f" g{p.group_size}"
        return f"{pr.label}{g}" + (f" KV {p.kv}" if p.kv != "fp16" and "kv" not in p.precision else "")
    return Path(p.model).name + (f" KV {p.kv}" if p.kv != "fp16" else "")
