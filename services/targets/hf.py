"""transformers: check that the folder loads and generates here (the project's loader), and write a
short `load_example.py` with the loading arguments its format needs."""
from __future__ import annotations

import importlib

from services.checkpoint import AWQ, COMPRESSED_TENSORS, UNQUANTIZED
from services.envcheck.model import CheckResult
from services.jobs.events import Emitter
from services.messages import msg
from services.targets import scripts
from services.targets.base import BuildInputs, Target, TargetInput, Verdict, module_check
from services.targets.gpus import Gpu

PROMPT = "The capital of France is"

_HEAD = '''"""Load {name} ({fmt}) with transformers and generate. Written by QuantDesk.

Run: python load_example.py [cuda|cpu]
"""
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

MODEL = {path!r}
device = sys.argv[1] if len(sys.argv) > 1 else ("cuda" if torch.cuda.is_available() else "cpu")
tokenizer = AutoTokenizer.from_pretrained(MODEL)
'''

_LOAD = {
    UNQUANTIZED: '''model = AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float16 if device == "cuda" else torch.float32)
model = model.to(device).eval()
''',
    COMPRESSED_TENSORS: '''# needs: pip install compressed-tensors. On the CPU the weights are decompressed to float once.
from transformers import CompressedTensorsConfig

extra = {} if device == "cuda" else {"quantization_config": CompressedTensorsConfig(dequantize=True)}
model = AutoModelForCausalLM.from_pretrained(MODEL, dtype="auto" if device == "cuda" else torch.float32, **extra)
model = model.to(device).eval()
''',
    AWQ: '''# AWQ GEMM kernels run on CUDA: needs pip install autoawq (its CPU path is not usable as shipped).
if device != "cuda":
    sys.exit("AWQ checkpoints need a CUDA GPU here; on the CPU, QuantDesk evaluates them by dequantizing")
from awq import AutoAWQForCausalLM

model = AutoAWQForCausalLM.from_quantized(MODEL, fuse_layers=False).model.eval()
''',
}

_TAIL = '''inputs = tokenizer({prompt!r}, return_tensors="pt").to(device)
with torch.no_grad():
    out = model.generate(**inputs, max_new_tokens=16, do_sample=False)
print(tokenizer.decode(out[0], skip_special_tokens=True))
'''


def load_example(name: str, fmt_kind: str, fmt_text: str, path: str) -> str:
    return (_HEAD.format(name=name, fmt=fmt_text, path=path) + _LOAD[fmt_kind] + _TAIL.format(prompt=PROMPT))


class TransformersTarget(Target):
    name = "transformers"
    title = "transformers"
    summary = "load it in your own Python: a verified load_example.py"
    needs_torch = True

    def prerequisites(self, params: dict | None = None) -> list[CheckResult]:
        return [module_check("torch", "torch"), module_check("transformers", "transformers")]

    def check(self, src: TargetInput, params: dict, gpu: Gpu | None) -> Verdict:
        v = Verdict()
        if src.fmt.kind not in _LOAD:
            v.errors.append(msg("{format} checkpoints are not loaded by this target; export unquantized, AWQ or "
                                "compressed-tensors models", format=src.fmt.describe()))
        v.info["command"] = "python load_example.py"
        return v

    def build(self, b: BuildInputs, events: Emitter) -> dict:
        events.stage("example", msg("writing load_example.py"))
        src = b.source
        scripts.write_text(b.partial, "load_example.py",
                           load_example(src.model.name, src.fmt.kind, src.fmt.describe(), str(src.model)))
        return {"files": ["load_example.py"], "command": f"python {scripts.sh_quote(str(b.out / 'load_example.py'))}"}

    def verify(self, b: BuildInputs, events: Emitter) -> dict:
        # the work imports torch: by name, so the GUI never loads it
        return importlib.import_module("services.targets.hf_verify").verify(b, events)
