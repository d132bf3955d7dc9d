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
