"""GGUF export, type by type: speed, memory, size and quality against the source in transformers.

    python benchmarks/gguf_export.py [MODEL_DIR] [--types f16,q8_0,...] [--synthetic] [--llama-cpp DIR]

Default model: the structured tiny Llama of the test suite (briefly trained, activation outliers), fp16.
--synthetic adds a random-weight Llama of about 0.3 GB, big enough for the per-GB figures to mean something.
Each export runs in its own process: seconds are the export alone (imports excluded), peak RSS is that
process's, and "extra" is the peak above what it held after its imports. Quality: the GGUF loaded by
transformers' GGUF loader against the source in float32 on held-out tokens (context 256): relative
logits error and perplexity ratio. --llama-cpp (a folder with llama-quantize and llama-perplexity)
adds K-quants and llama.cpp's own perplexity of each file (the same text, its first --tokens
tokens, context 128, the second half of each window scored: not comparable with the ppl column).
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, sys
from pathlib import Path
import gguf, numpy, psutil, safetensors, torch  # noqa: F401  (imports are the baseline)
from services.targets.gguf_convert import convert
model, out, kind, qbin = sys.argv[1:5]
base = psutil.Process().memory_info().rss
summary = convert(Path(model), Path(out), kind, quantize_bin=qbin or None)
status = Path("/proc/self/status")  # VmHWM: ru_maxrss would carry the parent's size over from fork
if status.exists():
    peak = next(int(line.split()[1]) * 1024 for line in status.read_text().splitlines() if line.startswith("VmHWM"))
else:  # Windows
    peak = psutil.Process().memory_info().peak_wset
print(json.dumps({**summary, "peak": peak, "base": base}))
"""


def export(model: Path, out: Path, kind: str, qbin: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(model), str(out), kind, qbin], cwd=ROOT,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"export {kind} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def llama_cpp_ppl(tools: Path, gguf_file: Path, text_file: Path, chunks: int) -> float | None:
    """llama-perplexity's estimate (--no-repack: repacked weights crash on some AMX CPUs). Its log thread
    sometimes loses the last line at exit: up to three tries."""
    for _ in range(3):
        proc = subprocess.run([str(tools / "llama-perplexity"), "-m", str(gguf_file), "-f", str(text_file), "-c",
                               "128", "-b", "128", "--chunks", str(chunks), "--no-repack"], capture_output=True,
                              text=True)
        found = re.findall(r"Final estimate: PPL = ([\d.]+)", proc.stdout + proc.stderr)
        if found:
            return float(found[0])
    return None


def synthetic(folder: Path, tok_dir: Path) -> Path:
    """A random Llama: hidden 1024, 8 layers, vocab 32,000 (the tiny tokenizer, padded), fp16."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    cfg = LlamaConfig(vocab_size=32000, hidden_size=1024, intermediate_size=2816, num_hidden_layers=8,
                      num_attention_heads=16, num_key_value_heads=4, bos_token_id=0, eos_token_id=1, pad_token_id=2)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(cfg, dtype=torch.float16).save_pretrained(str(folder))
    for f in tok_dir.iterdir():
        shutil.copy2(f, folder / f.name)
    return folder


def main() -> int:
    from services.targets.gguf_convert import K_TYPES, PY_TYPES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", type=Path)
    ap.add_argument("--types", default=",".join(PY_TYPES))
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--llama-cpp", type=Path)
    ap.add_argument("--tokens", type=int, default=4096)
    args = ap.parse_args()

    from services.targets.gguf_verify import compare_with_source
    from tests.tinymodels import build_structured_model, build_tokenizer, split_corpus, stdlib_docstrings

    work = Path(tempfile.mkdtemp(prefix="qd-gguf-bench-"))
    tok_dir = build_tokenizer(work / "tok")
    models = [args.model] if args.model else [build_structured_model(work / "structured llama", tok_dir)]
    if args.synthetic:
        models.append(synthetic(work / "synthetic llama", tok_dir))
    types = args.types.split(",")
    if args.llama_cpp:
        types += [t for t in ("q4_k_m", "q6_k") if t in K_TYPES and t not in types]
    qbin = str(args.llama_cpp / "llama-quantize") if args.llama_cpp else ""
    docs = stdlib_docstrings()
    text = "\n\n".join(d.replace("\n\n", "\n") for d in docs[len(docs) * 8 // 10:])
    text_file = work / "held out.txt"
    text_file.write_text(text, encoding="utf-8")

    for model in models:
        if model == args.model:  # the model's own tokenizer
            from transformers import AutoTokenizer

            held = AutoTokenizer.from_pretrained(str(model)).encode(text, add_special_tokens=False)[:args.tokens]
        else:
            held = split_corpus(tok_dir)[1][:args.tokens]
        src_bytes = sum(p.stat().st_size for p in model.glob("*.safetensors"))
        print(f"\n{model.name}: {src_bytes / 2**20:.1f} MiB of weights; {len(held)} held-out tokens")
        head = (f"{'type':8}{'export s':>10}{'s/GB':>8}{'peak MiB':>10}{'extra MiB':>11}{'extra/GB':>10}"
                f"{'out KiB':>10}{'x src':>7}{'logits err':>12}{'ppl':>9}{'x src':>8}")
        print(head + (f"{'llama.cpp ppl':>15}" if args.llama_cpp else ""))
        for kind in types:
            out = work / "out" / f"{model.name} {kind}.gguf"
            s = export(model, out, kind, qbin if kind in K_TYPES else "")
            gb = s["source_bytes"] / 1e9
            q = compare_with_source(model, out, token_ids=held)
            extra = max(0, s["peak"] - s["base"])
            row = (f"{kind:8}{s['seconds']:>10.2f}{s['seconds'] / gb:>8.1f}{s['peak'] / 2**20:>10.0f}"
                   f"{extra / 2**20:>11.0f}{extra / 2**20 / gb:>10.0f}{s['bytes'] / 1024:>10.0f}"
                   f"{s['bytes'] / s['source_bytes']:>7.2f}{q['logits_rel_error']:>12.4f}{q['gguf_perplexity']:>9.2f}"
                   f"{q['perplexity_ratio']:>8.4f}")
            if args.llama_cpp:
                value = llama_cpp_ppl(args.llama_cpp, out, text_file, args.tokens // 128)
                row += f"{value:>15.2f}" if value else f"{'failed':>15}"
            print(row, flush=True)
            out.unlink()
        print(f"source in transformers (float32): perplexity {q['source_perplexity']:.2f}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
