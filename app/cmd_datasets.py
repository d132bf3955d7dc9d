"""`quantdesk datasets preview`: statistics and first samples of a calibration source (no Qt)."""
from __future__ import annotations

import argparse
import json
import sys

from app.cli import UsageError
from services.datasets.catalog import CATALOG
from services.datasets.errors import DatasetError
from services.datasets.preview import preview
from services.datasets.sampling import MODES, CalibrationSpec


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help=f"a dataset name ({', '.join(CATALOG)}), a file (.txt .jsonl .json .csv .parquet), "
                                  "a folder of them, or a folder saved with datasets.save_to_disk")
    p.add_argument("--field", help="JSON field or CSV/Parquet column with the text (default: found automatically)")
    p.add_argument("--split", dest="text_split", choices=("blocks", "lines"), default="blocks",
                   help=".txt files: one sample per blank-line-separated block (default) or per line")
    p.add_argument("--tokenizer", metavar="DIR", help="model or tokenizer folder: token statistics and samples")
    p.add_argument("--samples", type=int, default=128)
    p.add_argument("--seqlen", type=int, default=512)
    p.add_argument("--mode", choices=MODES, default="concat", help="concatenate and cut into blocks, or one text a sample")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--min-chars", type=int, default=1, help="drop texts shorter than this")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--progress", choices=("text", "json", "none"), default="text", help=argparse.SUPPRESS)


def _progress_printer(kind: str):
    if kind == "json":
        return lambda d, t, m: print(json.dumps({"type": "progress", "done": d, "total": t, "message": m}),
                                     file=sys.stderr, flush=True)
    if kind == "text":
        return lambda d, t, m: print(f"\r{m} ({d}/{t})", end="", file=sys.stderr, flush=True)
    return lambda *a: None


def run(args: argparse.Namespace) -> int:
    spec = CalibrationSpec(source=args.source, field=args.field, text_split=args.text_split, samples=args.samples,
                           seqlen=args.seqlen, mode=args.mode, seed=args.seed, min_chars=args.min_chars)
    try:
        doc = preview(spec, args.tokenizer, progress=_progress_printer("none" if args.json and args.progress == "text"
                                                                        else args.progress))
    except DatasetError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
        return 0
    if args.progress == "text":
        print(file=sys.stderr)
    print(f"Source      {doc['source']}")
    print(f"Read        {doc['texts']:,} texts, {doc['chars']:,} characters from {doc['files']} file(s); "
          f"encoding {doc['encoding']}" + (f"; field {doc['field']}" if doc["field"] else ""))
    print(f"CJK share   {doc['cjk_share']:.1%}")
    if doc["tokens"]:
        q = doc["tokens"]["quantiles"]
        print(f"Tokens      {doc['tokens']['total']:,} in all; per text p10 {q['p10']}, median {q['p50']}, "
              f"p90 {q['p90']}, max {q['p100']}; {doc['tokens']['shorter_than_seqlen']:.0%} shorter than {args.seqlen}")
        print(f"Samples     {doc['samples']} of {args.seqlen} tokens ({args.mode}); the source gives "
              f"{doc['samples_available']:,}; token hash {doc['token_hash'][:16]}")
    else:
        print("Tokens      pass --tokenizer DIR for token statistics and samples")
    for w in doc["warnings"]:
        print(f"  warning: {w}")
    for i, t in enumerate(doc["first_texts"], 1):
        one = " ".join(t.split())
        print(f"[{i}] {one[:160]}{'…' if len(one) > 160 else ''}")
    return 0
