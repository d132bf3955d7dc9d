"""`python llamacpp_score.py MODEL.gguf (--text FILE | --ids FILE.json) [--ctx 128] [--tokens-only]`: a GGUF's
tokenization and perplexity through the llama.cpp engine's own library, scored as llama-perplexity does
(chunks of --ctx tokens, the second half of each). Prints {"ids": [...], "ppl": float or null} as JSON.

Run as a script by the engine's Python (it imports only the standard library, numpy and llama_cpp).
"""
from __future__ import annotations

import argparse
import json
import math
import sys


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="llamacpp_score")
    ap.add_argument("model")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--text")
    src.add_argument("--ids")
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--tokens-only", action="store_true")
    a = ap.parse_args(argv)
    import numpy as np
    from llama_cpp import Llama

    llm = Llama(model_path=a.model, n_ctx=a.ctx, n_batch=a.ctx, logits_all=True, vocab_only=a.tokens_only,
                verbose=False)
    if a.text:
        with open(a.text, encoding="utf-8") as f:
            ids = llm.tokenize(f.read().encode(), add_bos=False, special=False)
    else:
        with open(a.ids, encoding="utf-8") as f:
            ids = json.load(f)
    nll, n = 0.0, 0
    for c in range(0 if a.tokens_only else len(ids) // a.ctx):
        chunk = ids[c * a.ctx:(c + 1) * a.ctx]
        llm.reset()
        llm.eval(chunk)
        logits = np.asarray(llm.scores[:a.ctx], dtype=np.float64)
        for i in range(a.ctx // 2, a.ctx - 1):
            row = logits[i]
            nll -= row[chunk[i + 1]] - row.max() - math.log(np.exp(row - row.max()).sum())
            n += 1
    print(json.dumps({"ids": ids, "ppl": math.exp(nll / n) if n else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
