"""The source model's greedy answers to the smoke prompts through transformers (the job runner only:
it imports torch), decoded to text, and a tokenizer to compare answers token by token."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def fits_in_ram(folder: Path, share: float = 0.5) -> bool:
    """The weights (float32 on the CPU) take at most `share` of the free memory."""
    import psutil

    from services.modelfiles import weight_files

    size = sum(f.stat().st_size for f in weight_files(folder))
    return size * 2 <= psutil.virtual_memory().available * share  # fp16/bf16 files grow to float32


def reference_answers(folder: Path, prompts: list[str], max_tokens: int,
                      check: Callable[[], None]) -> tuple[list[str], Callable[[str], list[int]]]:
    from transformers import AutoTokenizer

    from services.evaluate.answers import encode_prompt, generate
    from services.evaluate.models import load_for_eval

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = load_for_eval(folder)
    texts = []
    for prompt in prompts:
        check()
        ids = generate(model, tokenizer, encode_prompt(tokenizer, prompt), "fp16", max_tokens)
        texts.append(tokenizer.decode(ids, skip_special_tokens=True))
    del model

    def tokenize(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    return texts, tokenize
