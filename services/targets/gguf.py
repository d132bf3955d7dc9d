"""GGUF for llama.cpp, Ollama and LM Studio: one .gguf file (services/targets/gguf_convert.py writes it
with the `gguf` package), an Ollama Modelfile beside it, and a check that reads it back and compares
its logits with the source model's."""
from __future__ import annotations

import importlib
import os
import re
import shutil
from pathlib import Path

from services.checkpoint import UNQUANTIZED
from services.envcheck.model import CheckResult, Fix
from services.jobs.events import Emitter, JobFailure
from services.messages import msg
from services.targets.base import BuildInputs, Target, TargetInput, Verdict, module_check
from services.targets.gpus import Gpu

PY_TYPES = ("f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1")  # written here, in Python
K_TYPES = ("q2_k", "q3_k_m", "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m", "q6_k")  # need llama.cpp's llama-quantize
BITS = {"f16": 16, "bf16": 16, "q8_0": 8.5, "q4_0": 4.5, "q4_1": 5, "q5_0": 5.5, "q5_1": 6, "q2_k": 2.6,
        "q3_k_m": 3.9, "q4_k_s": 4.6, "q4_k_m": 4.9, "q5_k_s": 5.5, "q5_k_m": 5.7, "q6_k": 6.6}
Q8_TOLERANCE = 0.01  # Q8_0 perplexity within 1% of the source


def _convert():
    # the work imports torch and gguf: by name, so the GUI never loads them
    return importlib.import_module("services.targets.gguf_convert")


def _verify():
    return importlib.import_module("services.targets.gguf_verify")


def llama_quantize(params: dict) -> list[str] | None:
    """The command that makes K-quants: --llama-quantize, llama-quantize on PATH, or the llama.cpp engine."""
    tool = params.get("llama_quantize") or shutil.which("llama-quantize")
    if tool:
        return [tool]
    from services.serving.engines import state

    engine = state("llamacpp")
    if engine.installed:
        script = Path(__file__).resolve().parents[1] / "serving" / "llamacpp_quantize.py"
        return [str(engine.python), str(script)]
    return None


class GgufTarget(Target):
    name = "gguf"
    title = "GGUF"
    summary = "one .gguf file for llama.cpp, Ollama and LM Studio, with a Modelfile"
    needs_torch = True
    accepts_job_source = True

    def prerequisites(self, params: dict | None = None) -> list[CheckResult]:
        checks = [module_check("gguf", "gguf"), module_check("torch", "torch")]
        if tool := llama_quantize(params or {}):
            how = msg("the llama.cpp engine") if len(tool) > 1 else tool[0]
            checks.append(CheckResult("llama-quantize", "llama-quantize", "ok",
                                      msg("K-quants are made by {how}", how=how)))
        else:
            checks.append(CheckResult("llama-quantize", "llama-quantize", "warn",
                                      msg("not on PATH: K-quants (q4_k_m...) are not available; the other types "
                                          "are"),
                                      fix=Fix("command", msg("install the llama.cpp engine (or put llama.cpp's "
                                                             "llama-quantize on PATH, or pass --llama-quantize PATH)"),
                                              command="quantdesk engines install llamacpp")))
        return checks

    def check(self, src: TargetInput, params: dict, gpu: Gpu | None) -> Verdict:
        v = Verdict()
        t = str(params["gguf_type"]).lower()
        if t not in PY_TYPES + K_TYPES:
            v.errors.append(msg("unknown GGUF type {type!r}; choose one of {types}", type=t,
                                types=", ".join(PY_TYPES + K_TYPES)))
            return v
        tool = params.get("llama_quantize") or shutil.which("llama-quantize")
        if t in K_TYPES and not llama_quantize(params):
            v.errors.append(msg("{type} is a K-quant, made by llama.cpp: install the llama.cpp engine (quantdesk engines "
                                "install llamacpp), pass --llama-quantize PATH (from a llama.cpp release), or choose "
                                "{types}", type=t, types=", ".join(PY_TYPES)))
        elif t in K_TYPES and tool and not (os.path.isabs(tool) and os.path.isfile(tool) and os.access(tool, os.X_OK)):
            v.errors.append(msg("--llama-quantize {tool} is not an executable file: give the full path of llama.cpp's "
                                "llama-quantize", tool=tool))
        nested = src.cfg.get("text_config")
        text: dict = nested if isinstance(nested, dict) else src.cfg
        missing = [k for k in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                               "vocab_size") if not text.get(k)]
        if missing:
            v.errors.append(msg("config.json lacks {keys}: the GGUF header needs them", keys=", ".join(missing)))
        if src.fmt.kind != UNQUANTIZED:
            v.errors.append(msg("{model} is already quantized ({format}): re-quantizing its dequantized weights "
                                "compounds the error; export the unquantized source model (give the quantize job's "
                                "id and QuantDesk takes its source)", model=src.model.name,
                                format=src.fmt.describe()))
        else:
            v.errors += _convert().source_problems(src.model)
        if params.get("source_of"):
            v.notes.append(msg("the source model of job {job}", job=params["source_of"]))
        v.info["verify_logits"] = bool(params.get("gguf_verify", True))
        if src.shape is not None and v.info["verify_logits"]:
            need = src.shape.parameter_count() * 8  # the source and the GGUF, both in float32
            free = _free_ram()
            if free is not None and need > 0.8 * free:
                v.info["verify_logits"] = False
                v.warnings.append(msg("comparing logits needs about {need:.1f} GB of RAM ({free:.1f} GB free): the file "
                                      "is read back and checked, without the logits comparison", need=need / 1e9,
                                      free=free / 1e9))
        if src.shape is not None and not v.errors:
            size = src.shape.parameter_count() * BITS[t] / 8
            amount = f"{size / 1e9:.2f} GB" if size >= 1e8 else f"{size / 1e6:.1f} MB"
            v.notes.append(msg("about {amount} at {type} ({bits:g} bits a weight)", amount=amount, type=t.upper(),
                              bits=BITS[t]))
        v.info["file"] = f"{src.model.name}-{t.upper()}.gguf"
        v.info["command"] = f"llama-server -m {_q(v.info['file'])}"
        return v

    def build(self, b: BuildInputs, events: Emitter) -> dict:
        t = str(b.params["gguf_type"]).lower()
        target = b.partial / b.verdict.info["file"]
        events.stage("convert", msg("writing {name}", name=target.name))

        def progress(done: int, total: int, name: str) -> None:
            events.progress(done, total, "tensor", name)  # honours a cancel between tensors

        try:
            summary = _convert().convert(b.source.model, target, t, progress=progress,
                                         quantize_bin=llama_quantize(b.params))
        except ValueError as exc:
            raise JobFailure(str(exc), bad_input=True) from exc
        except RuntimeError as exc:  # llama-quantize or the engine failed: its last lines are in the message
            engine = len(llama_quantize(b.params) or []) > 1
            raise JobFailure(str(exc), hint=msg("reinstall the llama.cpp engine: quantdesk engines install llamacpp "
                                                 "--reinstall") if engine else
                             msg("check --llama-quantize (a llama.cpp build of the same era as the gguf "
                                 "package)")) from exc
        stop = _stop_tokens(b.source.model)
        _convert().write_modelfile(target, b.partial, stop)
        final = b.out / target.name
        name = re.sub(r"[^a-z0-9._-]+", "-", b.source.model.name.lower()).strip("-._") or "model"
        return {"files": [target.name, "Modelfile"], "gguf": summary, "command": f"llama-server -m {_q(str(final))}",
                "ollama": f"ollama create {name} -f {_q(str(b.out / 'Modelfile'))}",
                "lm_studio": f"copy {target.name} to ~/.lmstudio/models/quantdesk/{name}/ (publisher/repo/file)"}

    def verify(self, b: BuildInputs, events: Emitter) -> dict:
        events.stage("verify", msg("reading the file back and comparing its logits with the source"))
        path = b.partial / b.verdict.info["file"]
        back = _verify().read_back(path)
        problems = []
        if not back["tensor_count"]:
            problems.append(msg("the file has no tensors"))
        r = {"tensor_count": back["tensor_count"], "bytes": back["bytes"],
             "chat_template": back["metadata"].get("chat_template")}
        if b.verdict.info.get("verify_logits", b.params.get("gguf_verify", True)):
            cmp = _verify().compare_with_source(b.source.model, path)
            r.update({k: cmp[k] for k in ("tokens", "logits_rel_error", "top1_agreement", "source_perplexity",
                                          "gguf_perplexity", "perplexity_ratio", "tokenizer_matches",
                                          "chat_template_matches") if k in cmp})
            if not cmp.get("tokenizer_matches", True):
                problems.append(msg("the GGUF's tokenizer encodes text differently from the source's"))
            ratio = cmp.get("perplexity_ratio")
            if ratio is None or ratio != ratio:
                problems.append(msg("the GGUF's perplexity is not finite"))
            elif str(b.params["gguf_type"]).lower() == "q8_0" and ratio > 1 + Q8_TOLERANCE:
                problems.append(msg("Q8_0 perplexity is {ratio:.4f}x the source's (more than {limit:g}x)", ratio=ratio,
                                       limit=1 + Q8_TOLERANCE))
        return {"ok": not problems, "problems": problems, **r}


def _free_ram() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # psutil is a dependency; a broken one only skips the estimate
        return None


def _q(path: str) -> str:
    from services.targets.scripts import sh_quote

    return sh_quote(path)


def _stop_tokens(model) -> list[str]:
    """The end-of-sequence token(s) from the tokenizer config, for Ollama's `stop`."""
    import json

    try:
        cfg = json.loads((model / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    eos = cfg.get("eos_token")
    eos = eos.get("content") if isinstance(eos, dict) else eos
    return [eos] if isinstance(eos, str) and eos else []
