"""Every quantization method on one model, side by side; and llm-compressor's GPTQ through QuantDesk
against llm-compressor called directly.

    python benchmarks/methods.py [--runs 2] [--samples 32] [--seqlen 128]

Model: the structured tiny Llama of the test suite (briefly trained, activation outliers), fp16.
For each method: wall time of `quantdesk quantize` (process start to exit), peak resident memory of
the process tree, output size and held-out perplexity (8,192 tokens, context 256) against the fp16
model and round-to-nearest W4 g64. Then GPTQ W4A16 g64 directly with `oneshot` against the same job
through QuantDesk (interleaved runs, medians). Target: both ratios <= 1.10.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.quantize_overhead import measure  # noqa: E402

DIRECT = r"""
import json, sys, torch
from datasets import Dataset
from compressed_tensors.quantization import QuantizationArgs, QuantizationScheme
from llmcompressor import oneshot
from llmcompressor.modifiers.gptq import GPTQModifier
from llmcompressor.pipelines.cache import IntermediatesCache
from transformers import AutoModelForCausalLM, AutoTokenizer
model_dir, out, ids_file = sys.argv[1:4]
ids = json.load(open(ids_file))
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float16)
tok = AutoTokenizer.from_pretrained(model_dir)
w = QuantizationArgs(num_bits=4, type="int", symmetric=True, strategy="group", group_size=64)
recipe = [GPTQModifier(config_groups={"g": QuantizationScheme(targets=["Linear"], weights=w)}, ignore=["lm_head"],
                       actorder="static", dampening_frac=0.01)]
data = Dataset.from_dict({"input_ids": ids, "attention_mask": [[1] * len(x) for x in ids]})
oneshot(model=model, processor=tok, recipe=recipe, dataset=data, num_calibration_samples=len(ids),
        max_seq_length=len(ids[0]), shuffle_calibration_samples=False, output_dir=None, log_dir=None)
model.save_pretrained(out, save_compressed=True)
"""

METHODS = [("AWQ g64 (AutoAWQ)", ["--method", "awq", "--group-size", "64"]),
           ("AWQ g64 (llm-compressor)", ["--method", "awq", "--backend", "llmcompressor", "--group-size", "64"]),
           ("GPTQ W4A16 g64", ["--method", "gptq", "--group-size", "64"]),
           ("GPTQ W4A16 g128", ["--method", "gptq", "--group-size", "128"]),
           ("SmoothQuant + GPTQ W8A8", ["--method", "w8a8"]),
           ("FP8 dynamic", ["--method", "fp8-dynamic"]),
           ("FP8 static", ["--method", "fp8"])]


def size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.glob("*.safetensors"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--seqlen", type=int, default=128)
    args = ap.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from services.datasets.sampling import CalibrationSpec, build_samples
    from services.evaluate.models import load_for_eval
    from services.evaluate.perplexity import perplexity
    from tests.tinymodels import (
        build_structured_model,
        build_tokenizer,
        round_to_nearest,
        split_corpus,
        stdlib_docstrings,
    )

    work = Path(tempfile.mkdtemp(prefix="qd-methods-"))
    tok_dir = build_tokenizer(work / "tok")
    model = build_structured_model(work / "llama", tok_dir)
    held = split_corpus(tok_dir)[1][:8192]
    docs = stdlib_docstrings()
    blocks = [d.replace("\n\n", "\n") for d in docs[: len(docs) * 8 // 10]]
    calib = work / "calib.txt"
    calib.write_text("\n\n".join(blocks), encoding="utf-8")
    spec = CalibrationSpec(source=str(calib), samples=args.samples, seqlen=args.seqlen)
    ids_file = work / "ids.json"
    ids_file.write_text(json.dumps(build_samples(blocks, AutoTokenizer.from_pretrained(str(model)), spec).ids))
    env = {**os.environ, "QUANTDESK_HOME": str(work / "home"), "CUDA_VISIBLE_DEVICES": ""}

    def ppl(m) -> float:
        return perplexity(m, held, context=256).perplexity

    fp_model = AutoModelForCausalLM.from_pretrained(str(model), dtype=torch.float32)
    base = ppl(fp_model)
    rows = [("fp16 model", None, None, size(model), base), ("W4 g64 round-to-nearest", None, None, None,
                                                             ppl(round_to_nearest(fp_model, 64)))]
    common = ["--calib", str(calib), "--samples", str(args.samples), "--seqlen", str(args.seqlen), "--device", "cpu"]
    for name, flags in METHODS:
        out = work / name.replace(" ", "_")
        wall, peak = measure([sys.executable, "-m", "app", "quantize", "--model", str(model), "--out", str(out),
                              *common, *flags], env)
        rows.append((name, wall, peak, size(out), ppl(load_for_eval(out))))
    print(f"structured tiny Llama (2 layers, hidden 128), {args.samples} x {args.seqlen} calibration tokens, CPU; "
          f"held-out perplexity on {len(held)} tokens, context 256")
    print(f"{'method':28}{'wall s':>8}{'peak MiB':>10}{'weights KB':>12}{'perplexity':>12}{'x fp16':>8}")
    for name, wall, peak, nbytes, value in rows:
        print(f"{name:28}{'' if wall is None else f'{wall:.1f}':>8}{'' if peak is None else f'{peak / 2**20:.0f}':>10}"
              f"{'' if nbytes is None else f'{nbytes / 1024:.0f}':>12}{value:>12.3f}{value / base:>8.3f}")

    direct, ours = [], []
    for i in range(args.runs):
        direct.append(measure([sys.executable, "-c", DIRECT, str(model), str(work / f"d{i}"), str(ids_file)], env))
        ours.append(measure([sys.executable, "-m", "app", "quantize", "--model", str(model), "--out",
                             str(work / f"q{i}"), *common, "--method", "gptq", "--group-size", "64"], env))
    dt, dm = statistics.median(w for w, _ in direct), statistics.median(m for _, m in direct)
    ot, om = statistics.median(w for w, _ in ours), statistics.median(m for _, m in ours)
    print(f"\nGPTQ W4A16 g64, {args.runs} runs each, interleaved (medians)")
    print(f"{'llm-compressor directly':28}{dt:>8.2f} s {dm / 2**20:>8.0f} MiB")
    print(f"{'quantdesk quantize':28}{ot:>8.2f} s {om / 2**20:>8.0f} MiB")
    print(f"time ratio {ot / dt:.3f}, peak memory ratio {om / dm:.3f} (targets <= 1.10)")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
