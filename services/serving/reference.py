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
    stop = _Stop(check)
    for prompt in prompts:
        check()
        ids = generate(model, tokenizer, encode_prompt(tokenizer, prompt), "fp16", max_tokens, stop=stop)
        check()
        texts.append(tokenizer.decode(ids, skip_special_tokens=True))
    del model

    def tokenize(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    return texts, tokenize


class _Stop:
    """Ends a generation early when a stop was asked (`check` raises then; the next check() says so)."""

    def __init__(self, check: Callable[[], None]):
        self._check = check

    def __call__(self) -> bool:
        try:
            self._check()
        except Exception:
            return True
        return False


def vocabulary_problem(folder: Path, served: Path) -> str | None:
    """A reference whose tokenizer differs from the served model's cannot be compared token by token."""
    from transformers import AutoTokenizer

    try:
        ref = AutoTokenizer.from_pretrained(str(folder))
    except Exception as exc:  # transformers raises many kinds here
        return f"--reference {folder}: its tokenizer does not load ({str(exc).splitlines()[0][:200]})"
    if served.suffix.lower() == ".gguf":
        try:
            from gguf import GGUFReader

            f = GGUFReader(str(served)).fields["tokenizer.ggml.tokens"]
            size = len(f.data)

            def token(i: int) -> str:
                return bytes(f.parts[f.data[i]]).decode("utf-8", errors="replace")
        except Exception:  # an unreadable file: the engine says why
            return None
    else:
        try:
            other = AutoTokenizer.from_pretrained(str(served))
        except Exception:
            return None
        size = len(other)

        def token(i: int) -> str:
            return str(other.convert_ids_to_tokens(i))
    n = min(size, len(ref))  # a file may pad its vocabulary or add a few tokens: compare what both have
    ids = list(range(0, n, max(1, n // 96)))
    if abs(size - len(ref)) > max(64, n // 100) or any(token(i) != str(ref.convert_ids_to_tokens(i)) for i in ids):
        return (f"--reference {folder} has another vocabulary ({len(ref)} tokens) than the served model ({size}): "
                "it is a different model")
    return None
