"""AWQ quality on a tiny model with real structure, beside round-to-nearest at the same bits.

    python benchmarks/awq_quality.py

Builds the structured tiny Llama of the test suite (briefly trained on standard-library docstrings,
with activation outliers), then reports held-out perplexity for: the fp16 model, W4 g64
round-to-nearest, AWQ through `quantdesk quantize`, and AWQ with AutoAWQ's CPU bug left in.
"""
from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    import os

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from services.evaluate.perplexity import perplexity
    from services.jobs.events import Emitter
    from services.quant.awq_loader import load_awq_model
    from services.quant.backends import autoawq_patches as awq_backend
    from tests.tinymodels import (
        build_structured_model,
        build_tokenizer,
        round_to_nearest,
        split_corpus,
        stdlib_docstrings,
    )

    work = Path(tempfile.mkdtemp(prefix="qd-quality-"))
    tok_dir = build_tokenizer(work / "tok")
    model_dir = build_structured_model(work / "llama", tok_dir)
    train, held = split_corpus(tok_dir)
    held = held[:8192]
    docs = stdlib_docstrings()
    calib = work / "calib.txt"
    calib.write_text("\n\n".join(d.replace("\n\n", "\n") for d in docs[: len(docs) * 8 // 10]), encoding="utf-8")

    def ppl(m):
        return perplexity(m, held, context=256).perplexity

    rows = []
    fp = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    rows.append(("fp16 model", ppl(fp), 0.0))
    t = time.monotonic()
    rows.append(("W4 g64 round-to-nearest", ppl(round_to_nearest(fp, 64)), time.monotonic() - t))
    t = time.monotonic()
    out = work / "awq"
    subprocess.run([sys.executable, "-m", "app", "quantize", "--model", str(model_dir), "--out", str(out), "--calib",
                    str(calib), "--samples", "32", "--seqlen", "128", "--group-size", "64"], cwd=ROOT, check=True,
                   capture_output=True, env={**os.environ, "QUANTDESK_HOME": str(work / "home")})
    rows.append(("W4 g64 AWQ (quantdesk)", ppl(load_awq_model(out)), time.monotonic() - t))
    t = time.monotonic()
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    m = awq_backend.load_for_quantization(str(model_dir), "float16", False)
    awq_backend.quantize(m, tok, {"zero_point": True, "q_group_size": 64, "w_bit": 4, "version": "GEMM"},
                         [train[i * 128:(i + 1) * 128] for i in range(32)], 128, Emitter(io.StringIO()), fix_cpu=False)
    m.save_quantized(str(work / "buggy"))
    rows.append(("W4 g64 AutoAWQ, CPU bug", ppl(load_awq_model(work / "buggy")), time.monotonic() - t))
    base = rows[0][1]
    print(f"held-out perplexity on {len(held)} tokens (context 256), tiny structured Llama, CPU")
    for name, value, secs in rows:
        print(f"{name:28} {value:10.3f}  x{value / base:7.3f}" + (f"   ({secs:.1f} s)" if secs else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
