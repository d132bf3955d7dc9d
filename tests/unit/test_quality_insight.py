"""Where quality goes, without torch: the mixed precision advice and its prediction, the saved prediction and its
later measurement, the quality-size frontier (pure Pareto front and sizing from the job store), the scan's and
eval's command lines refusing bad input (exit 2, one line), and `quantdesk eval --executor ray` building the
cluster's spec against the FAKE Ray client."""
import csv
import io
from types import SimpleNamespace

import pytest

from services.evaluate import frontier
from services.insight import advice, predictions
from services.insight.settings import ScanSettings
from services.jobs.spec import JobSpec
from tests.modelcfg import write_config, write_safetensors

TINY = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 128, "intermediate_size": 256,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 515,
        "max_position_embeddings": 2048, "torch_dtype": "float16"}
PLANTED = "model.layers.1.self_attn.o_proj"


def unit(name, ppl, params, kl):
    return {"name": name, "perplexity": ppl, "fp16_bytes": 2 * params, "quantized_bytes": params // 2, "kl": kl,
            "params": params}


# a scan result: the planted o_proj is small and costly to quantize; a big MLP layer hurts a little
SCAN = {"model": "/m", "base_perplexity": 10.0, "method": "rtn", "bits": 4, "group_size": 64,
        "units": [unit(PLANTED, 14.0, 16384, 0.2), unit("model.layers.0.mlp.down_proj", 10.6, 32768, 0.03),
                  unit("model.layers.0.mlp.up_proj", 10.3, 32768, 0.02), unit("model.layers.0.self_attn.q_proj",
                                                                              9.9, 16384, 0.005)]}


def test_the_advice_keeps_the_planted_layer_first_and_predicts_additively():
    small = advice.advise(SCAN, 0.03)  # the planted layer costs 16384 * 1.5 bytes = 0.025 MB
    assert small["keep"] == [PLANTED] and small["extra_mb"] == pytest.approx(0.0246, abs=1e-4)
    assert small["from_perplexity"] == pytest.approx(10 + 4 + 0.6 + 0.3 - 0.1)
    assert small["to_perplexity"] == pytest.approx(10 + 0.6 + 0.3 - 0.1)
    big = advice.advise(SCAN, advice.max_budget_mb(SCAN))
    assert big["keep"] == [PLANTED, "model.layers.0.mlp.down_proj", "model.layers.0.mlp.up_proj",
                           "model.layers.0.self_attn.q_proj"]  # by KL per MB
    assert big["to_perplexity"] == pytest.approx(10.0)
    cheap = {**SCAN, "units": [*SCAN["units"], unit("model.layers.1.self_attn.k_proj", 10.8, 4096, 0.04)]}
    assert advice.advise(cheap, 0.03)["keep"] == [PLANTED]  # a cheap layer with a noisy +8% does not crowd it out
    assert advice.advise(SCAN, 0)["keep"] == []
    assert "no unit fits in 0 MB" in advice.advice_line(advice.advise(SCAN, 0))
    assert advice.advice_line(small) == ("keep these 1 layer in fp16: +0.02 MB, perplexity from 14.800 to 10.800 "
                                         "(predicted)")


def test_a_saved_prediction_finds_its_measurement_in_the_job_store(quantdesk_home):
    adv = advice.advise(SCAN, 0.03)
    predictions.record("scan1", SCAN, adv)
    predictions.record("scan1", SCAN, adv)  # the same again: kept once
    (pred,) = predictions.load()
    assert pred["to_perplexity"] == pytest.approx(10.8) and pred["keep"] == [PLANTED]

    def rec(id, kind, model, out=None, params=None, result=None, status="succeeded"):
        return SimpleNamespace(id=id, kind=kind, model=model, out=out, status=status, result=result,
                               spec=JobSpec(kind=kind, model=model, params=params or {}))

    ev = {"text": "t", "variants": [{"model": "/m", "kv": "fp16", "perplexity": 10.1},
                                    {"model": "/q", "kv": "fp16", "perplexity": 11.2},
                                    {"model": "/q", "kv": "int4", "perplexity": 15.0}]}
    records = [rec("e1", "eval", "/m", result=ev), rec("q1", "quantize", "/m", "/q", {"keep": [PLANTED]}),
               rec("q2", "quantize", "/m", "/other", {"keep": []})]
    got = predictions.measured(pred, records)
    assert got == {"quantize_job": "q1", "eval_job": "e1", "out": "/q", "perplexity": 11.2, "fp_perplexity": 10.1,
                   "text": "t"}
    assert predictions.measured(pred, records[1:]) is None  # not evaluated yet
    (quantdesk_home / "data" / "scan_predictions.json").write_text("{not json", encoding="utf-8")
    assert predictions.load() == []


def test_pareto_front_leaves_out_the_dominated_points():
    pts = [(10.0, 5.0), (4.0, 6.0), (6.0, 7.0), (2.0, 9.0), (4.0, 6.0), (12.0, 5.0)]
    assert frontier.pareto_front(pts) == [3, 1, 4, 0]  # (6, 7) is beaten by (4, 6); (12, 5) by (10, 5)
    assert frontier.pareto_front([]) == []


def eval_record(id, model, variants, text="held.txt", context=256):
    return SimpleNamespace(id=id, kind="eval", model=model, out=None, status="succeeded",
                           result={"text": text, "context": context, "variants": variants},
                           spec=JobSpec(kind="eval", model=model))


def test_points_from_the_job_store_are_sized_by_weights_and_kv_cache(tmp_path):
    fp = write_config(tmp_path / "tiny 模型", TINY)
    awq = write_config(tmp_path / "awq", {**TINY, "quantization_config": {"quant_method": "awq", "bits": 4,
                                                                         "group_size": 64, "version": "gemm"}})
    write_safetensors(awq / "model.safetensors", 100_000)
    quant = SimpleNamespace(id="q", kind="quantize", model=str(fp), out=str(awq), status="succeeded", result={},
                            spec=JobSpec(kind="quantize", model=str(fp)))
    records = [
        eval_record("e3", str(fp), [{"name": "sim", "model": str(fp), "kv": "fp16", "precision": "w8a8",
                                     "group_size": -1, "perplexity": 13.0}]),
        eval_record("e2", str(fp), [{"name": "fp", "model": str(fp), "kv": "fp16", "perplexity": 10.0},
                                    {"name": "awq int4", "model": str(awq), "kv": "int4", "perplexity": 12.0},
                                    {"name": "gone", "model": str(tmp_path / "gone"), "kv": "fp16",
                                     "perplexity": 9.0}]),
        eval_record("e1", str(fp), [{"name": "fp old", "model": str(fp), "kv": "fp16", "perplexity": 99.0}]),
        quant]
    points, skipped = frontier.points_from_jobs(records, context=1000)
    assert [p.name for p in points] == ["sim", "fp", "awq int4"]  # the newest fp measurement wins
    assert len(skipped) == 1 and "gone" in skipped[0]
    sim, fp_point, awq_point = points
    kv16 = 2 * 2 * 2 * 32 * 2 * 1000  # K and V x layers x kv heads x head dim x 2 bytes x tokens
    assert fp_point.kv_bytes == kv16 and awq_point.kv_bytes == 2 * 2 * 2 * (16 + 4) * 1000
    assert awq_point.weight_bytes == (awq / "model.safetensors").stat().st_size  # a real checkpoint: its files
    assert awq_point.source == str(fp)  # the quantize job says where it came from: one frontier
    assert sim.weight_bytes < fp_point.weight_bytes
    assert frontier.families(points) == [(str(fp), "held.txt", 256)]
    rows = list(csv.DictReader(io.StringIO(frontier.to_csv(points))))
    assert [r["on_front"] for r in rows] == ["False", "True", "True"]  # sim: bigger and worse than awq
    assert frontier.label(sim) == "W8A8" and frontier.label(awq_point) == "awq KV int4"


def test_scan_settings_take_awq_and_refuse_bad_numbers():
    assert ScanSettings(method="awq").problems() == []
    assert "--method is rtn or awq" in ScanSettings(method="gptq").problems()[0]
    assert "--calib-tokens" in ScanSettings(method="awq", calib_tokens=10).problems()[0]
    assert "--budget-mb must be 0 or more" in ScanSettings(budget_mb=-1).problems()[0]


@pytest.fixture
def folders(tmp_path):
    fp16 = write_config(tmp_path / "tiny 模型", TINY)
    write_safetensors(fp16 / "model.safetensors")
    text = tmp_path / "held out.txt"
    text.write_text("Return the number of items.\n" * 20, encoding="utf-8")
    return fp16, text


@pytest.mark.parametrize("extra, reason", [
    (["--budget-mb", "-3"], "--budget-mb must be 0 or more"),
    (["--awq-calib", "x.txt"], "--awq-calib and --calib-tokens go with --method awq"),
    (["--method", "awq", "--calib-tokens", "8"], "--calib-tokens must be between 64"),
    (["--method", "awq", "--awq-calib", "missing.txt"], "calibration text not found"),
    (["--method", "awq", "--group-size", "96"], "--group-size 96 does not divide"),
])
def test_bad_scan_input_exits_2_with_one_line(folders, capsys, extra, reason):
    from app.cli import main

    assert main(["scan", "--model", str(folders[0]), "--text", str(folders[1]), *extra]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("quantdesk: error: ") and reason in line, line


def test_eval_on_a_cluster_translates_its_paths_or_refuses_them(fake_ray, folders, capsys, monkeypatch):
    from app import cli, jobcli

    model = write_config(fake_ray / "tiny", TINY)
    write_safetensors(model / "model.safetensors")
    text = fake_ray / "held.txt"
    text.write_text("Return the number of items.\n" * 20, encoding="utf-8")
    assert cli.main(["eval", "--model", str(folders[0]), "--text", str(text), "--executor", "ray"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "cluster lab cannot read" in line and "Put it on the shared storage" in line
    assert cli.main(["eval", "--model", str(model), "--text", str(text), "--cluster", "lab"]) == 2
    assert "--cluster goes with --executor ray" in capsys.readouterr().err
    seen = []
    monkeypatch.setattr(jobcli, "follow_job", lambda spec: seen.append(spec) or SimpleNamespace(
        id="j", status="failed", error="stopped by the test", result=None, exit_code=1, error_kind=None))
    monkeypatch.setattr(jobcli, "exit_status", lambda rec: 1)
    assert cli.main(["eval", "--model", str(model), "--text", str(text), "--precision", "w4a8", "--executor", "ray",
                     "--cluster", "lab", "--no-answers"]) == 1
    (spec,) = seen
    assert spec.executor == "ray:lab" and spec.model == "/mnt/lab/tiny" and spec.params["text"] == "/mnt/lab/held.txt"
    assert spec.params["precision"] == ["w4a8"]
    assert cli.main(["eval", "--model", "/mnt/lab/other", "--text", "wikitext2", "--executor", "ray"]) == 1
    assert seen[1].model == "/mnt/lab/other" and seen[1].params["text"] == "wikitext2"  # the cluster's own paths
