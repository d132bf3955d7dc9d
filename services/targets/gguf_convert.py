"""Hugging Face model folder -> .gguf for llama.cpp, Ollama and LM Studio, written with the `gguf` package.

Tensors are read one at a time from the safetensors shards and streamed into the file, so peak
memory is about one tensor. F16, BF16, Q8_0, Q4_0/1 and Q5_0/1 are made here; K-quants are made
by llama.cpp's llama-quantize from an F16 file written first. Job runner only (torch, gguf);
a tokenizer.model also needs sentencepiece.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.messages import msg
from services.progress import Cancelled

PY_TYPES = ("f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1")  # what gguf 0.19 quantizes in Python
K_TYPES = ("q2_k", "q3_k_m", "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m", "q6_k")  # need llama-quantize
SOURCE_DTYPES = ("F16", "BF16", "F32")


@dataclass(frozen=True)
class Arch:
    gguf_name: str  # general.architecture
    permute_qk: bool  # llama.cpp's "llama" rope rotates adjacent pairs; HF rotates the two halves


ARCHS = {"LlamaForCausalLM": Arch("llama", True), "MistralForCausalLM": Arch("llama", True),
         "Qwen2ForCausalLM": Arch("qwen2", False), "Qwen3ForCausalLM": Arch("qwen3", False)}


class Stopped(Cancelled):
    """convert() stopped because should_stop() said so; nothing is left at the output path."""


@dataclass
class _Item:
    name: str  # GGUF tensor name
    source: str | None  # HF tensor name; None for a computed tensor (`data`)
    shape: tuple[int, ...]  # rows first, like the HF tensor
    qtype: Any  # gguf.GGMLQuantizationType
    heads: int | None = None  # rows are regrouped for llama.cpp's rope
    data: Any = None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _shards(model_dir: Path) -> list[Path]:
    index = _json(model_dir / "model.safetensors.index.json")
    if isinstance(index, dict) and isinstance(index.get("weight_map"), dict):
        return [model_dir / n for n in sorted(set(index["weight_map"].values()))]
    return sorted(model_dir.glob("*.safetensors"))


def _tensor_index(model_dir: Path) -> dict[str, tuple[Path, str, tuple[int, ...]]]:
    """{HF name: (shard, dtype, shape)} read from the shard headers (no tensor data)."""
    from safetensors import safe_open

    out = {}
    for shard in _shards(model_dir):
        if not shard.is_file():
            raise ValueError(msg("the index lists {name}, which is missing", name=shard.name))
        with safe_open(str(shard), framework="numpy") as f:
            for name in f.keys():
                sl = f.get_slice(name)
                out[name] = (shard, str(sl.get_dtype()), tuple(sl.get_shape()))
    return out


def _expected_tensors(cfg: dict) -> list[str]:
    per_layer = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
                 "mlp.up_proj", "mlp.down_proj", "input_layernorm", "post_attention_layernorm")
    layers = [f"model.layers.{i}.{p}.weight" for i in range(int(cfg.get("num_hidden_layers") or 0)) for p in per_layer]
    return ["model.embed_tokens.weight", "model.norm.weight", *layers]


# The Split regexes of Llama 3's and Qwen2's tokenizer.json, and llama.cpp's names for them
SPLIT_REGEXES = {
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+":
        "llama-bpe",
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+":
        "qwen2",
}


def _pre_tokenizer(tj: dict) -> str | None:
    """llama.cpp's name for a byte-level BPE's pre-tokenizer, from its structure; None if not recognised."""
    pre = tj.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [pre]) if pre else []
    kinds = [s.get("type") for s in steps]
    if kinds == ["ByteLevel"] and steps[0].get("use_regex", True):
        return "gpt-2"
    if kinds == ["Digits", "ByteLevel"] and steps[0].get("individual_digits") and steps[1].get("use_regex", True):
        return "smollm"
    if kinds == ["Split", "ByteLevel"] and not steps[1].get("use_regex", True) and not steps[0].get("invert"):
        return SPLIT_REGEXES.get(steps[0].get("pattern", {}).get("Regex", ""))
    return None


def _tokenizer_kind(model_dir: Path) -> tuple[str, str]:
    """("spm" | "llama-hf" | "gpt2", pre-tokenizer name); ValueError says what to change."""
    has_spm = (model_dir / "tokenizer.model").is_file()
    if has_spm and importlib.util.find_spec("sentencepiece"):
        return "spm", "default"
    tj = _json(model_dir / "tokenizer.json")
    if tj is None:
        if has_spm:
            raise ValueError(msg("tokenizer.model needs the sentencepiece package: pip install sentencepiece"))
        raise ValueError(msg("no tokenizer.json or tokenizer.model: copy the tokenizer files from the source model"))
    model = tj.get("model") or {}
    if model.get("type") != "BPE":
        raise ValueError(msg("tokenizer.json holds a {type} model; GGUF export takes BPE tokenizers "
                             "(byte-level or SentencePiece-style) or a tokenizer.model", type=model.get("type")))
    if model.get("byte_fallback"):
        return "llama-hf", "default"
    pre = _pre_tokenizer(tj)
    if pre is None:
        raise ValueError(msg("tokenizer.json's pre-tokenizer is not one this exporter recognises "
                             "(GPT-2's, SmolLM's, Llama 3's, Qwen2's): llama.cpp would split text differently"))
    return "gpt2", pre


def _token_count(model_dir: Path) -> int:
    tj = _json(model_dir / "tokenizer.json") or {}
    ids = [*((tj.get("model") or {}).get("vocab") or {}).values(), *(t["id"] for t in tj.get("added_tokens", []))]
    return max(ids) + 1 if ids else 0


def source_problems(model_dir: Path) -> list[str]:
    """Reasons `model_dir` cannot be converted, each saying what to change (empty: it can)."""
    model_dir = Path(model_dir)
    cfg = _json(model_dir / "config.json")
    if not isinstance(cfg, dict):
        return [msg("no readable config.json in {path}: choose the model folder (config.json beside *.safetensors)",
                    path=model_dir)]
    problems = []
    quant = cfg.get("quantization_config")
    if quant:
        method = str(quant.get("quant_method", "unknown")) if isinstance(quant, dict) else "unknown"
        problems.append(msg("the model is already quantized ({method}): re-quantizing dequantized {upper} "
                            "weights compounds error; export the job's source model", method=method,
                            upper=method.upper()))
    arch = (cfg.get("architectures") or ["(none)"])[0]
    if arch not in ARCHS:
        problems.append(msg("architecture {arch} is not supported for GGUF export (supported: {archs})", arch=arch,
                            archs=", ".join(ARCHS)))
    try:
        _tokenizer_kind(model_dir)
        if _token_count(model_dir) > int(cfg.get("vocab_size") or 0):
            problems.append(msg("the tokenizer has {count} tokens, more than the model's vocab_size {vocab}: the "
                                "tokenizer does not belong to this model", count=_token_count(model_dir),
                                vocab=cfg.get("vocab_size")))
    except ValueError as e:
        problems.append(str(e))
    if not quant and arch in ARCHS:
        problems += _weight_problems(model_dir, cfg)
    return problems


def _weight_problems(model_dir: Path, cfg: dict) -> list[str]:
    try:
        index = _tensor_index(model_dir)
    except Exception as e:  # a damaged header raises safetensors' own error type
        return [msg("the weights cannot be read ({error}): copy the model again", error=e)]
    if not index:
        return [msg("no *.safetensors weights (pytorch_model.bin is not read): re-save with save_pretrained()")]
    problems = []
    dtypes = sorted({d for _, d, _ in index.values()} - set(SOURCE_DTYPES))
    if dtypes:
        problems.append(msg("tensors stored as {dtypes}: only float16, bfloat16 and float32 checkpoints can be "
                            "exported", dtypes=", ".join(dtypes)))
    missing = [n for n in _expected_tensors(cfg) if n not in index]
    if missing:
        problems.append(msg("{count} expected tensors are missing (first: {names}): the checkpoint is incomplete",
                            count=len(missing), names=", ".join(missing[:3])))
    return problems


def _hparams(cfg: dict) -> dict:
    heads = int(cfg["num_attention_heads"])
    hidden = int(cfg["hidden_size"])
    rope = cfg.get("rope_scaling") or cfg.get("rope_parameters") or {}
    return {"hidden": hidden, "heads": heads, "kv_heads": int(cfg.get("num_key_value_heads") or heads),
            "head_dim": int(cfg.get("head_dim") or hidden // heads), "layers": int(cfg["num_hidden_layers"]),
            "theta": float(cfg.get("rope_theta") or rope.get("rope_theta") or 10000.0), "rope": rope,
            "vocab": int(cfg["vocab_size"])}


def _llama3_rope_factors(hp: dict) -> Any:
    """Llama 3.1's per-frequency rope divisors, which llama.cpp reads from a rope_freqs tensor."""
    import numpy as np

    r, dim = hp["rope"], hp["head_dim"]
    factor, low, high = float(r["factor"]), float(r["low_freq_factor"]), float(r["high_freq_factor"])
    old = float(r["original_max_position_embeddings"])
    out = []
    for i in range(0, dim, 2):
        wavelen = 2 * math.pi * hp["theta"] ** (i / dim)
        if wavelen < old / high:
            out.append(1.0)
        elif wavelen > old / low:
            out.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def _tensor_type(name: str, shape: tuple[int, ...], gguf_type: str, output_role: bool, notes: list[str]) -> Any:
    """F32 for norms and 1-D tensors; the target type for 2-D weights, or F16 where rows do not fit its blocks."""
    import gguf

    Q = gguf.GGMLQuantizationType
    if len(shape) == 1 or name.endswith("_norm.weight"):
        return Q.F32
    target = Q[gguf_type.upper()]
    if output_role and target in (Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1):
        target = Q.Q8_0  # llama.cpp keeps the output matrix at 6+ bits; Q6_K is not made in Python
        notes.append(msg("{name} written as Q8_0 (the output matrix is kept at higher precision)", name=name))
    block = gguf.GGML_QUANT_SIZES[target][0]
    if shape[-1] % block:
        notes.append(msg("{name}: rows of {cols} do not divide into {type} blocks of {block}; written as F16",
                        name=name, cols=shape[-1], type=target.name, block=block))
        return Q.F16
    return target


def _plan(model_dir: Path, cfg: dict, gguf_type: str, notes: list[str]) -> list[_Item]:
    import gguf

    arch, hp = ARCHS[cfg["architectures"][0]], _hparams(cfg)
    model_arch = next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch.gguf_name)
    names = gguf.get_tensor_name_map(model_arch, hp["layers"])
    T = gguf.MODEL_TENSOR
    index = _tensor_index(model_dir)
    tied = bool(cfg.get("tie_word_embeddings")) or "lm_head.weight" not in index
    items, skipped = [], []
    for hf_name, (_, _, shape) in index.items():
        found = names.get_type_and_name(hf_name, try_suffixes=(".weight", ".bias"))
        if found is None or (hf_name == "lm_head.weight" and tied):  # tied: llama.cpp reuses token_embd
            skipped.append(hf_name)
            continue
        kind, name = found
        heads = {T.ATTN_Q: hp["heads"], T.ATTN_K: hp["kv_heads"]}.get(kind) if arch.permute_qk else None
        output_role = kind == T.OUTPUT or (kind == T.TOKEN_EMBD and tied)
        items.append(_Item(name, hf_name, shape, _tensor_type(name, shape, gguf_type, output_role, notes), heads))
    if str(hp["rope"].get("rope_type") or hp["rope"].get("type")) == "llama3":
        factors = _llama3_rope_factors(hp)
        items.append(_Item("rope_freqs.weight", None, factors.shape, gguf.GGMLQuantizationType.F32, data=factors))
    if skipped:
        notes.append(msg("{count} source tensors not written: {names}", count=len(skipped), names=", ".join(skipped[:4])))

    def order(item: _Item) -> tuple:
        if m := re.match(r"blk\.(\d+)\.", item.name):
            return (2, int(m.group(1)), item.name)
        rank = {"rope_freqs": 0, "token_embd": 1, "output_norm": 3, "output": 4}
        return (rank.get(item.name.split(".")[0], 5), 0, item.name)

    return sorted(items, key=order)


def _add_metadata(w: Any, model_dir: Path, cfg: dict, gguf_type: str, notes: list[str]) -> None:
    import gguf

    hp = _hparams(cfg)
    w.add_name(model_dir.name)
    w.add_context_length(int(cfg.get("max_position_embeddings") or 2048))
    w.add_embedding_length(hp["hidden"])
    w.add_block_count(hp["layers"])
    w.add_feed_forward_length(int(cfg["intermediate_size"]))
    w.add_head_count(hp["heads"])
    w.add_head_count_kv(hp["kv_heads"])
    w.add_rope_dimension_count(hp["head_dim"])
    if hp["head_dim"] != hp["hidden"] // hp["heads"]:
        w.add_key_length(hp["head_dim"])
        w.add_value_length(hp["head_dim"])
    w.add_rope_freq_base(hp["theta"])
    w.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps") or 1e-6))
    w.add_vocab_size(hp["vocab"])
    w.add_file_type(getattr(gguf.LlamaFileType, f"MOSTLY_{gguf_type.upper()}"))
    if gguf_type not in ("f16", "bf16"):
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    rope = hp["rope"]
    kind = str(rope.get("rope_type") or rope.get("type") or "default")
    if kind == "linear":
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(float(rope["factor"]))
    elif kind == "yarn":
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(float(rope["factor"]))
        if rope.get("original_max_position_embeddings"):
            w.add_rope_scaling_orig_ctx_len(int(rope["original_max_position_embeddings"]))
    elif kind not in ("default", "llama3"):
        notes.append(msg("rope scaling {kind!r} is not written: llama.cpp will use plain rope", kind=kind))
    if cfg.get("architectures", [""])[0] == "MistralForCausalLM" and cfg.get("sliding_window"):
        notes.append(msg("sliding_window={window} is not written: llama.cpp's llama architecture attends to the "
                         "whole context", window=cfg["sliding_window"]))


def _bpe_tokens(tj: dict) -> tuple[dict[int, str], dict[int, dict]]:
    vocab = {int(i): t for t, i in ((tj.get("model") or {}).get("vocab") or {}).items()}
    added = {int(t["id"]): t for t in tj.get("added_tokens", [])}
    vocab.update({i: t["content"] for i, t in added.items()})
    return vocab, added


def _space_prefix(tj: dict) -> bool:
    """Whether a SentencePiece-style tokenizer.json puts "\u2581" before the text (llama.cpp's add_space_prefix)."""
    steps = [tj.get("normalizer") or {}, tj.get("pre_tokenizer") or {}]
    steps = [s for step in steps for s in step.get("normalizers", step.get("pretokenizers", [step]))]
    return any(s.get("type") == "Prepend" or (s.get("type") == "Metaspace" and s.get("prepend_scheme", "always")
                                              != "never" and s.get("add_prefix_space", True)) for s in steps)


def _add_vocab(w: Any, model_dir: Path, n_vocab: int) -> None:
    """tokenizer.ggml.*: tokens, types (and scores or merges), special ids, chat template."""
    import gguf

    TT = gguf.TokenType
    kind, pre = _tokenizer_kind(model_dir)
    tokens: list[str | bytes] = []
    scores: list[float] = []
    types: list[int] = []
    tj = _json(model_dir / "tokenizer.json") or {}
    space_prefix = _space_prefix(tj)
    if kind == "spm":
        spv = gguf.SentencePieceVocab(model_dir)
        space_prefix = spv.sentencepiece_tokenizer.encode("a", out_type=str)[0].startswith("\u2581")
        for piece, score, ttype in spv.all_tokens():
            tokens.append(piece)
            scores.append(score)
            types.append(ttype)
    if kind in ("gpt2", "llama-hf"):
        vocab, _ = _bpe_tokens(tj)
        merges = (tj.get("model") or {}).get("merges") or []
        # a byte-fallback BPE as SentencePiece: a merge's result scores by its rank (earlier merges win)
        rank = {"".join(m) if isinstance(m, list) else m.replace(" ", ""): -float(r) for r, m in enumerate(merges)}
        for i in range(max(vocab) + 1 if vocab else 0):
            text = vocab.get(i, f"[PAD{i}]")
            tokens.append(text)
            scores.append(rank.get(text, -float(len(merges) + i)))
            is_byte = kind == "llama-hf" and re.fullmatch(r"<0x[0-9A-Fa-f]{2}>", text)
            types.append(TT.UNUSED if i not in vocab else TT.BYTE if is_byte else TT.NORMAL)
    unk = (tj.get("model") or {}).get("unk_token") or (_json(model_dir / "tokenizer_config.json") or {}).get("unk_token")
    unk = unk.get("content") if isinstance(unk, dict) else unk
    for i, t in _bpe_tokens(tj)[1].items():  # added tokens override the base model's entries
        tokens.extend(f"[PAD{j}]" for j in range(len(tokens), i + 1))
        scores.extend(0.0 for _ in range(len(scores), i + 1))
        types.extend(TT.UNUSED for _ in range(len(types), i + 1))
        keep = types[i] in (TT.UNKNOWN, TT.BYTE)
        ttype = TT.UNKNOWN if t["content"] == unk else TT.CONTROL if t.get("special") else TT.USER_DEFINED
        tokens[i], types[i] = t["content"], types[i] if keep else ttype
    if len(tokens) > n_vocab:
        raise ValueError(msg("the tokenizer has {count} tokens, more than the model's vocab_size {vocab}",
                             count=len(tokens), vocab=n_vocab))
    for i in range(len(tokens), n_vocab):  # the model's rows past the tokenizer: padding
        tokens.append(f"[PAD{i}]")
        scores.append(0.0)
        types.append(TT.UNUSED)
    w.add_tokenizer_model("gpt2" if kind == "gpt2" else "llama")
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    if kind != "gpt2":
        w.add_token_scores(scores)
        w.add_add_space_prefix(space_prefix)
    w.add_token_types(types)
    special = gguf.SpecialVocab(model_dir, load_merges=kind == "gpt2", n_vocab=n_vocab)
    if kind != "spm":  # tokenizer.json's post-processor adds no BOS; llama.cpp's default may (llama-bpe: yes)
        special.add_special_token.setdefault("bos", False)
    special.add_to_gguf(w, quiet=True)


def _load(index: dict, item: _Item) -> Any:
    """The item's tensor as float32 numpy, regrouped for llama.cpp's rope where needed. The shard is
    opened for this tensor alone: an open shard keeps every page read so far mapped into the process."""
    import torch
    from safetensors import safe_open

    if item.data is not None:
        return item.data
    with safe_open(str(index[item.source][0]), framework="pt") as f:
        arr = f.get_tensor(item.source).to(torch.float32).numpy()
    if item.heads:  # each head: rows (i, i + d/2) become rows (2i, 2i + 1)
        arr = arr.reshape(item.heads, 2, arr.shape[0] // item.heads // 2, *arr.shape[1:]).swapaxes(1, 2)
        arr = arr.reshape(item.shape)
    return arr


def _write(model_dir: Path, path: Path, gguf_type: str, report: Callable[[int, str], None],
           should_stop: Callable[[], bool], notes: list[str]) -> int:
    """Write `path` tensor by tensor; return the tensor count."""
    import gguf
    import numpy as np

    cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    items = _plan(model_dir, cfg, gguf_type, notes)
    index = _tensor_index(model_dir)
    w = gguf.GGUFWriter(path, ARCHS[cfg["architectures"][0]].gguf_name)
    try:
        _add_metadata(w, model_dir, cfg, gguf_type, notes)
        _add_vocab(w, model_dir, int(cfg["vocab_size"]))
        for it in items:
            nbytes = math.prod(gguf.quants.quant_shape_to_byte_shape(it.shape, it.qtype))
            w.add_tensor_info(it.name, it.shape, np.dtype(np.float32), nbytes, raw_dtype=it.qtype)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()
        for done, it in enumerate(items, 1):
            if should_stop():
                raise Stopped()
            arr = _load(index, it)
            if it.qtype == gguf.GGMLQuantizationType.F16 and arr.size and np.abs(arr).max() > 65504:
                notes.append(msg("{name} has values beyond the float16 range: export as bf16 instead", name=it.name))
            w.write_tensor_data(gguf.quants.quantize(arr, it.qtype))
            report(done, it.name)
    finally:
        w.close()
    return len(items)


def _llama_quantize(quantize_bin: list[str], src: Path, dst: Path, gguf_type: str, report: Callable[[int, str], None],
                    should_stop: Callable[[], bool]) -> None:
    """Run llama-quantize (output to a log file, polled): its "[ i/ n] name" lines become progress."""
    from services.runtime import process

    log = dst.with_name(dst.name + ".log")
    try:
        with open(log, "w", encoding="utf-8") as fh:
            proc = process.start([*quantize_bin, str(src), str(dst), gguf_type.upper()], stdout=fh, stderr=fh)
            seen = 0
            while True:
                code = proc.poll()
                text = log.read_text(encoding="utf-8", errors="replace")
                end = text.rfind("\n") + 1
                for m in re.finditer(r"^\[\s*(\d+)/\s*\d+\]\s+(\S+)", text[seen:end], re.M):
                    report(int(m.group(1)), m.group(2))
                seen = max(seen, end)
                if code is not None:
                    break
                if should_stop():
                    process.kill_tree(proc.pid)
                    proc.wait()
                    raise Stopped()
                time.sleep(0.1)
        if code != 0:
            tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:])
            tool = "llama-quantize" if len(quantize_bin) == 1 else msg("the llama.cpp engine's llama_model_quantize")
            raise RuntimeError(msg("{tool} failed (exit {code}):", tool=tool, code=code) + "\n" + tail)
    finally:
        log.unlink(missing_ok=True)


def convert(model_dir: Path, out_file: Path, gguf_type: str, *, progress: Callable[[int, int, str], None] | None = None,
            should_stop: Callable[[], bool] | None = None, quantize_bin: str | list[str] | None = None) -> dict:
    """Write `out_file` from the HF folder `model_dir`; return a summary (type, tensors, bytes, seconds,
    source_bytes, arch, vocab_size, notes). Written aside and renamed: a failed or stopped run (`Stopped`)
    leaves `out_file` as it was, and nothing beside it. progress(done, total, tensor name) follows every
    tensor (K-types: the F16 pass, then llama-quantize's; total counts both)."""
    model_dir, out_file, gguf_type = Path(model_dir), Path(out_file), gguf_type.lower()
    if gguf_type not in PY_TYPES + K_TYPES:
        raise ValueError(msg("unknown GGUF type {type!r}; choose one of {types}", type=gguf_type,
                             types=", ".join(PY_TYPES + K_TYPES)))
    if gguf_type in K_TYPES and not quantize_bin:
        raise ValueError(msg("{type} is a K-quant, which needs llama.cpp's llama-quantize (in every llama.cpp "
                             "release archive, or built from llama.cpp): give its path, or choose {types}",
                             type=gguf_type, types=", ".join(PY_TYPES)))
    problems = source_problems(model_dir)
    if problems:
        raise ValueError("; ".join(problems))
    cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    stop = should_stop or (lambda: False)
    notes: list[str] = []
    n = len(_plan(model_dir, cfg, "f16" if gguf_type in K_TYPES else gguf_type, []))
    total = 2 * n if gguf_type in K_TYPES else n

    def report(offset: int) -> Callable[[int, str], None]:
        return lambda done, name: progress(offset + done, total, name) if progress else None

    start = time.monotonic()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    partial = out_file.with_name(out_file.name + ".partial")
    f16 = out_file.with_name(out_file.name + ".f16.partial")
    try:
        if gguf_type in K_TYPES:
            assert quantize_bin is not None
            _write(model_dir, f16, "f16", report(0), stop, notes)
            _llama_quantize([quantize_bin] if isinstance(quantize_bin, str) else quantize_bin, f16, partial, gguf_type, report(n), stop)
        else:
            _write(model_dir, partial, gguf_type, report(0), stop, notes)
        os.replace(partial, out_file)
    finally:
        for p in (partial, f16):
            p.unlink(missing_ok=True)
    return {"type": gguf_type, "tensors": n, "bytes": out_file.stat().st_size,
            "seconds": round(time.monotonic() - start, 3), "arch": ARCHS[cfg["architectures"][0]].gguf_name,
            "source_bytes": sum(p.stat().st_size for p in _shards(model_dir)), "vocab_size": int(cfg["vocab_size"]),
            "notes": list(dict.fromkeys(notes))}


def write_modelfile(gguf_file: Path, folder: Path, stop: list[str]) -> Path:
    """An Ollama Modelfile in `folder` that loads `gguf_file` by a relative path; returns its path."""
    rel = Path(os.path.relpath(Path(gguf_file).resolve(), Path(folder).resolve())).as_posix()
    lines = [f"FROM {rel if rel.startswith('../') else './' + rel}"]
    lines += ['PARAMETER stop "' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in stop]
    path = Path(folder) / "Modelfile"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
