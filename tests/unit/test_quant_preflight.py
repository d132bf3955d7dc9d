"""Pre-flight rejects bad quantizations before any weights load, with the fix in the message."""
import json
from pathlib import Path

import pytest

from services.quant.backends.autoawq import MODEL_TYPES, AwqSettings
from services.quant.preflight import preflight
from tests.conftest import run_python
from tests.modelcfg import LLAMA2_7B, write_config, write_safetensors

GIB = 1024**3


def model_folder(tmp_path, cfg=LLAMA2_7B, weights=True, name="模型 model"):
    folder = write_config(tmp_path / name, cfg)
    if weights:
        write_safetensors(folder / "model.safetensors")
    return folder


def check(folder, out, s=None, disk=500 * GIB, ram=64 * GIB, hub=None):
    """Pre-flight with fake disk, memory and hub (`hub`: why a named dataset cannot be read, None when it can)."""
    return preflight(folder, out, s or AwqSettings(), disk_free=lambda p: disk, memory_free=lambda: ram,
                     calib_problem=lambda name: hub)


def test_a_hub_dataset_that_cannot_be_read_is_an_error_with_the_cached_fallbacks(tmp_path, monkeypatch):
    from services.datasets.reachable import named_source_problem

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    problem = named_source_problem("pileval", unreachable=lambda: "URLError: timed out")
    assert problem.startswith("calibration dataset pileval cannot be read: the hub https://huggingface.co cannot be "
                              "reached (URLError: timed out) and it is not in the local cache; use a local")
    assert named_source_problem("pileval", unreachable=lambda: "") is None  # online
    (tmp_path / "hf" / "datasets" / "mit-han-lab___pile-val-backup").mkdir(parents=True)
    assert named_source_problem("pileval", unreachable=lambda: "down") is None  # prepared in the cache
    assert named_source_problem(str(tmp_path / "calib.txt")) is None  # files are checked elsewhere
    r = check(model_folder(tmp_path), tmp_path / "out", hub=problem)
    assert r.errors == [problem] and r.info["calib_fallbacks"] == ["pileval"]


def test_a_good_model_passes(tmp_path):
    r = check(model_folder(tmp_path), tmp_path / "out")
    assert r.ok, r.errors
    assert r.info["architecture"] == "LlamaForCausalLM" and r.info["layers"] == 32


def test_group_size_that_does_not_divide_a_layer(tmp_path):
    cfg = {**LLAMA2_7B, "hidden_size": 576, "num_attention_heads": 9, "intermediate_size": 1536}  # SmolLM-135M-like
    r = check(model_folder(tmp_path, cfg), tmp_path / "out", AwqSettings(group_size=128))
    assert not r.ok
    assert r.errors == ["group size 128 does not divide hidden_size (q/k/v/gate/up inputs) = 576; use --group-size 64"]
    assert check(model_folder(tmp_path, cfg, name="m2"), tmp_path / "o2", AwqSettings(group_size=64)).ok


def test_unsupported_architecture_names_the_supported_ones(tmp_path):
    cfg = {**LLAMA2_7B, "architectures": ["BertForMaskedLM"], "model_type": "bert"}
    r = check(model_folder(tmp_path, cfg), tmp_path / "out")
    assert "AutoAWQ does not support BertForMaskedLM" in r.errors[0] and "qwen2" in r.errors[0]


def test_missing_folder_config_and_weights(tmp_path):
    assert "model folder not found" in check(tmp_path / "nope", tmp_path / "out").errors[0]
    (tmp_path / "empty").mkdir()
    assert "no config.json" in check(tmp_path / "empty", tmp_path / "out").errors[0]
    r = check(model_folder(tmp_path, weights=False), tmp_path / "out")
    assert any("no weights in" in e for e in r.errors)


def test_incomplete_sharded_download(tmp_path):
    folder = model_folder(tmp_path, weights=False)
    write_safetensors(folder / "model-00001-of-00002.safetensors", 10)
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}))
    assert any("1 weight shard(s) missing" in e for e in check(folder, tmp_path / "out").errors)


def test_no_disk_space(tmp_path):
    folder = model_folder(tmp_path)
    write_safetensors(folder / "model.safetensors", 4 * 1024**2)
    r = check(folder, tmp_path / "out", disk=1024)
    assert any(e.startswith("not enough disk space") and "pick another output folder" in e for e in r.errors)


def test_memory_estimate_warns(tmp_path):
    r = check(model_folder(tmp_path), tmp_path / "out", AwqSettings(samples=512, seqlen=4096), ram=1 * GIB)
    assert r.ok and any("lower --samples or --seqlen" in w for w in r.warnings)


def test_remote_code_needs_consent(tmp_path):
    cfg = {**LLAMA2_7B, "auto_map": {"AutoModelForCausalLM": "modeling_x.XForCausalLM"}}
    folder = model_folder(tmp_path, cfg)
    assert any("--trust-remote-code" in e for e in check(folder, tmp_path / "out").errors)
    assert check(folder, tmp_path / "out", AwqSettings(trust_remote_code=True)).ok


def test_existing_output_and_already_quantized(tmp_path):
    folder = model_folder(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "x").write_text("keep me")
    assert any("exists and is not empty" in e for e in check(folder, out).errors)
    assert any("not an earlier QuantDesk output" in e and "--force" in e
               for e in check(folder, out, AwqSettings(overwrite=True)).errors)
    assert check(folder, out, AwqSettings(overwrite=True, force=True)).ok
    (out / "quantdesk.json").write_text("{}")
    assert check(folder, out, AwqSettings(overwrite=True)).ok
    q = model_folder(tmp_path, {**LLAMA2_7B, "quantization_config": {"quant_method": "awq"}}, name="q")
    assert any("already quantized" in e for e in check(q, tmp_path / "o").errors)


def test_bad_settings(tmp_path):
    r = check(model_folder(tmp_path), tmp_path / "out", AwqSettings(bits=3, group_size=100, device="tpu"))
    assert any("--bits 4" in e for e in r.errors) and any("group size must be" in e for e in r.errors)
    assert any("device must be" in e for e in r.errors)


def test_preflight_loads_no_ml_library(tmp_path):
    folder = model_folder(tmp_path)
    (tmp_path / "calib.txt").write_text("text " * 100, encoding="utf-8")
    code = ("import sys, json; from services.quant.preflight import preflight; from services.quant.backends.autoawq import "
            f"AwqSettings; r = preflight(r'{folder}', r'{tmp_path / 'out'}', AwqSettings(calib=r'{tmp_path / 'calib.txt'}')); "
            "print(json.dumps([r.ok, sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'awq', 'transformers'))]))")
    proc = run_python(code)
    assert json.loads(proc.stdout) == [True, []], proc.stderr


def test_supported_list_matches_autoawq():
    pytest.importorskip("awq")
    from awq.models.auto import AWQ_CAUSAL_LM_MODEL_MAP

    assert set(MODEL_TYPES) == set(AWQ_CAUSAL_LM_MODEL_MAP)


def test_cli_rejects_before_starting_a_job(tmp_path, capsys):
    from app.cli import main

    cfg = {**LLAMA2_7B, "hidden_size": 576, "num_attention_heads": 9, "intermediate_size": 1536}
    folder = model_folder(tmp_path, cfg)
    assert main(["quantize", "--model", str(folder), "--out", str(tmp_path / "o"), "--group-size", "128"]) == 2
    err = capsys.readouterr().err
    assert "use --group-size 64" in err and "job" not in err.split("error:")[0]


def test_missing_calibration_file_is_rejected_up_front(tmp_path):
    r = check(model_folder(tmp_path), tmp_path / "out", AwqSettings(calib=str(tmp_path / "nope.txt")))
    assert any("calibration source" in e and "does not exist" in e for e in r.errors)
    assert check(model_folder(tmp_path, name="m2"), tmp_path / "o2", AwqSettings(calib="wikitext2")).ok


@pytest.mark.parametrize("config, message", [
    ([1, 2, 3], "is a JSON list, not an object"),
    ({**LLAMA2_7B, "text_config": "oops"}, "text_config is not an object"),
    ({**LLAMA2_7B, "num_attention_heads": 0}, "num_attention_heads is 0"),
    ({**LLAMA2_7B, "hidden_size": "abc"}, "hidden_size is 'abc'"),
])
def test_damaged_configs_are_reported_not_raised(tmp_path, config, message):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    write_safetensors(folder / "model.safetensors")
    r = check(folder, tmp_path / "out")
    assert not r.ok and any(message in e for e in r.errors), r.errors


def test_a_truncated_safetensors_file_is_found_before_calibration(tmp_path):
    folder = model_folder(tmp_path)
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    r = check(folder, tmp_path / "out")
    assert any("model.safetensors is truncated" in e and "download the model again" in e for e in r.errors)


def test_output_paths_that_cannot_work(tmp_path):
    folder = model_folder(tmp_path)
    (tmp_path / "a file").write_text("x")
    assert any("is a file, not a folder" in e for e in check(folder, tmp_path / "a file").errors)
    assert any("is a file, so" in e for e in check(folder, tmp_path / "a file" / "out").errors)
    assert any("cannot write in /proc" in e for e in check(folder, Path("/proc/out")).errors)
    assert not any("disk space" in e for e in check(folder, Path("/proc/out")).errors)
    assert any("is relative" in e for e in check(folder, Path("out")).errors)


def test_sequence_length_beyond_the_model(tmp_path):
    r = check(model_folder(tmp_path), tmp_path / "out", AwqSettings(seqlen=8192))  # max_position_embeddings 4096
    assert any("exceeds the model's max_position_embeddings 4096" in e for e in r.errors)
    # the estimate does not grow with a length the model cannot take: 32768 plans like 4096
    at_limit = check(model_folder(tmp_path), tmp_path / "o2", AwqSettings(seqlen=4096)).info["estimated_memory_bytes"]
    beyond = check(model_folder(tmp_path), tmp_path / "o3", AwqSettings(seqlen=32768)).info["estimated_memory_bytes"]
    assert beyond == at_limit


def test_llm_compressor_methods_and_their_rules(tmp_path, capsys):
    from app.cli import main
    from services.quant.backends import get_backend
    from services.quant.backends.llmcompressor import LlmcSettings

    folder = model_folder(tmp_path)
    r = check(folder, tmp_path / "o1", LlmcSettings(method="fp8-dynamic", calib=str(tmp_path / "none.txt")))
    assert r.ok, r.errors  # dynamic FP8 reads no calibration data
    assert any("sm89+" in n for n in r.info["notes"])
    cfg = {**LLAMA2_7B, "hidden_size": 576, "num_attention_heads": 9, "intermediate_size": 1536}
    r = check(model_folder(tmp_path, cfg, name="smol"), tmp_path / "o2", LlmcSettings(method="gptq", group_size=128))
    assert any("use --group-size 64" in e for e in r.errors)
    assert check(model_folder(tmp_path, cfg, name="smol2"), tmp_path / "o3", LlmcSettings(method="w8a8")).ok
    assert get_backend(None, "gptq").name == "llmcompressor" and get_backend(None, "awq").name == "autoawq"
    with pytest.raises(ValueError, match="does not offer 'gptq'; use --backend llmcompressor"):
        get_backend("autoawq", "gptq")
    assert main(["quantize", "--model", str(folder), "--out", str(tmp_path / "o4"), "--method", "gptq",
                 "--bits", "4"]) == 2
    assert "--bits is not a setting of the llmcompressor backend" in capsys.readouterr().err
    assert any("dampening" in e for e in LlmcSettings(dampening_frac=2).problems())


def test_settings_apply_to_their_methods_and_keep_means_the_same_on_both_backends(tmp_path, capsys):
    from app.cli import main
    from services.quant.backends.llmcompressor import LlmcSettings

    folder = model_folder(tmp_path)
    out = str(tmp_path / "o")
    assert main(["quantize", "--model", str(folder), "--out", out, "--method", "w8a8", "--actorder", "static"]) == 2
    assert "--actorder does not apply to --method w8a8" in capsys.readouterr().err
    assert "group_size" not in LlmcSettings(method="fp8").to_dict()  # the record says what was applied
    assert LlmcSettings(keep=["mlp.down_proj", "re:.*o_proj"]).ignore() == ["lm_head", r"re:.*mlp\.down_proj.*",
                                                                          "re:.*o_proj"]
    r = check(folder, tmp_path / "o1", AwqSettings(keep=["mlp.down_proj"]))
    assert any("AutoAWQ cannot leave" in e and "--backend llmcompressor" in e for e in r.errors)
    r = check(folder, tmp_path / "o2", LlmcSettings(keep=["mlp.down_proj", "nonsense"]))
    assert r.ok and [w for w in r.warnings if "nonsense matches no linear layer" in w]
    assert any("not a valid regular expression" in e for e in LlmcSettings(keep=["re:["]).problems())


def test_a_model_without_a_tokenizer_is_not_called_ready(tmp_path):
    """Hostile QA: a folder with config and weights but no tokenizer passed pre-flight; the job failed 6 s later."""
    folder = model_folder(tmp_path)
    r = check(folder, tmp_path / "out")
    assert any("no tokenizer in" in w for w in r.warnings)
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    assert not any("no tokenizer in" in w for w in check(folder, tmp_path / "o2").warnings)
