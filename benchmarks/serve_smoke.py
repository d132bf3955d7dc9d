"""GGUF types served by the real llama.cpp engine, side by side: speed, concurrency and perplexity.

    python benchmarks/serve_smoke.py [--model DIR] [--types f16,q8_0,q4_0,q4_k_m] [--out FILE.json]

For each type, one model is exported with `quantdesk export --target gguf` and served with
`quantdesk serve --smoke --json` (the built-in prompts, --max-tokens, --parallel requests at once):
median time to first token, median tokens/s, parallel throughput, the answers' mean similarity to (and
position-by-position agreement with) the source's greedy answers and the verdict ("par tokens": the tokens the parallel requests got in all,
of at most parallel x max-tokens). Then the file's perplexity through llama.cpp itself
(services/serving/llamacpp_score.py: llama-perplexity's scoring, the second half of each --ctx window) on --tokens
held-out tokens, against the source's perplexity in transformers (float32) on the same token ids.
Default model: the structured tiny Llama of the test suite (held-out text: the last 20% of the
docstrings it was not trained on); --model takes a Llama/Qwen2 HF folder (held-out text: the same
docstrings, its own tokenizer). The llama.cpp engine comes from QUANTDESK_ENGINES, or the test
suite's install (tests/engines.py, installed if missing). Prints a table, writes --out
(default /tmp/serve_smoke.json).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCORE = ROOT / "services" / "serving" / "llamacpp_score.py"


def cli(env: dict, *args: str, ok=(0,)) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True, env=env)
    if proc.returncode not in ok:
        raise RuntimeError(f"quantdesk {args[0]} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


def source_ppl(model: Path, ids: list[int], ctx: int) -> float:
    import torch
    import torch.nn.functional as F
    from transformers import AutoModelForCausalLM

    src = AutoModelForCausalLM.from_pretrained(str(model), dtype=torch.float32)
    nll, n = 0.0, 0
    for c in range(len(ids) // ctx):
        x = torch.tensor([ids[c * ctx:(c + 1) * ctx]])
        with torch.no_grad():
            logp = F.log_softmax(src(x).logits[0, ctx // 2:-1], -1)
        nll -= float(logp.gather(1, x[0, ctx // 2 + 1:, None]).sum())
        n += ctx // 2 - 1
    return math.exp(nll / n)


def tensor_types(gguf_file: Path) -> dict[str, int]:
    from gguf import GGUFReader

    counts: dict[str, int] = {}
    for t in GGUFReader(str(gguf_file)).tensors:
        counts[t.tensor_type.name] = counts.get(t.tensor_type.name, 0) + 1
    return counts


def _num(x: float | None) -> float:
    return float("nan") if x is None else x


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="a Llama/Qwen2 HF folder (default: the structured tiny Llama)")
    ap.add_argument("--types", default="f16,q8_0,q4_0,q4_k_m")
    ap.add_argument("--tokens", type=int, default=4096, help="held-out tokens for perplexity")
    ap.add_argument("--ctx", type=int, default=128, help="perplexity window")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--out", type=Path, default=Path("/tmp/serve_smoke.json"))
    args = ap.parse_args()

    from services.serving.engines import state
    from tests.tinymodels import build_structured_model, build_tokenizer, stdlib_docstrings

    engines = Path(os.environ["QUANTDESK_ENGINES"]) if os.environ.get("QUANTDESK_ENGINES") else None
    if engines is None:
        from tests.engines import ENGINES as TEST_ENGINES
        from tests.engines import install

        install()
        engines = TEST_ENGINES
    work = Path(tempfile.mkdtemp(prefix="qd-serve-bench-"))
    env = {**os.environ, "QUANTDESK_HOME": str(work / "home"), "QUANTDESK_ENGINES": str(engines)}
    started = time.monotonic()
    model = args.model.resolve() if args.model else build_structured_model(work / "structured llama",
                                                                           build_tokenizer(work / "tok"))
    from transformers import AutoTokenizer

    docs = stdlib_docstrings()  # the tiny model's held-out split (split_corpus's), as one text
    text = "\n\n".join(d.replace("\n\n", "\n") for d in docs[len(docs) * 8 // 10:])
    ids = AutoTokenizer.from_pretrained(str(model)).encode(text, add_special_tokens=False)[:args.tokens]
    (work / "ids.json").write_text(json.dumps(ids))
    src_ppl = source_ppl(model, ids, args.ctx)
    python = str(state("llamacpp", engines).python)

    rows = []
    for kind in args.types.split(","):
        out = work / f"gguf {kind}"
        cli(env, "export", "--model", str(model), "--target", "gguf", "--gguf-type", kind, "--out", str(out),
            "--no-gguf-verify")
        gguf_file = next(out.glob("*.gguf"))
        served = cli(env, "serve", "--model", str(out), "--smoke", "--json", "--max-tokens", str(args.max_tokens),
                     "--parallel", str(args.parallel), ok=(0, 1))  # 1: a "fail" verdict, the report still printed
        smoke = json.loads(served.stdout)["summary"]["smoke"]
        score = subprocess.run([python, str(SCORE), str(gguf_file), "--ids", str(work / "ids.json"), "--ctx", str(args.ctx)],
                               capture_output=True, text=True, cwd=ROOT)
        if score.returncode != 0:
            raise RuntimeError(f"llama.cpp perplexity of {kind} failed:\n{score.stderr[-2000:]}")
        ppl = json.loads(score.stdout.strip().splitlines()[-1])["ppl"]
        rows.append({"type": kind, "file": gguf_file.name, "bytes": gguf_file.stat().st_size,
                     "tensor_types": tensor_types(gguf_file), "ppl": ppl, "ppl_ratio": ppl / src_ppl,
                     "ttft_s_median": smoke["ttft_s_median"], "tokens_per_s_median": smoke["tokens_per_s_median"],
                     "parallel_tok_s": (smoke.get("concurrency") or {}).get("throughput_tok_s"),
                     "parallel_tokens": (smoke.get("concurrency") or {}).get("tokens"),
                     "similarity_mean": smoke["similarity_mean"], "agreement_mean": smoke["agreement_mean"],
                     "verdict": smoke["verdict"], "smoke": smoke})
        print(f"  {kind}: done after {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)

    base = next((r["bytes"] for r in rows if r["type"] == "f16"), rows[0]["bytes"])
    print(f"\n{model.name}: source perplexity {src_ppl:.2f} (transformers, float32), {len(ids)} held-out tokens, "
          f"context {args.ctx}; smoke: {args.max_tokens} tokens, {args.parallel} at once (par tokens: what the "
          f"{args.parallel} requests got, of at most {args.parallel * args.max_tokens})")
    print(f"{'type':8}{'MB':>8}{'x f16':>7}{'ppl':>9}{'x src':>8}{'ttft s':>9}{'tok/s':>9}{'par tok/s':>11}"
          f"{'par tokens':>11}{'similar':>8}{'agree':>7}  verdict")
    for r in rows:
        print(f"{r['type']:8}{r['bytes'] / 1e6:>8.2f}{r['bytes'] / base:>7.2f}{r['ppl']:>9.2f}{r['ppl_ratio']:>8.4f}"
              f"{r['ttft_s_median'] or 0:>9.3f}{r['tokens_per_s_median'] or 0:>9.1f}{r['parallel_tok_s'] or 0:>11.1f}"
              f"{r['parallel_tokens'] or 0:>6}/{args.parallel * args.max_tokens:<4}"
              f"{_num(r['similarity_mean']):>8.2f}{_num(r['agreement_mean']):>7.2f}  {r['verdict']}")
    seconds = time.monotonic() - started
    print(f"{seconds:.0f} s in all")
    args.out.write_text(json.dumps({"model": str(model), "source_ppl": src_ppl, "tokens": len(ids), "ctx": args.ctx,
                                    "max_tokens": args.max_tokens, "parallel": args.parallel, "seconds": seconds,
                                    "rows": rows}, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {args.out}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
