"""Where a model stands (services/overview.py), from job records: each step's state and what comes next."""
from __future__ import annotations

import json
import os

import pytest

from services.jobs.spec import JobSpec
from services.jobs.store import JobStore
from services.overview import known_models, model_status, source_of

CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
          "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300,
          "max_position_embeddings": 256, "torch_dtype": "float32"}


def model_folder(tmp_path) -> str:
    """A model folder (config only) under a path with a space and Chinese characters."""
    folder = tmp_path / "my model 模型"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    return str(folder)


@pytest.fixture
def model(tmp_path):
    return model_folder(tmp_path)


@pytest.fixture
def store(tmp_path):
    s = JobStore(tmp_path / "jobs.sqlite")
    yield s
    s.close()


def add(store, kind, model, out=None, status="succeeded", result=None, error=None, created=None, **params):
    if out and kind == "quantize" and status == "succeeded":
        os.makedirs(out, exist_ok=True)  # the output is there
    spec = JobSpec(kind=kind, model=model, out=out, params=params)
    if created is not None:
        spec.created = created
    store.add(spec)
    store.set_status(spec.id, status, result=result, error=error)
    return spec.id


def states(status):
    return {s.id: s.state for s in status.steps}


def test_a_new_model_has_everything_to_do_and_quantize_is_next(model, store):
    s = model_status(model, store.list())
    assert states(s) == {"model": "done", "calibrate": "todo", "quantize": "todo", "evaluate": "blocked",
                         "deploy": "blocked"}
    assert "LlamaForCausalLM" in s.step("model").detail and "float32" in s.step("model").detail
    assert s.next_step == "calibrate" and s.output is None


def test_a_missing_model_blocks_every_later_step(tmp_path, store):
    s = model_status(str(tmp_path / "typo"), store.list())
    assert s.step("model").state == "failed" and "model folder not found" in s.step("model").detail
    assert {st.state for st in s.steps[1:]} == {"blocked"}
    assert s.next_step == "model"


def test_half_agreeing_answers_are_not_done_even_with_a_fine_perplexity(model, store, tmp_path):
    out = str(tmp_path / "out-awq")
    add(store, "quantize", model, out, result={"out": out, "ratio": 3.2}, calib="pileval", samples=64, seqlen=256,
        method="awq", bits=4, group_size=64, created=1)
    add(store, "eval", out, created=2, baseline=model, result={"variants": [
        {"name": "source", "model": model, "baseline": True, "perplexity": 10.0, "kv": "fp16"},
        {"name": "awq", "model": out, "baseline": False, "perplexity": 10.1, "delta_pct": 1.0, "agreement": 0.46,
         "kv": "fp16"}]})
    s = model_status(model, store.list())
    assert states(s)["quantize"] == "done" and "3.2x smaller" in s.step("quantize").detail
    assert "group size 64" in s.step("quantize").detail
    assert s.step("calibrate").detail == "pileval: 64 samples × 256 tokens"
    assert s.step("evaluate").state == "attention" and "agree only 46%" in s.step("evaluate").detail
    assert s.next_step == "evaluate" and s.output == out


def test_a_failed_quantize_is_the_next_step_and_a_running_one_shows_its_progress(model, store, tmp_path):
    add(store, "quantize", model, str(tmp_path / "a"), status="failed", error="CUDA out of memory\ntraceback",
        created=1)
    s = model_status(model, store.list())
    assert s.step("quantize").state == "failed" and s.step("quantize").detail.endswith(
        "the job failed: CUDA out of memory")
    assert s.next_step == "quantize"  # its calibration is known (done); the failed job is what to fix
    assert s.step("evaluate").state == "blocked"
    job = add(store, "quantize", model, str(tmp_path / "b"), status="running", created=2)
    store.set_progress(job, 3, 12, "layer", "calibrating", None)
    s = model_status(model, store.list())
    assert s.step("quantize").state == "running" and "25%" in s.step("quantize").detail


def test_everything_done_and_the_sources_listed_without_their_outputs(model, store, tmp_path):
    out = str(tmp_path / "out-awq")
    add(store, "quantize", model, out, result={"out": out}, created=1)
    add(store, "eval", out, created=2, baseline=model, result={"variants": [
        {"name": "awq", "model": out, "baseline": False, "delta_pct": 1.0, "agreement": 0.9, "kv": "fp16"}]})
    add(store, "export", out, str(tmp_path / "gguf"), created=3, result={"out": str(tmp_path / "gguf"),
                                                                      "target": "gguf"})
    s = model_status(model, store.list())
    assert {st.state for st in s.steps} == {"done"} and s.next_step is None
    assert "gguf" in s.step("deploy").detail
    assert known_models(store.list()) == [model]
    other = str(tmp_path / "other")
    add(store, "scan", other, created=4)
    assert known_models(store.list()) == [other, model]


def test_odd_records_from_other_versions_never_break_the_page(model, store, tmp_path):
    """Hostile QA: results that are lists, ratios and deltas as strings, missing params."""
    out = str(tmp_path / "out")
    add(store, "quantize", model, out, result=["not", "a", "dict"], created=1)
    add(store, "quantize", model, out, result={"ratio": "3.1"}, created=2)
    add(store, "eval", out, created=3, result={"variants": [{"delta_pct": "1.0", "agreement": "x"}, "junk"]})
    add(store, "export", out, created=4, result=[1, 2])
    s = model_status(model, store.list())
    assert s.step("quantize").state == "done" and "None" not in s.step("quantize").detail
    assert s.step("calibrate").detail == "the job did not record its calibration settings"
    assert s.step("evaluate").state == "todo"  # nothing usable in that evaluation
    assert s.step("deploy").detail.startswith("exported -> ")


def test_a_relative_path_is_refused_and_an_output_folder_leads_to_its_source(model, store, tmp_path):
    s = model_status("models/my model", store.list())
    assert s.step("model").state == "failed" and "relative path" in s.step("model").detail
    out = str(tmp_path / "out")
    add(store, "quantize", model, out, result={})
    assert source_of(out + "/", store.list()) == model and source_of(model, store.list()) is None


def test_answers_alone_decide_when_the_perplexity_is_missing_and_a_vanished_output_is_flagged(model, store,
                                                                                           tmp_path):
    out = str(tmp_path / "out")
    add(store, "quantize", model, out, result={}, created=1)
    add(store, "eval", out, created=2, result={"variants": [{"model": out, "agreement": 0.2}]})
    s = model_status(model, store.list())
    assert s.step("evaluate").state == "attention" and "do not ship" in s.step("evaluate").detail
    os.rmdir(out)
    s = model_status(model, store.list())
    assert s.step("quantize").state == "attention" and "no longer there" in s.step("quantize").detail


def test_a_newer_failed_job_says_which_earlier_output_the_later_steps_use(model, store, tmp_path):
    old = str(tmp_path / "g128")
    add(store, "quantize", model, old, result={}, method="awq", bits=4, group_size=128, created=1)
    add(store, "quantize", model, str(tmp_path / "g64"), status="failed", error="boom", method="awq", bits=4,
        group_size=64, created=2)
    s = model_status(model, store.list())
    assert s.output == old and s.step("quantize").state == "failed"
    assert s.step("quantize").detail == f"AWQ 4-bit, group size 64; the job failed: boom; the steps below use the " \
                                        f"earlier output {old}"
    add(store, "quantize", model, str(tmp_path / "g32"), status="cancelled", created=3)
    assert model_status(model, store.list()).step("quantize").state == "todo"  # cancelled: nothing to fix


def test_chinese_details_are_whole_sentences(model, store, tmp_path):
    from widgets.service_text import translate_service

    add(store, "quantize", model, str(tmp_path / "x"), status="failed", error="boom", method="awq", bits=4,
        group_size=64)
    detail = model_status(model, store.list()).step("quantize").detail
    assert translate_service(detail, "zh_CN") == "AWQ 4 位，分组大小 64；任务失败：boom"
