"""KV-cache fake quantization: error bounds, ordering, and that the cache really holds quantized K/V."""
import pytest

torch = pytest.importorskip("torch")

from services.evaluate.kvquant import fake_quant, fake_quant_asym, quantized_cache  # noqa: E402


def test_round_trip_error_is_within_half_a_step():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 33, 64, generator=g) * 3 + 0.5
    for bits in (8, 4):
        levels = 2**bits - 1
        deq = fake_quant_asym(x, bits)
        mn, mx = x.amin(-1, keepdim=True), x.amax(-1, keepdim=True)
        step = (mx - mn) / levels
        # half a step, plus what storing scale and zero in fp16 moves the grid by
        bound = step / 2 + levels * (step - step.half().float()).abs() + (mn - mn.half().float()).abs() + 1e-6
        assert bool(((deq - x).abs() <= bound).all())
        assert float(((deq - x).abs() / step).max()) < 0.75
        assert len(torch.unique(deq[0, 0, 0])) <= 2**bits  # at most 2^bits distinct values per head and token


def test_per_head_per_token_scales():
    x = torch.zeros(1, 2, 2, 8)
    x[0, 0, 0] = torch.linspace(0, 1, 8)
    x[0, 1, 1] = torch.linspace(0, 1000, 8)  # a huge token in another head must not coarsen the first
    deq = fake_quant_asym(x, 4)
    assert torch.allclose(deq[0, 0, 0], x[0, 0, 0], atol=1 / 15 / 2 + 1e-3)


def test_attention_error_grows_fp16_int8_int4():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(1, 4, 128, 64, generator=g) for _ in range(3))
    exact = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    errs = {}
    for policy in ("fp16", "fp8", "int8", "int4"):
        out = torch.nn.functional.scaled_dot_product_attention(q, fake_quant(k, policy), fake_quant(v, policy),
                                                               is_causal=True)
        errs[policy] = float((out - exact).pow(2).mean().sqrt())
    assert errs["fp16"] == 0.0 < errs["int8"] < errs["fp8"] < errs["int4"], errs


def test_unknown_policy():
    with pytest.raises(ValueError, match="unknown KV policy"):
        fake_quant(torch.zeros(1, 1, 1, 4), "int2")


@pytest.fixture(scope="module")
def model(tiny_llama):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(tiny_llama), dtype=torch.float32).eval()


def test_the_cache_stores_quantized_keys_and_values(model):
    ids = torch.arange(3, 40).unsqueeze(0)
    with torch.no_grad():
        plain = model(ids, use_cache=True).past_key_values
        quant = model(ids, past_key_values=quantized_cache("int4", model.config), use_cache=True).past_key_values
    # layer 0 sees the same input either way: its stored K/V are exactly the quantized plain ones
    assert torch.equal(quant.layers[0].keys, fake_quant(plain.layers[0].keys, "int4"))
    assert torch.equal(quant.layers[0].values, fake_quant(plain.layers[0].values, "int4"))
    for lp, lq in zip(plain.layers, quant.layers, strict=True):
        assert torch.allclose(fake_quant(lq.keys, "int4"), lq.keys, atol=1e-5)  # on the int4 grid
        assert not torch.allclose(lq.keys, lp.keys, atol=1e-4)


def test_later_tokens_attend_to_quantized_kv(model):
    ids = torch.arange(3, 40).unsqueeze(0)
    with torch.no_grad():
        full = model(ids, past_key_values=quantized_cache("int4", model.config), use_cache=True).logits[0, -1]
        cache = quantized_cache("int4", model.config)
        model(ids[:, :-1], past_key_values=cache, use_cache=True)
        step = model(ids[:, -1:], past_key_values=cache, use_cache=True).logits[0, -1]
        fp = model(ids, use_cache=False).logits[0, -1]
    assert torch.allclose(full, step, atol=1e-4)  # per-token quantization: the same in one pass or step by step
    assert not torch.allclose(step, fp, atol=1e-4)  # and the quantized cache changed what the last token saw
