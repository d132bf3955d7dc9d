"""GGUF export on tiny models built here: types, metadata, round trips through transformers, refusals, stop,
and the checks against llama.cpp itself (the real llama.cpp engine, installed once per machine)."""
import json
import shutil
import sys
from pathlib import Path

import pytest

from services.targets import gguf_convert as gc
from services.targets.gguf_verify import compare_with_source, read_back

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


def copy_model(src: Path, dst: Path, drop=(), **config) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(*drop))
    if config:
        cfg = json.loads((dst / "config.json").read_text(encoding="utf-8"))
        (dst / "config.json").write_text(json.dumps({**cfg, **config}), encoding="utf-8")
    return dst


def with_pre_tokenizer(model: Path, dst: Path, name: str) -> Path:
    """A copy of `model` whose tokenizer.json splits text like llama.cpp's pre-tokenizer `name`."""
    regex = {v: k for k, v in gc.SPLIT_REGEXES.items()}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": name == "smollm"}
    first = ({"type": "Digits", "individual_digits": True} if name == "smollm" else
             {"type": "Split", "pattern": {"Regex": regex[name]}, "behavior": "Isolated", "invert": False})
    model = copy_model(model, dst)
    tj = json.loads((model / "tokenizer.json").read_text(encoding="utf-8"))
    tj["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [first, byte_level]}
    (model / "tokenizer.json").write_text(json.dumps(tj), encoding="utf-8")
    return model


def build(folder: Path, tokenizer_dir: Path, config_cls: str, seed=0, **extra) -> Path:
    """A 2-layer model of `config_cls` (hidden 128, 4 heads, 2 KV heads) in fp16, with the tiny tokenizer."""
    import torch
    import transformers

    vocab = json.loads((tokenizer_dir / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    base = {"vocab_size": len(vocab) + 3, "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 2048, "bos_token_id": 0,
            "eos_token_id": 1, "pad_token_id": 2}
    cfg = getattr(transformers, config_cls)(**{**base, **extra})
    torch.manual_seed(seed)
    transformers.AutoModelForCausalLM.from_config(cfg, dtype=torch.float16).save_pretrained(str(folder))
    for name in TOKENIZER_FILES:
        shutil.copy2(tokenizer_dir / name, folder / name)
    return folder


@pytest.mark.parametrize("gguf_type", gc.PY_TYPES)
def test_every_python_type_reads_back(tiny_llama, tmp_path, gguf_type):
    out = tmp_path / "导出 结果" / f"model {gguf_type}.gguf"  # spaces and Chinese in both paths
    seen = []
    summary = gc.convert(tiny_llama, out, gguf_type, progress=lambda d, t, n: seen.append((d, t, n)))
    doc = read_back(out)
    assert doc["tensor_count"] == summary["tensors"] == 2 * 9 + 3 == len(seen) and seen[-1][:2] == (21, 21)
    assert summary["bytes"] == doc["bytes"] == out.stat().st_size and summary["source_bytes"] > 0
    assert summary["arch"] == "llama" and summary["vocab_size"] == 515 and summary["type"] == gguf_type
    t = doc["tensors"]
    assert t["token_embd.weight"][0] == t["output.weight"][0] == (515, 128)
    assert t["blk.0.attn_q.weight"][0] == (128, 128) and t["blk.1.attn_k.weight"][0] == (64, 128)
    assert t["blk.0.ffn_down.weight"][0] == (128, 256) and t["blk.0.ffn_up.weight"][0] == (256, 128)
    assert t["blk.0.attn_norm.weight"] == ((128,), "F32") and t["output_norm.weight"] == ((128,), "F32")
    assert t["blk.1.ffn_gate.weight"][1] == gguf_type.upper()
    # llama.cpp's habit: the output matrix stays at 8 bits when the rest is 4-5 bits
    assert t["output.weight"][1] == ("Q8_0" if gguf_type[:2] in ("q4", "q5") else gguf_type.upper())
    assert not list(out.parent.glob("*.partial"))
    m = doc["metadata"]
    assert (m["arch"], m["block_count"], m["embedding_length"], m["head_count"], m["head_count_kv"]) == \
        ("llama", 2, 128, 4, 2)
    assert m["vocab_size"] == m["tokens"] == 515 and m["context_length"] == 2048
    assert (m["tokenizer_model"], m["tokenizer_pre"], m["bos_token_id"], m["eos_token_id"]) == ("gpt2", "gpt-2", 0, 1)
    assert m["chat_template"] is True and m["name"] == "tiny llama 模型"


def test_unknown_and_k_types_are_refused_up_front(tiny_llama, tmp_path):
    with pytest.raises(ValueError, match="unknown GGUF type 'q3_x'"):
        gc.convert(tiny_llama, tmp_path / "m.gguf", "q3_x")
    with pytest.raises(ValueError, match="llama-quantize") as err:
        gc.convert(tiny_llama, tmp_path / "m.gguf", "q4_k_m")
    assert "llama.cpp" in str(err.value) and "q8_0" in str(err.value)
    assert not list(tmp_path.iterdir())


def test_stop_after_two_tensors_leaves_no_file(tiny_llama, tmp_path):
    seen = []
    out = tmp_path / "m.gguf"
    with pytest.raises(gc.Stopped):
        gc.convert(tiny_llama, out, "q8_0", progress=lambda d, t, n: seen.append(d), should_stop=lambda: len(seen) >= 2)
    assert seen == [1, 2] and not list(tmp_path.iterdir())


def test_an_existing_output_survives_a_failed_export(tiny_llama, tmp_path):
    out = tmp_path / "m.gguf"
    out.write_bytes(b"old")
    with pytest.raises(gc.Stopped):
        gc.convert(tiny_llama, out, "f16", should_stop=lambda: True)
    assert out.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["m.gguf"]


def test_source_problems_say_what_to_change(tiny_llama, tmp_path):
    assert gc.source_problems(tiny_llama) == []  # "tiny llama 模型": a space and Chinese in the path
    awq = copy_model(tiny_llama, tmp_path / "awq 模型", quantization_config={"quant_method": "awq", "bits": 4})
    (msg,) = gc.source_problems(awq)
    assert "re-quantizing dequantized AWQ weights compounds error; export the job's source model" in msg
    with pytest.raises(ValueError, match="compounds error"):
        gc.convert(awq, tmp_path / "awq.gguf", "q8_0")

    from transformers import GPT2Config

    gpt2 = tmp_path / "gpt2"
    gpt2.mkdir()
    (gpt2 / "config.json").write_text(GPT2Config(n_layer=1, architectures=["GPT2LMHeadModel"]).to_json_string(), encoding="utf-8")
    problems = gc.source_problems(gpt2)
    assert any("GPT2LMHeadModel is not supported" in p and "Qwen3ForCausalLM" in p for p in problems)
    assert any("no tokenizer.json or tokenizer.model" in p for p in problems) and len(problems) == 2
    no_weights = copy_model(tiny_llama, tmp_path / "no weights", drop=("*.safetensors",))
    assert gc.source_problems(no_weights) == [
        "no *.safetensors weights (pytorch_model.bin is not read): re-save with save_pretrained()"]

    no_tok = copy_model(tiny_llama, tmp_path / "no tok", drop=("tokenizer*",))
    assert gc.source_problems(no_tok) == [
        "no tokenizer.json or tokenizer.model: copy the tokenizer files from the source model"]
    assert gc.source_problems(tmp_path / "missing") == [
        f"no readable config.json in {tmp_path / 'missing'}: choose the model folder (config.json beside "
        "*.safetensors)"]

    broken = copy_model(tiny_llama, tmp_path / "broken")
    data = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(data[:100])
    assert any("cannot be read" in p for p in gc.source_problems(broken))
    (broken / "model.safetensors").unlink()
    (broken / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": "model-1.safetensors"}}))
    assert any("model-1.safetensors, which is missing" in p for p in gc.source_problems(broken))

    short = copy_model(tiny_llama, tmp_path / "short", num_hidden_layers=3)
    assert any("expected tensors are missing (first: model.layers.2." in p for p in gc.source_problems(short))
    small = copy_model(tiny_llama, tmp_path / "small vocab", vocab_size=100)
    assert any("more than the model's vocab_size 100" in p for p in gc.source_problems(small))

    odd = copy_model(tiny_llama, tmp_path / "odd pre")
    tj = json.loads((odd / "tokenizer.json").read_text(encoding="utf-8"))
    tj["pre_tokenizer"] = {"type": "Whitespace"}
    (odd / "tokenizer.json").write_text(json.dumps(tj), encoding="utf-8")
    assert any("pre-tokenizer is not one this exporter recognises" in p for p in gc.source_problems(odd))


@pytest.mark.parametrize("name", ["qwen2", "llama-bpe", "smollm"])
def test_pre_tokenizer_is_named_from_tokenizer_json(tiny_llama, tmp_path, name):
    model = with_pre_tokenizer(tiny_llama, tmp_path / "m", name)
    gc.convert(model, tmp_path / "m.gguf", "f16")
    assert read_back(tmp_path / "m.gguf")["metadata"]["tokenizer_pre"] == name


def test_rows_that_do_not_fit_the_blocks_fall_back_to_f16(tiny_tokenizer, tmp_path):
    model = build(tmp_path / "h48", tiny_tokenizer, "LlamaConfig", hidden_size=48, num_attention_heads=2,
                  num_key_value_heads=1, intermediate_size=64)
    summary = gc.convert(model, tmp_path / "m.gguf", "q8_0")
    t = read_back(tmp_path / "m.gguf")["tensors"]
    assert t["blk.0.attn_q.weight"] == ((48, 48), "F16") and t["blk.0.ffn_down.weight"] == ((48, 64), "Q8_0")
    assert any("blk.0.attn_q.weight: rows of 48 do not divide into Q8_0 blocks of 32" in n for n in summary["notes"])
    res = compare_with_source(model, tmp_path / "m.gguf", token_ids=list(range(3, 200)))
    assert res["logits_rel_error"] < 0.05


def test_llama3_rope_scaling_becomes_rope_freqs(tiny_tokenizer, tmp_path):
    import numpy as np
    import torch
    from gguf import GGUFReader
    from transformers import LlamaConfig
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    rope = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 64}
    model = build(tmp_path / "l3", tiny_tokenizer, "LlamaConfig", rope_parameters=rope)
    gc.convert(model, tmp_path / "m.gguf", "f16")
    reader = GGUFReader(str(tmp_path / "m.gguf"))
    (freqs,) = [t for t in reader.tensors if t.name == "rope_freqs.weight"]
    cfg = LlamaConfig.from_pretrained(str(model))
    scaled = ROPE_INIT_FUNCTIONS["llama3"](cfg, torch.device("cpu"))[0]
    plain = 1.0 / (500000.0 ** (torch.arange(0, 32, 2).float() / 32))
    np.testing.assert_allclose(np.asarray(freqs.data), (plain / scaled).numpy(), rtol=1e-4)
    assert reader.fields["llama.rope.freq_base"].contents() == 500000.0


def test_modelfile(tmp_path):
    (tmp_path / "gguf").mkdir()
    path = gc.write_modelfile(tmp_path / "gguf" / "模型 q8_0.gguf", tmp_path, ["</s>", '<|im_end|>', 'say "hi"'])
    assert path == tmp_path / "Modelfile"
    assert path.read_text(encoding="utf-8") == ('FROM ./gguf/模型 q8_0.gguf\nPARAMETER stop "</s>"\n'
                                                'PARAMETER stop "<|im_end|>"\nPARAMETER stop "say \\"hi\\""\n')
    other = tmp_path / "ollama"
    other.mkdir()
    assert gc.write_modelfile(tmp_path / "m.gguf", other, []).read_text(encoding="utf-8") == "FROM ../m.gguf\n"


@pytest.mark.slow
def test_structured_llama_quality(structured_llama, held_out_ids, tmp_path):
    ids = held_out_ids[:2048]
    res = {}
    for t in ("f16", "q8_0", "q4_0"):
        gc.convert(structured_llama, tmp_path / f"{t}.gguf", t)
        res[t] = compare_with_source(structured_llama, tmp_path / f"{t}.gguf", token_ids=ids)
        assert res[t]["tokens"] == 2048 and res[t]["tokenizer_matches"] and res[t]["chat_template_matches"]
    assert res["f16"]["logits_rel_error"] < 1e-3 and res["f16"]["top1_agreement"] == 1.0
    assert abs(res["f16"]["perplexity_ratio"] - 1) < 0.001
    assert res["q8_0"]["logits_rel_error"] < 0.02 and abs(res["q8_0"]["perplexity_ratio"] - 1) < 0.01
    assert res["q8_0"]["top1_agreement"] > 0.97
    q4 = res["q4_0"]
    assert res["q8_0"]["logits_rel_error"] < q4["logits_rel_error"] < 0.3
    assert abs(res["q8_0"]["perplexity_ratio"] - 1) < q4["perplexity_ratio"] - 1 < 0.25
    assert 10 < q4["gguf_perplexity"] < 200 and q4["top1_agreement"] > 0.8


@pytest.mark.slow
def test_qwen2_tied_embeddings_and_bias(tiny_qwen2, held_out_ids, tmp_path):
    gc.convert(tiny_qwen2, tmp_path / "q.gguf", "f16")
    t = read_back(tmp_path / "q.gguf")["tensors"]
    assert "output.weight" not in t and t["token_embd.weight"][0] == (515, 128)  # tied: llama.cpp reuses it
    assert t["blk.0.attn_q.bias"] == ((128,), "F32") and t["blk.1.attn_k.bias"] == ((64,), "F32")
    res = compare_with_source(tiny_qwen2, tmp_path / "q.gguf", token_ids=held_out_ids[:512])
    assert res["logits_rel_error"] < 1e-3 and res["top1_agreement"] == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("config_cls", ["Qwen3Config", "MistralConfig"])
def test_qwen3_and_mistral_round_trip(tiny_tokenizer, held_out_ids, tmp_path, config_cls):
    extra = {"head_dim": 128} if config_cls == "Qwen3Config" else {"sliding_window": 4096}
    model = build(tmp_path / config_cls, tiny_tokenizer, config_cls, **extra)
    summary = gc.convert(model, tmp_path / "m.gguf", "f16")
    doc = read_back(tmp_path / "m.gguf")
    if config_cls == "Qwen3Config":  # transformers reads the qwen3 head size from its default (128), as real Qwen3s
        assert doc["metadata"]["arch"] == "qwen3" and doc["tensors"]["blk.0.attn_q_norm.weight"] == ((128,), "F32")
        assert doc["tensors"]["blk.0.attn_q.weight"][0] == (512, 128) and "output.weight" in doc["tensors"]
    else:
        assert doc["metadata"]["arch"] == "llama" and any("sliding_window=4096" in n for n in summary["notes"])
    res = compare_with_source(model, tmp_path / "m.gguf", token_ids=held_out_ids[:512])
    assert res["logits_rel_error"] < 1e-3 and res["top1_agreement"] == 1.0


@pytest.mark.slow
def test_tokenizer_and_chat_template_are_carried(tiny_llama, held_out_file, tmp_path):
    template = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}</s>{% endfor %}"
    model = copy_model(tiny_llama, tmp_path / "对话 model", drop=("chat_template.jinja",))
    tc = json.loads((model / "tokenizer_config.json").read_text(encoding="utf-8"))
    (model / "tokenizer_config.json").write_text(json.dumps({**tc, "chat_template": template}), encoding="utf-8")
    gc.convert(model, tmp_path / "m.gguf", "q8_0")
    from gguf import GGUFReader

    fields = GGUFReader(str(tmp_path / "m.gguf")).fields
    assert fields["tokenizer.chat_template"].contents() == template
    assert fields["tokenizer.ggml.padding_token_id"].contents() == 2
    merges = json.loads((model / "tokenizer.json").read_text(encoding="utf-8"))["model"]["merges"]
    assert fields["tokenizer.ggml.merges"].contents() == [" ".join(m) for m in merges]
    res = compare_with_source(model, tmp_path / "m.gguf", text=held_out_file.read_text(encoding="utf-8")[:6000])
    assert res["tokenizer_matches"] and res["chat_template_matches"] and res["tokens"] > 1000


@pytest.mark.slow
def test_sentencepiece_tokenizer(tmp_path):
    spm = pytest.importorskip("sentencepiece")
    import io

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig

    from tests.tinymodels import stdlib_docstrings

    docs = stdlib_docstrings()
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(  # Llama's settings: no normalization, digits split, byte fallback
        sentence_iterator=iter(docs[:400]), model_writer=buf, vocab_size=400, model_type="bpe", byte_fallback=True,
        character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, normalization_rule_name="identity",
        remove_extra_whitespaces=False, split_digits=True, allow_whitespace_only_pieces=True, minloglevel=2)
    model = tmp_path / "spm llama"
    model.mkdir()
    (model / "tokenizer.model").write_bytes(buf.getvalue())
    cfg = LlamaConfig(vocab_size=404, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, bos_token_id=1, eos_token_id=2)
    AutoModelForCausalLM.from_config(cfg, dtype=torch.float16).save_pretrained(str(model))
    assert gc.source_problems(model) == []
    gc.convert(model, tmp_path / "g" / "m.gguf", "f16")
    from gguf import GGUFReader

    f = GGUFReader(str(tmp_path / "g" / "m.gguf")).fields
    sp = spm.SentencePieceProcessor(model_proto=buf.getvalue())
    assert f["tokenizer.ggml.model"].contents() == "llama" and f["tokenizer.ggml.add_space_prefix"].contents()
    assert f["tokenizer.ggml.scores"].contents()[300] == pytest.approx(sp.GetScore(300))
    types = f["tokenizer.ggml.token_type"].contents()
    assert types[:4] == [2, 3, 3, 6] and types[-1] == 5  # unknown, control x2, byte; padding unused
    gg = AutoTokenizer.from_pretrained(str(tmp_path / "g"), gguf_file="m.gguf")
    for text in docs[-20:]:
        assert gg.encode(text, add_special_tokens=False) == sp.encode(text)


@pytest.mark.slow
def test_byte_fallback_tokenizer_json(tmp_path):
    """A SentencePiece-style BPE in tokenizer.json alone (no tokenizer.model): scores from the merge ranks."""
    import torch
    from gguf import GGUFReader
    from tokenizers import Tokenizer, decoders, models, normalizers, trainers
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, PreTrainedTokenizerFast

    from tests.tinymodels import stdlib_docstrings

    docs = stdlib_docstrings()
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    specials = ["<unk>", "<s>", "</s>", *(f"<0x{i:02X}>" for i in range(256))]
    tok.train_from_iterator(docs[:400], trainer=trainers.BpeTrainer(vocab_size=500, special_tokens=specials,
                                                                   show_progress=False))
    model = tmp_path / "hf bpe"
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>") \
        .save_pretrained(str(model))
    cfg = LlamaConfig(vocab_size=504, hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, bos_token_id=1, eos_token_id=2)
    AutoModelForCausalLM.from_config(cfg, dtype=torch.float16).save_pretrained(str(model))
    gc.convert(model, tmp_path / "g" / "m.gguf", "q8_0")
    f = GGUFReader(str(tmp_path / "g" / "m.gguf")).fields
    assert (f["tokenizer.ggml.model"].contents(), f["tokenizer.ggml.pre"].contents()) == ("llama", "default")
    types = f["tokenizer.ggml.token_type"].contents()
    assert types[:4] == [2, 3, 3, 6] and types[-4:] == [5] * 4 and f["tokenizer.ggml.add_space_prefix"].contents()
    src, gg = AutoTokenizer.from_pretrained(str(model)), AutoTokenizer.from_pretrained(str(tmp_path / "g"),
                                                                                      gguf_file="m.gguf")
    for text in docs[-20:]:
        assert gg.encode(text, add_special_tokens=False) == src.encode(text, add_special_tokens=False)


FAKE_QUANTIZE = """#!/bin/sh
echo "main: quantizing '$1' to '$2' as $3"
echo "[   1/  21]                    token_embd.weight - [  128,   515,     1,     1], type =    f16, converting"
echo "[   2/  21]                 blk.0.attn_k.weight - [  128,    64,     1,     1], type =    f16, converting"
[ -n "$FAKE_SLEEP" ] && sleep "$FAKE_SLEEP"
cp "$1" "$2"
"""


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell script stands in for llama-quantize")
def test_k_types_go_through_llama_quantize(tiny_llama, tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "llama-quantize"
    fake.parent.mkdir()
    fake.write_text(FAKE_QUANTIZE, encoding="utf-8")
    fake.chmod(0o755)
    seen = []
    out = tmp_path / "out" / "m.gguf"
    summary = gc.convert(tiny_llama, out, "q4_k_m", quantize_bin=str(fake), progress=lambda *a: seen.append(a))
    assert summary["type"] == "q4_k_m" and read_back(out)["tensor_count"] == 21
    assert seen[20] == (21, 42, "output.weight") and seen[-1] == (23, 42, "blk.0.attn_k.weight")
    assert sorted(p.name for p in out.parent.iterdir()) == ["m.gguf"]

    monkeypatch.setenv("FAKE_SLEEP", "30")
    with pytest.raises(gc.Stopped):
        gc.convert(tiny_llama, tmp_path / "out" / "n.gguf", "q4_k_m", quantize_bin=str(fake),
                   progress=lambda *a: seen.append(a), should_stop=lambda: seen[-1][0] > 21)
    assert sorted(p.name for p in out.parent.iterdir()) == ["m.gguf"]

    monkeypatch.setenv("FAKE_SLEEP", "")
    fake.write_text("#!/bin/sh\necho 'llama_model_quantize: failed to quantize: bad magic'\nexit 1\n")
    with pytest.raises(RuntimeError, match="(?s)exit 1.*bad magic"):
        gc.convert(tiny_llama, tmp_path / "out" / "n.gguf", "q6_k", quantize_bin=str(fake))
    assert sorted(p.name for p in out.parent.iterdir()) == ["m.gguf"]


SCORE = Path(__file__).resolve().parents[2] / "services" / "serving" / "llamacpp_score.py"


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_llama_cpp_reads_what_we_write(llamacpp_engines, structured_llama, tiny_qwen2, held_out_file, tmp_path):
    """llama.cpp (the engine's library) tokenizes like tokenizer.json and scores the F16 file as transformers
    scores the source; its llama_model_quantize writes K-quants."""
    import math
    import subprocess

    import torch
    import torch.nn.functional as F
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM

    from services.serving.engines import state
    from tests.conftest import ROOT

    python = str(state("llamacpp", llamacpp_engines).python)
    text = held_out_file.read_text(encoding="utf-8")[:20000]
    (tmp_path / "text.txt").write_text(text, encoding="utf-8")
    ctx = 128

    def llama(out: Path, vocab_only: bool) -> dict:
        r = subprocess.run([python, str(SCORE), str(out), "--text", str(tmp_path / "text.txt"), "--ctx", str(ctx),
                            *(["--tokens-only"] if vocab_only else [])], capture_output=True, text=True, timeout=600,
                           cwd=ROOT)
        assert r.returncode == 0, r.stderr[-2000:]
        return json.loads(r.stdout.strip().splitlines()[-1])

    def same_tokens(model: Path, out: Path, vocab_only: bool = True) -> tuple[list[int], dict]:
        ids = Tokenizer.from_file(str(model / "tokenizer.json")).encode(text, add_special_tokens=False).ids
        got = llama(out, vocab_only)
        assert got["ids"] == ids, model.name
        return ids, got

    for name in ("qwen2", "llama-bpe", "smollm"):
        model = with_pre_tokenizer(structured_llama, tmp_path / name, name)
        gc.convert(model, tmp_path / f"{name}.gguf", "q8_0")
        same_tokens(model, tmp_path / f"{name}.gguf")
    for model in (structured_llama, tiny_qwen2):
        out = tmp_path / f"{model.name}.gguf"
        gc.convert(model, out, "f16")
        ids, got = same_tokens(model, out, vocab_only=False)
        nll, n = 0.0, 0
        src = AutoModelForCausalLM.from_pretrained(str(model), dtype=torch.float32)
        for c in range(len(ids) // ctx):
            x = torch.tensor([ids[c * ctx:(c + 1) * ctx]])
            with torch.no_grad():
                logp = F.log_softmax(src(x).logits[0, ctx // 2:-1], -1)
            nll -= float(logp.gather(1, x[0, ctx // 2 + 1:, None]).sum())
            n += ctx // 2 - 1
        assert got["ppl"] == pytest.approx(math.exp(nll / n), rel=1e-3)
    k = gc.convert(structured_llama, tmp_path / "k.gguf", "q4_k_m", quantize_bin=[
        python, str(ROOT / "services" / "serving" / "llamacpp_quantize.py")])
    assert read_back(tmp_path / "k.gguf")["metadata"]["file_type"] == 15 and k["bytes"] < k["source_bytes"]
