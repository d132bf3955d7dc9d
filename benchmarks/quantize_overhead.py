"""QuantDesk's overhead on an AWQ job: the same job run directly with AutoAWQ and through
`quantdesk quantize`, side by side, several runs each (interleaved).

    python benchmarks/quantize_overhead.py [--runs 3] [--hidden 512] [--layers 4]

Both quantize the same tiny Llama (built here, random weights) with the same calibration token ids,
group size and device (CPU here). Wall time covers the whole command (process start to exit); peak
memory is the largest resident size of the process tree, sampled every 50 ms. QuantDesk's run also
does pre-flight, the calibration sampling, copying side files, hashing the source, writing
quantdesk.json and loading the result to check its logits. Target: both ratios <= 1.10.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIRECT = r"""
import json, sys
from awq import AutoAWQForCausalLM
from transformers import AutoTokenizer
model_dir, out, ids_file = sys.argv[1:4]
samples = json.load(open(ids_file))
model = AutoAWQForCausalLM.from_pretrained(model_dir, torch_dtype="auto", device_map={"": "cpu"},
                                           trust_remote_code=False, low_cpu_mem_usage=True, use_cache=False)
tok = AutoTokenizer.from_pretrained(model_dir)
model.quantize(tok, quant_config={"zero_point": True, "q_group_size": 64, "w_bit": 4, "version": "GEMM"},
               calib_data=samples, max_calib_samples=len(samples), max_calib_seq_len=len(samples[0]))
model.save_quantized(out)
"""


def measure(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    """(wall seconds, peak resident bytes of the process tree)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed:\n{proc.stderr.read().decode()[-2000:]}")
    return wall, peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--seqlen", type=int, default=256)
    args = ap.parse_args()

    import os

    from transformers import AutoTokenizer

    from services.datasets.sampling import CalibrationSpec, build_samples
    from tests.tinymodels import build_model, build_tokenizer, stdlib_docstrings

    work = Path(tempfile.mkdtemp(prefix="qd-bench-"))
    tok_dir = build_tokenizer(work / "tok")
    model = build_model(work / "model", tok_dir, "llama", dtype="float16", hidden=args.hidden,
                        intermediate=args.hidden * 11 // 4 // 64 * 64, heads=8, kv_heads=4, layers=args.layers)
    blocks = [t.replace("\n\n", "\n") for t in stdlib_docstrings()]
    calib = work / "calib.txt"
    calib.write_text("\n\n".join(blocks), encoding="utf-8")
    spec = CalibrationSpec(source=str(calib), samples=args.samples, seqlen=args.seqlen)
    cal = build_samples(blocks, AutoTokenizer.from_pretrained(str(model)), spec)  # what the job will build too
    ids_file = work / "ids.json"
    ids_file.write_text(json.dumps(cal.ids))
    env = {**os.environ, "QUANTDESK_HOME": str(work / "home"), "CUDA_VISIBLE_DEVICES": ""}

    direct, ours = [], []
    for i in range(args.runs):
        out_a, out_b = work / f"direct{i}", work / f"qd{i}"
        direct.append(measure([sys.executable, "-c", DIRECT, str(model), str(out_a), str(ids_file)], env))
        ours.append(measure([sys.executable, "-m", "app", "quantize", "--model", str(model), "--out", str(out_b),
                             "--calib", str(calib), "--samples", str(args.samples), "--seqlen", str(args.seqlen),
                             "--group-size", "64", "--device", "cpu"], env))
        shutil.rmtree(out_a, ignore_errors=True)
        shutil.rmtree(out_b, ignore_errors=True)
    dt, dm = statistics.median(w for w, _ in direct), statistics.median(m for _, m in direct)
    ot, om = statistics.median(w for w, _ in ours), statistics.median(m for _, m in ours)
    print(f"model: Llama, {args.layers} layers, hidden {args.hidden}, fp16; {args.samples} x {args.seqlen} "
          f"calibration tokens; group 64; CPU; {args.runs} runs each, interleaved (medians)")
    print(f"{'':24}{'wall s':>10}{'peak MiB':>12}")
    print(f"{'AutoAWQ directly':24}{dt:>10.2f}{dm / 2**20:>12.0f}")
    print(f"{'quantdesk quantize':24}{ot:>10.2f}{om / 2**20:>12.0f}")
    print(f"time ratio {ot / dt:.3f} (target <= 1.10), peak memory ratio {om / dm:.3f} (target <= 1.10)")
    print("runs:", json.dumps({"direct": direct, "quantdesk": ours}))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
