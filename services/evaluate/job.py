"""The "eval" job: perplexity and answers for each model and KV policy, against a baseline.

Every variant is scored on the same tokens (one tokenization; tokenizers must match) and answers
the same prompts greedily; deltas and agreement are against the baseline variant. Simulated
precisions (--precision) are variants of the job's model: a fake-quantized copy per weight setting,
with activation hooks and KV policies per variant; they are also compared with their W4A16 sibling.
"""
from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from services.datasets.errors import DatasetError
from services.datasets.preview import load_tokenizer
from services.datasets.source import collect_texts
from services.evaluate import answers as ans
from services.evaluate.models import load_for_eval, tokenizer_fingerprint
from services.evaluate.perplexity import perplexity
from services.evaluate.precision import PER_CHANNEL, PRECISIONS, group_text
from services.evaluate.preflight import check_models, check_precision
from services.evaluate.settings import EvalSettings
from services.jobs.events import Emitter, JobFailure
from services.jobs.protocol import EvalSummary, EvalVariant
from services.jobs.spec import JobSpec
from services.messages import msg


@dataclass
class Variant:
    name: str
    model: str
    kv: str
    baseline: bool = False
    precision: str | None = None  # a simulated precision of `model` (services/evaluate/precision.py)
    group_size: int | None = None


def plan_variants(model: str, s: EvalSettings) -> list[Variant]:
    """The baseline first (default: the first model with fp16 KV), then each model under each KV policy,
    then each simulated precision of the job's model at each group size (8-bit weights: per channel)."""
    out: list[Variant] = []
    if s.baseline:
        out.append(Variant(msg("{model} (baseline)", model=Path(s.baseline).name), s.baseline, "fp16", True))
    for m in dict.fromkeys([model, *s.also]):  # keep order, drop repeats
        for kv in dict.fromkeys(s.kv):
            if not out:
                out.append(Variant(msg("{model} · KV fp16 (baseline)", model=Path(m).name), m, "fp16", True))
                if kv == "fp16":
                    continue
            out.append(Variant(f"{Path(m).name} · KV {kv}", m, kv))
    for name in dict.fromkeys(n for n in s.precision if n != "fp16"):  # fp16 is the model itself
        p = PRECISIONS[name]
        for g in dict.fromkeys(p.group(g) for g in s.group_size):
            out.append(Variant(f"{Path(model).name} · {p.label} {group_text(g)}", model, p.kv,
                               precision=name, group_size=g))
    return out


def compare_with_w4a16(results: list[dict[str, Any]], outputs: dict[str, list[list[int]]]) -> None:
    """Each simulated precision's perplexity change and answer agreement against W4A16 at its group size
    (8-bit weights have no groups: against the first W4A16)."""
    siblings = {r["group_size"]: r for r in results if r.get("precision") == "w4a16"}
    for r in results:
        if r.get("precision") in (None, "w4a16"):
            continue
        first = next(iter(siblings.values()), None)
        ref = first if PRECISIONS[r["precision"]].weight_bits == 8 else siblings.get(r["group_size"])
        r["delta_w4a16_pct"] = None if ref is None else round(100 * (r["perplexity"] / ref["perplexity"] - 1), 3)
        agree = [] if ref is None else [ans.agreement(b, o) for b, o in
                                        zip(outputs[ref["name"]], outputs[r["name"]], strict=True)]
        r["agreement_w4a16"] = round(sum(a.rate for a in agree) / len(agree), 4) if agree else None


def text_tokens(s: EvalSettings, tokenizer) -> tuple[list[int], str]:
    try:
        texts, info, _ = collect_texts(s.text, s.text_field, max_chars=s.max_tokens * 12)
    except DatasetError as exc:
        raise JobFailure(str(exc), hint=msg("pick another evaluation text (--text)"), bad_input=True) from exc
    ids = tokenizer("\n\n".join(texts), add_special_tokens=False)["input_ids"][: s.max_tokens]
    if len(ids) < 2:
        raise JobFailure(msg("{text} gives fewer than 2 tokens: nothing to score", text=s.text), bad_input=True)
    return ids, info.encoding


def run(spec: JobSpec, events: Emitter) -> EvalSummary:
    import torch

    s = EvalSettings.from_dict(spec.params)
    if problems := s.problems():
        raise JobFailure(problems[0], hint="; ".join(problems[1:]), bad_input=True)
    device = "cuda" if s.device in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
    variants = plan_variants(spec.model, s)
    folders = list(dict.fromkeys(v.model for v in variants))
    if errors := check_models(folders, s.context) + check_precision(spec.model, s.precision, s.group_size):
        raise JobFailure(errors[0], hint="; ".join(errors[1:]), bad_input=True)

    events.stage("tokens", msg("tokenizing {text}", text=s.text))
    try:
        tokenizers = {f: load_tokenizer(f) for f in folders}
    except DatasetError as exc:
        raise JobFailure(str(exc), hint=msg("copy the tokenizer files from the source model "
                                            "(QuantDesk's quantize jobs do this)"), bad_input=True) from exc
    prints = {f: tokenizer_fingerprint(t) for f, t in tokenizers.items()}
    if len(set(prints.values())) > 1:
        raise JobFailure(msg("the models use different tokenizers: their perplexities are not comparable"),
                         hint=msg("compare a quantized model with the model it was made from"), bad_input=True)
    tokenizer = tokenizers[folders[0]]
    ids, encoding = text_tokens(s, tokenizer)
    events.log(msg("{count} tokens of {text} ({encoding}); context {context}, stride {stride}", count=len(ids),
                   text=s.text, encoding=encoding, context=s.context, stride=s.stride or s.context))
    prompts = ans.load_prompts(s.prompts) if s.answers else []
    prompt_ids = [ans.encode_prompt(tokenizer, p) for p in prompts]

    results: list[dict[str, Any]] = []
    outputs: dict[str, list[list[int]]] = {}
    steps_per_variant = 1 + len(prompts)
    total = len(variants) * steps_per_variant
    step = 0

    def score(model, v: Variant) -> None:
        nonlocal step
        events.stage("perplexity", v.name)
        t0 = time.monotonic()
        def window(d: int, n: int, m: str, base: int = step, name: str = v.name) -> None:
            events.progress(base, total, msg("step"), msg("{name}: window {done}/{windows}", name=name, done=d,
                                                          windows=n))

        ppl = perplexity(model, ids, s.context, s.stride, device, v.kv, progress=window)
        seconds = time.monotonic() - t0
        step += 1
        labels = {"kv": v.kv, **({"precision": v.precision, "group_size": v.group_size} if v.precision else {})}
        events.metric("perplexity", ppl.perplexity, variant=v.name, **labels)
        gen = []
        for i, p in enumerate(prompt_ids):
            gen.append(ans.generate(model, tokenizer, p, v.kv, s.max_new_tokens, device))
            step += 1
            events.progress(step, total, msg("step"), msg("{name}: answer {done}/{answers}", name=v.name, done=i + 1,
                                                          answers=len(prompt_ids)))
        outputs[v.name] = gen
        results.append({"name": v.name, "model": v.model, "kv": v.kv, "baseline": v.baseline,
                        **({"precision": v.precision, "group_size": v.group_size} if v.precision else {}),
                        "perplexity": ppl.perplexity, "tokens": ppl.tokens, "windows": ppl.windows,
                        "seconds": round(seconds, 3)})

    for folder in folders:
        events.stage("load", msg("loading {name}", name=Path(folder).name))
        try:
            model = load_for_eval(folder, device)
        except ValueError as exc:  # e.g. an AWQ GEMV checkpoint, which needs AutoAWQ's CUDA kernels
            raise JobFailure(str(exc), hint=msg("evaluate a GEMM checkpoint (QuantDesk's default)"),
                             bad_input=True) from exc
        for v in [v for v in variants if v.model == folder and not v.precision]:
            score(model, v)
        if folder == spec.model:
            simulate(model, [v for v in variants if v.precision], score, events)
        del model
        gc.collect()
    order = {v.name: i for i, v in enumerate(variants)}
    results.sort(key=lambda r: order[r["name"]])

    base = next(r for r in results if r["baseline"])
    base_out = outputs[base["name"]]
    for r in results:
        r["delta_pct"] = None if r["baseline"] else round(100 * (r["perplexity"] / base["perplexity"] - 1), 3)
        # two empty answers agree on nothing: such prompts are left out, and none left means not measured
        agree = [ans.agreement(b, o) for b, o in zip(base_out, outputs[r["name"]], strict=True) if b or o]
        r["agreement"] = round(sum(a.rate for a in agree) / len(agree), 4) if agree else None
    answer_rows = []
    for i, prompt in enumerate(prompts):
        row: dict = {"prompt": prompt, "outputs": {}}
        for r in results:
            toks = outputs[r["name"]][i]
            a = ans.agreement(base_out[i], toks)
            row["outputs"][r["name"]] = {"text": tokenizer.decode(toks, skip_special_tokens=True),
                                         "tokens": [tokenizer.decode([t]) for t in toks],
                                         "first_divergence": a.first_divergence, "agreement": round(a.rate, 4)}
        answer_rows.append(row)
    if prompts and not any(base_out):
        events.log(msg("the baseline's answers are all empty: answer agreement was not measured (give prompts the "
                       "model answers, or more new tokens)"), "WARNING")
    compare_with_w4a16(results, outputs)
    return EvalSummary(variants=cast(list[EvalVariant], results), answers=answer_rows, tokens=len(ids), text=s.text,
                       context=s.context, stride=s.stride or s.context, device=device)


def simulate(model, variants: list[Variant], score, events: Emitter) -> None:
    """Score `variants` on fake-quantized copies of `model`: one copy per weight setting, activation hooks
    added and removed per variant, the KV cache through the variant's policy."""
    from services.evaluate.fakequant import quantize_inputs, simulated_copy

    by_weights: dict[tuple[int | None, int], list[Variant]] = {}
    for v in variants:
        group = PER_CHANNEL if v.group_size is None else v.group_size
        by_weights.setdefault((PRECISIONS[str(v.precision)].weight_bits, group), []).append(v)
    for (bits, group), same_weights in by_weights.items():
        events.stage("simulate", msg("W{bits} {group}: fake-quantizing a copy of the weights", bits=bits,
                                     group=group_text(group)))
        sim = simulated_copy(model, PRECISIONS[str(same_weights[0].precision)], group)
        for v in same_weights:
            p = PRECISIONS[str(v.precision)]
            hooks = quantize_inputs(sim, p.act_bits) if p.act_bits else []
            try:
                score(sim, v)
            finally:
                for h in hooks:
                    h.remove()
        del sim
        gc.collect()
