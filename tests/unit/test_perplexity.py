"""Perplexity windows and the value against a direct computation with transformers."""
import math

import pytest

from services.evaluate.perplexity import windows


def test_non_overlapping_windows_score_all_but_their_first_token():
    assert windows(10, 4) == [(0, 4, 1), (4, 8, 1), (8, 10, 1)]


def test_overlapping_windows_score_each_token_once():
    spans = windows(100, 32, stride=16)
    scored = sum(e - b - first for b, e, first in spans)
    assert scored == 99 and spans[0] == (0, 32, 1) and spans[1] == (16, 48, 16)
    with pytest.raises(ValueError):
        windows(10, 4, stride=8)


def test_perplexity_equals_transformers_loss(tiny_llama):
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM

    from services.evaluate.perplexity import perplexity

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama), dtype=torch.float32).eval()
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, model.config.vocab_size, (1000,), generator=g).tolist()
    ours = perplexity(model, ids, context=256)
    nll, n = 0.0, 0
    with torch.no_grad():
        for b in range(0, len(ids), 256):
            x = torch.tensor([ids[b:b + 256]])
            if x.shape[1] < 2:
                continue
            loss = float(model(x, labels=x).loss)
            nll += loss * (x.shape[1] - 1)
            n += x.shape[1] - 1
    assert ours.tokens == n
    assert abs(ours.perplexity / math.exp(nll / n) - 1) < 1e-4
