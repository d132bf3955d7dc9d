"""Simulated precisions (W4A16, W4A8, W4A8KV4, W8A8...): the quantizers against direct round trips, the hooks,
the settings and model checks with their reasons, the variants and the report."""
import pytest

torch = pytest.importorskip("torch")

from services.evaluate.fakequant import (  # noqa: E402
    fake_quant_tokens,
    fake_quant_weight,
    quantize_inputs,
    quantized_linears,
    simulated_copy,
)
from services.evaluate.precision import PRECISIONS, settings_problems, shape_problems  # noqa: E402
from services.modelinfo import shape_from_config  # noqa: E402
from tests.modelcfg import LLAMA2_7B  # noqa: E402


def test_activation_quantizer_is_a_per_token_int8_round_trip():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 17, 96, generator=g) * 3
    x[0, 3, 5] = 40.0  # an outlier coarsens its own token only
    rows = x.reshape(-1, 96)
    direct = []
    for row in rows:  # one scale per token: absmax / 127, stored as int8
        scale = row.abs().max() / 127
        q = torch.round(row / scale).clamp(-127, 127).to(torch.int8)
        direct.append(q.float() * scale)
    assert torch.equal(fake_quant_tokens(x), torch.stack(direct).reshape(x.shape))


def test_weight_round_to_nearest_per_group_and_per_channel():
    g = torch.Generator().manual_seed(1)
    w = torch.randn(8, 256, generator=g)
    for group in (128, 64, -1):
        deq = fake_quant_weight(w, 4, group)
        size = 256 if group == -1 else group
        blocks = w.reshape(8, -1, size)
        step = (blocks.amax(-1, keepdim=True) - blocks.amin(-1, keepdim=True)) / 15
        err = (deq.reshape(8, -1, size) - blocks).abs()
        assert bool((err <= step / 2 + 1e-6).all())  # round to nearest: within half a step
        assert all(len(torch.unique(b)) <= 16 for b in deq.reshape(-1, size))  # 4 bits: 16 levels a group
    assert (fake_quant_weight(w, 4, 128) - w).abs().mean() < (fake_quant_weight(w, 4, -1) - w).abs().mean()
    assert (fake_quant_weight(w, 8, -1) - w).abs().max() < (fake_quant_weight(w, 4, -1) - w).abs().max() / 8
    with pytest.raises(ValueError, match="does not divide"):
        fake_quant_weight(w, 4, 100)


@pytest.fixture(scope="module")
def tiny():
    from transformers import AutoModelForCausalLM

    from tests.tinymodels import tiny_config

    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(tiny_config("llama", vocab_size=64)).eval()


def test_every_linear_but_the_head_is_quantized_and_the_original_is_untouched(tiny):
    names = [n for n, _ in quantized_linears(tiny)]
    assert len(names) == 2 * 7 and not any("lm_head" in n for n in names)
    before = {k: v.clone() for k, v in tiny.state_dict().items()}
    sim = simulated_copy(tiny, PRECISIONS["w4a8kv4"], 64)
    assert all(torch.equal(v, tiny.state_dict()[k]) for k, v in before.items())
    q = sim.model.layers[0].self_attn.q_proj.weight
    assert torch.equal(q, fake_quant_weight(tiny.model.layers[0].self_attn.q_proj.weight, 4, 64))
    assert torch.equal(sim.lm_head.weight, tiny.lm_head.weight)


def test_input_hooks_quantize_what_each_linear_layer_sees(tiny):
    raw, used = [], []
    layer = tiny.model.layers[1].mlp.down_proj
    ids = torch.arange(3, 20).unsqueeze(0)
    with torch.no_grad():
        plain = tiny(ids).logits
        recorders = [layer.register_forward_pre_hook(lambda m, args: raw.append(args[0].clone()))]
        hooks = quantize_inputs(tiny)  # pre-hooks run in order: the recorder sees the input before quantization
        recorders.append(layer.register_forward_hook(lambda m, args, out: used.append(args[0].clone())))
        quant = tiny(ids).logits
        for h in hooks + recorders:
            h.remove()
        again = tiny(ids).logits
    assert len(hooks) == 14 and torch.equal(used[0], fake_quant_tokens(raw[0]))  # the layer computed on int8 inputs
    assert not torch.equal(plain, quant) and torch.equal(plain, again)  # the hooks change it; removed, nothing left


def test_settings_problems_say_what_to_change():
    assert settings_problems(["w4a8kv4", "w4a16"], [128, -1]) == []
    (unknown,) = settings_problems(["w4a4"], [128])
    assert "unknown precision 'w4a4'" in unknown and "w4a8kv4" in unknown
    assert "-1 (one scale per output channel)" in settings_problems(["w4a8"], [0])[0]
    assert settings_problems(["w4a8"], [-2]) and settings_problems(["w4a8"], [])
    shape = shape_from_config({**LLAMA2_7B, "hidden_size": 576, "intermediate_size": 1536, "num_attention_heads": 9,
                               "num_key_value_heads": 3})
    (bad,) = shape_problems(shape, ["w4a16"], [128, -1], "smol")
    assert "--group-size 128 does not divide smol's self_attn.q_proj input features (576)" in bad
    assert "such as 64" in bad
    assert shape_problems(shape, ["w8a8"], [128], "smol") == []  # 8-bit weights are per channel


def test_variants_and_their_kv(tmp_path):
    from services.evaluate.job import plan_variants
    from services.evaluate.settings import EvalSettings

    s = EvalSettings(precision=["fp16", "w4a16", "w4a8kv4", "w8a8kv4"], group_size=[-1, 128])
    got = [(v.name, v.kv, v.precision, v.group_size) for v in plan_variants("/m/llama", s)]
    assert got == [("llama · KV fp16 (baseline)", "fp16", None, None),
                   ("llama · W4A16 per-channel", "fp16", "w4a16", -1), ("llama · W4A16 g128", "fp16", "w4a16", 128),
                   ("llama · W4A8KV4 per-channel", "int4", "w4a8kv4", -1),
                   ("llama · W4A8KV4 g128", "int4", "w4a8kv4", 128),
                   ("llama · W8A8KV4 per-channel", "int4", "w8a8kv4", -1)]
    assert [v.name for v in plan_variants("/m/llama", EvalSettings())] == ["llama · KV fp16 (baseline)"]


def test_report_compares_with_w4a16():
    from services.evaluate.job import compare_with_w4a16
    from services.evaluate.report import COLUMNS, PRECISION_COLUMNS, to_csv, to_markdown

    def v(name, ppl, precision=None, group=None, kv="fp16"):
        return {"name": name, "model": "/m", "kv": kv, "baseline": precision is None, "perplexity": ppl,
                "tokens": 100, "seconds": 1.0,
                "delta_pct": None if precision is None else round(100 * (ppl / 10 - 1), 3),
                "agreement": 1.0, **({"precision": precision, "group_size": group} if precision else {})}

    variants = [v("fp", 10.0), v("a", 10.5, "w4a16", 128), v("b", 11.0, "w4a8kv4", 128, "int4")]
    compare_with_w4a16(variants, {"fp": [[1, 2]], "a": [[1, 2]], "b": [[1, 3]]})
    assert variants[2]["delta_w4a16_pct"] == round(100 * (11 / 10.5 - 1), 3) and variants[2]["agreement_w4a16"] == 0.5
    assert "delta_w4a16_pct" not in variants[0]
    summary = {"variants": variants, "tokens": 100, "text": "t", "context": 8, "stride": 8, "device": "cpu"}
    md = to_markdown(summary)
    assert "## Simulated precisions" in md
    assert "| W4A8KV4 | g128 | int4 | 11.000 | +10.00% | +4.76% | 100% | 50% |" in md
    assert "compare answers before shipping W4A8KV4 g128" in md  # +10%: the caution line names the precision
    assert tuple(to_csv(summary).splitlines()[0].split(",")) == COLUMNS + PRECISION_COLUMNS
    plain = {**summary, "variants": variants[:1]}
    assert tuple(to_csv(plain).splitlines()[0].split(",")) == COLUMNS  # without --precision: as before
    assert "Simulated precisions" not in to_markdown(plain)
