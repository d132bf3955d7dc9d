"""`quantdesk eval --precision/--group-size` refuses bad input before any job starts: exit 2, one line saying what
to change (no model is loaded: only config.json and a weights header are read)."""
import pytest

from tests.modelcfg import write_config, write_safetensors

TINY = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 128, "intermediate_size": 256,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 515,
        "max_position_embeddings": 2048, "torch_dtype": "float16"}


@pytest.fixture
def folders(tmp_path):
    fp16 = write_config(tmp_path / "tiny 模型", TINY)
    write_safetensors(fp16 / "model.safetensors")
    awq = write_config(tmp_path / "awq", {**TINY, "quantization_config": {"quant_method": "awq", "bits": 4,
                                                                         "group_size": 64, "version": "gemm"}})
    write_safetensors(awq / "model.safetensors")
    text = tmp_path / "held out.txt"
    text.write_text("Return the number of items.\n" * 20, encoding="utf-8")
    return fp16, awq, text


@pytest.mark.parametrize("extra, model, reason", [
    (["--precision", "w4a4"], 0, "unknown precision 'w4a4'; choose from fp16, w4a16, w4a8, w4a8kv4"),
    (["--precision", "w4a8", "--group-size", "96"], 0,
     "--group-size 96 does not divide tiny 模型's self_attn.q_proj"),
    (["--precision", "w4a8", "--group-size", "0"], 0, "--group-size takes -1 (one scale per output channel)"),
    (["--precision", "w4a8", "--group-size=-1,x"], 0, "--group-size takes whole numbers such as -1 or 128"),
    (["--group-size", "128"], 0, "--group-size applies to simulated precisions: add --precision"),
    (["--precision", "w4a16,w4a8kv4"], 1,
     "awq is already quantized (awq W4 g64 gemm): give its fp16/bf16 source model"),
])
def test_bad_precision_input_exits_2_with_one_line(folders, capsys, extra, model, reason):
    from app.cli import main

    assert main(["eval", "--model", str(folders[model]), "--text", str(folders[2]), *extra]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("quantdesk: error: ") and reason in line, line
    assert captured.out == ""


def test_group_minus_one_is_an_argument_not_an_option():
    import argparse

    from app.cmd_eval import add_arguments

    p = argparse.ArgumentParser()
    add_arguments(p)
    assert p.parse_args(["--model", "m", "--text", "t", "--group-size", "-1"]).group_size == "-1"
