"""Answer comparison: greedy generation per variant, agreement with the baseline, first divergence."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from services.messages import msg

DEFAULT_PROMPTS = Path(__file__).with_name("default_prompts.json")


@dataclass
class Agreement:
    rate: float  # share of positions where the tokens are equal
    first_divergence: int | None  # index of the first differing token, None when identical


def agreement(baseline: list[int], other: list[int]) -> Agreement:
    n = max(len(baseline), len(other))
    if n == 0:
        return Agreement(1.0, None)
    same = sum(a == b for a, b in zip(baseline, other, strict=False))
    first = next((i for i, (a, b) in enumerate(zip(baseline, other, strict=False)) if a != b), None)
    if first is None and len(baseline) != len(other):
        first = min(len(baseline), len(other))
    return Agreement(same / n, first)


def load_prompts(path: str | Path | None = None) -> list[str]:
    """Prompts from a .txt (one a line) or .json/.jsonl (strings or {"prompt": ...}); default: the project's set."""
    path = Path(path) if path else DEFAULT_PROMPTS
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".txt":
        prompts = [line.strip() for line in text.splitlines() if line.strip()]
    elif path.suffix == ".jsonl":
        prompts = [_prompt(json.loads(line)) for line in text.splitlines() if line.strip()]
    else:
        items = json.loads(text)
        if not isinstance(items, list):
            raise ValueError(msg("{name} must hold a JSON list of prompts (strings or {example}), not a {type}",
                                 name=path.name, example='{"prompt": "..."}', type=type(items).__name__))
        prompts = [_prompt(p) for p in items]
    if not prompts:
        raise ValueError(msg("{name} holds no prompts", name=path.name))
    return prompts


def _prompt(item) -> str:
    text = item.get("prompt") if isinstance(item, dict) else item
    if isinstance(text, str) and text.strip():
        return text
    raise ValueError(f'each prompt must be a non-empty string or {{"prompt": "..."}}, not {json.dumps(item)[:60]}')


def encode_prompt(tokenizer, prompt: str) -> list[int]:
    """The prompt as the model sees it in a chat (its chat template), or plain text without one."""
    if getattr(tokenizer, "chat_template", None):
        ids = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                            tokenize=True)
        return list(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)
    return tokenizer(prompt)["input_ids"]


def generate(model, tokenizer, prompt_ids: list[int], kv: str, max_new_tokens: int, device: str = "cpu",
             stop=None) -> list[int]:
    """Greedy continuation of `prompt_ids` with the KV cache stored under `kv`; `stop()` True ends it early."""
    import torch

    from services.evaluate.kvquant import quantized_cache

    ids = torch.tensor([prompt_ids], device=device)
    kwargs = {}
    if kv != "fp16":
        kwargs["past_key_values"] = quantized_cache(kv, model.config)
    if stop is not None:
        from transformers import StoppingCriteria, StoppingCriteriaList

        class Asked(StoppingCriteria):
            def __call__(self, input_ids, scores, **kw):
                return torch.full((input_ids.shape[0],), bool(stop()), dtype=torch.bool, device=input_ids.device)

        kwargs["stopping_criteria"] = StoppingCriteriaList([Asked()])
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens, do_sample=False,
                             use_cache=True, pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id, **kwargs)
    return out[0, len(prompt_ids):].tolist()
