"""The cost of simulating a quantized KV cache: int4-KV perplexity time over the fp16 run, side by side.

    python benchmarks/eval_cost.py [--runs 5] [--tokens 8192] [--context 512]

Same model (a tiny Llama built here, 4 layers, hidden 256), same tokens, interleaved runs; prints the
median seconds of each policy and the ratios to fp16. Target: int4 / fp16 <= 1.3.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=8192)
    ap.add_argument("--context", type=int, default=512)
    args = ap.parse_args()

    import torch
    from transformers import AutoModelForCausalLM

    from services.evaluate.perplexity import perplexity
    from tests.tinymodels import build_model, build_tokenizer, split_corpus

    work = Path(tempfile.mkdtemp(prefix="qd-evalcost-"))
    tok = build_tokenizer(work / "tok")
    folder = build_model(work / "m", tok, "llama", hidden=256, intermediate=704, heads=8, kv_heads=4, layers=4)
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    train, held = split_corpus(tok)
    ids = (held + train)[: args.tokens]
    policies = ("fp16", "int8", "int4", "fp8")
    perplexity(model, ids[:1024], args.context, kv="int4")  # warm-up
    times = {p: [] for p in policies}
    for _ in range(args.runs):
        for p in policies:
            t = time.perf_counter()
            perplexity(model, ids, args.context, kv=p)
            times[p].append(time.perf_counter() - t)
    base = statistics.median(times["fp16"])
    print(f"{len(ids)} tokens, context {args.context}, tiny Llama (4 layers, hidden 256), CPU, "
          f"{args.runs} interleaved runs (medians), torch threads {torch.get_num_threads()}")
    for p in policies:
        m = statistics.median(times[p])
        print(f"KV {p:5} {m:7.3f} s   x{m / base:5.2f} of fp16")
    print("target: int4 <= 1.3x fp16")
    return 0


if __name__ == "__main__":
    sys.exit(main())
