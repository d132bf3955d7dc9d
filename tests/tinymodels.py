"""Tiny models and tokenizers built by the tests themselves (nothing is downloaded).

The tokenizer is a byte-level BPE trained on docstrings of the Python standard library; the models
are 2-4 layer Llama / Qwen2 configs with random weights, saved like a hub checkpoint
(config.json, model.safetensors, tokenizer files, generation_config.json).
"""
from __future__ import annotations

import ast
import functools
import json
import sysconfig
from pathlib import Path

STDLIB_MODULES = ("argparse", "collections/__init__", "json/__init__", "pathlib", "subprocess", "threading",
                  "logging/__init__", "email/message", "http/client", "unittest/case", "typing", "inspect",
                  "datetime", "decimal", "fractions", "statistics", "textwrap", "string", "shutil", "tarfile",
                  "zipfile", "csv", "configparser", "difflib", "heapq", "functools", "enum", "dataclasses")

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def stdlib_docstrings(limit_chars: int | None = None) -> list[str]:
    """Docstrings of a fixed set of standard-library modules, in a stable order."""
    return list(_docstrings(limit_chars))


@functools.lru_cache(maxsize=4)
def _docstrings(limit_chars: int | None) -> tuple[str, ...]:
    root = Path(sysconfig.get_paths()["stdlib"])
    texts: list[str] = []
    total = 0
    for name in STDLIB_MODULES:
        path = root / f"{name}.py"
        if not path.exists():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 40:
                    texts.append(doc)
                    total += len(doc)
                    if limit_chars and total >= limit_chars:
                        return tuple(texts)
    return tuple(texts)


def build_tokenizer(out_dir: Path, vocab_size: int = 512) -> Path:
    """Train a byte-level BPE on the docstrings and save it as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<s>", "</s>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(stdlib_docstrings(), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    fast.chat_template = CHAT_TEMPLATE
    out_dir.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(out_dir))
    return out_dir


def tiny_config(arch: str = "llama", vocab_size: int = 512, layers: int = 2, hidden: int = 64, heads: int = 4,
                kv_heads: int = 2, intermediate: int = 128, **extra):
    from transformers import LlamaConfig, Qwen2Config

    cls = {"llama": LlamaConfig, "qwen2": Qwen2Config}[arch]
    return cls(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=intermediate,
               num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
               max_position_embeddings=2048, bos_token_id=0, eos_token_id=1, pad_token_id=2,
               tie_word_embeddings=(arch == "qwen2"), **extra)


def build_model(out_dir: Path, tokenizer_dir: Path, arch: str = "llama", seed: int = 0, dtype: str = "float32",
                **config) -> Path:
    """Save a random-weight model with the tokenizer files beside it; return the folder."""
    import shutil

    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    torch.manual_seed(seed)
    vocab = json.loads((tokenizer_dir / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    cfg = tiny_config(arch, vocab_size=len(vocab) + 3, **config)
    model = AutoModelForCausalLM.from_config(cfg, dtype=getattr(torch, dtype))
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    GenerationConfig(bos_token_id=0, eos_token_id=1, pad_token_id=2).save_pretrained(str(out_dir))
    for f in tokenizer_dir.iterdir():
        shutil.copy2(f, out_dir / f.name)
    return out_dir


def split_corpus(tokenizer_dir: Path) -> tuple[list[int], list[int]]:
    """(train ids, held-out ids): the first 80% of the docstrings and the rest, tokenized."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    docs = stdlib_docstrings()
    cut = len(docs) * 8 // 10
    train = [i for ids in tok(docs[:cut], add_special_tokens=False)["input_ids"] for i in ids]
    held = [i for ids in tok(docs[cut:], add_special_tokens=False)["input_ids"] for i in ids]
    return train, held


def build_structured_model(out_dir: Path, tokenizer_dir: Path, steps: int = 300, outlier_factor: float = 20.0,
                           seed: int = 0) -> Path:
    """A tiny Llama trained briefly on the docstrings (held-out perplexity ~50 against ~500 at random),
    then given activation outliers like real LLMs: a few RMSNorm channels scaled up by `outlier_factor`
    and the matching weight columns scaled down (the function is unchanged). Saved in fp16.

    Random weights hide quantization bugs (their channels all look alike); this model does not.
    """
    import shutil

    import torch
    from transformers import AutoModelForCausalLM

    scratch = out_dir.with_name(out_dir.name + "-init")
    build_model(scratch, tokenizer_dir, "llama", seed=seed, hidden=128, intermediate=256, heads=4, kv_heads=2,
                layers=2)
    model = AutoModelForCausalLM.from_pretrained(str(scratch), dtype=torch.float32)
    train, _ = split_corpus(tokenizer_dir)
    data = torch.tensor(train)
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(data) - 65, (16,))
        x = torch.stack([data[i:i + 64] for i in idx])
        model(x, labels=x).loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for layer in model.model.layers:
            pairs = ((layer.input_layernorm, (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj)),
                     (layer.post_attention_layernorm, (layer.mlp.gate_proj, layer.mlp.up_proj)))
            for norm, linears in pairs:
                ch = torch.randperm(norm.weight.numel(), generator=g)[:4]
                norm.weight[ch] *= outlier_factor
                for lin in linears:
                    lin.weight[:, ch] /= outlier_factor
    model.half().save_pretrained(str(out_dir))
    for f in scratch.iterdir():
        if not f.name.startswith(("model", "config")):
            shutil.copy2(f, out_dir / f.name)
    shutil.rmtree(scratch)
    return out_dir


def round_to_nearest(model, group_size: int = 64, bits: int = 4):
    """Plain round-to-nearest W4 (asymmetric, per group) of every decoder linear layer, in place."""
    import torch

    levels = 2**bits - 1
    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, torch.nn.Linear) and "lm_head" not in name:
                w = mod.weight.reshape(-1, group_size).float()
                mx, mn = w.amax(1, keepdim=True), w.amin(1, keepdim=True)
                scale = (mx - mn).clamp(min=1e-5) / levels
                zero = (-mn / scale).round()
                q = (w / scale).round().add(zero).clamp(0, levels)
                mod.weight.copy_(((q - zero) * scale).reshape(mod.weight.shape))
    return model
