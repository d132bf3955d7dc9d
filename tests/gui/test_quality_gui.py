"""The Evaluate panel's quality tools: the Frontier tab (points from finished evaluations, the Pareto front, click
to open, PNG and CSV export), simulated precisions and Run on reaching the job spec (the FAKE Ray client), and the
Scan tab's budget advice handed to Quantize with its prediction later set beside the measurement."""
from __future__ import annotations

import csv

import pytest

from app.jobs import JobService
from services.jobs.local import make_manager
from services.jobs.spec import JobSpec
from tests.modelcfg import write_config, write_safetensors
from widgets.evaluate import EvaluatePanel

TINY = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 128, "intermediate_size": 256,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 515,
        "max_position_embeddings": 2048, "torch_dtype": "float16"}
PLANTED = "model.layers.1.self_attn.o_proj"


@pytest.fixture
def service(quantdesk_home):
    svc = JobService(make_manager())
    yield svc
    svc.shutdown()


def finished(service, kind, model, result, out=None, params=None) -> str:
    rec = service.store.add(JobSpec(kind=kind, model=model, out=out, params=params or {}))
    service.store.set_status(rec.id, "succeeded", result=result)
    return rec.id


def evaluation(model, variants):
    return {"tokens": 512, "text": "/t/held.txt", "context": 256, "stride": 256, "device": "cpu", "answers": [],
            "variants": [{"baseline": i == 0, "tokens": 510, "seconds": 1.0, "delta_pct": None if i == 0 else 1.0,
                          "agreement": None, "kv": "fp16", "model": model, **v} for i, v in enumerate(variants)]}


def test_the_frontier_shows_every_variant_marks_the_front_opens_a_point_and_exports(qtbot, make_context, service,
                                                                                    tmp_path):
    fp = write_config(tmp_path / "tiny 模型", TINY)
    jobs = [finished(service, "eval", str(fp), evaluation(str(fp), [{"name": "fp16", "perplexity": 10.0}])),
            finished(service, "eval", str(fp), evaluation(str(fp), [
                {"name": "fp16", "perplexity": 10.0},
                {"name": "W4A16 g128", "precision": "w4a16", "group_size": 128, "perplexity": 10.5}])),
            finished(service, "eval", str(fp), evaluation(str(fp), [
                {"name": "fp16", "perplexity": 10.0},
                {"name": "W8A8", "precision": "w8a8", "group_size": -1, "perplexity": 11.0}]))]
    panel = EvaluatePanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    tab = panel.frontier
    assert tab.family.count() == 1 and "tiny 模型 · held.txt · context 256" == tab.family.itemText(0)
    assert sorted(p.name for p in tab.points) == ["W4A16 g128", "W8A8", "fp16"]  # fp16 once: the newest
    assert len(tab.scatter.points()) == 3
    on = {tab.points[i].name for i in tab.front}
    assert on == {"fp16", "W4A16 g128"}  # W8A8 is bigger than W4A16 and worse: dominated
    assert "3 variants, 2 on the front" in tab.status.text()
    w8 = next(i for i, p in enumerate(tab.points) if p.name == "W8A8")
    with qtbot.waitSignal(tab.jobSelected) as sig:
        spot = next(s for s in tab.scatter.points() if s.data() == w8)
        tab.scatter.sigClicked.emit(tab.scatter, [spot], None)
    assert sig.args == [jobs[2]] and panel.tabs.currentIndex() == 0
    assert panel.summary["variants"][1]["name"] == "W8A8" and jobs[2] in panel.status.text()
    assert tab.export(str(tmp_path / "f.csv"), "csv") and tab.export(str(tmp_path / "f.png"), "png")
    rows = list(csv.DictReader(open(tmp_path / "f.csv", encoding="utf-8-sig")))
    assert {r["name"]: r["on_front"] for r in rows} == {"fp16": "True", "W4A16 g128": "True", "W8A8": "False"}
    assert (tmp_path / "f.png").stat().st_size > 1000
    tab.kv_context.setValue(100_000)  # a longer context: the KV cache grows for every point
    assert all(p.kv_bytes == 2 * 2 * 2 * 32 * 2 * 100_000 for p in tab.points)


def test_simulated_precisions_reach_the_job_spec(qtbot, make_context, service, tmp_path, monkeypatch):
    fp = write_config(tmp_path / "tiny 模型", TINY)
    write_safetensors(fp / "model.safetensors")
    submitted = []
    monkeypatch.setattr(service, "submit", lambda spec: submitted.append(spec) or service.store.add(spec))
    panel = EvaluatePanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    panel.add_candidate(str(fp))
    panel.precisions["w4a8kv4"].setChecked(True)
    panel.precisions["w8a8"].setChecked(True)
    panel.groups[-1].setChecked(True)
    panel.groups[128].setChecked(False)
    assert panel.start()
    (spec,) = submitted
    assert spec.params["precision"] == ["w4a8kv4", "w8a8"] and spec.params["group_size"] == [-1]
    assert spec.executor == "local"
    panel.job_id = None
    panel.groups[-1].setChecked(False)
    assert panel.start() is None and "Tick at least one weight group" in panel.status.text()
    panel.groups[128].setChecked(True)
    write_config(fp, {**TINY, "hidden_size": 96, "intermediate_size": 192})
    assert panel.start() is None and "--group-size 128 does not divide" in panel.status.text()


def test_run_on_a_cluster_gives_the_cluster_spec_or_says_what_it_cannot_read(qtbot, make_context, service, fake_ray,
                                                                           tmp_path, monkeypatch):
    submitted = []
    monkeypatch.setattr(service, "submit", lambda spec: submitted.append(spec) or service.store.add(spec))
    here = write_config(tmp_path / "here only", TINY)
    shared = write_config(fake_ray / "tiny", TINY)
    text = fake_ray / "held.txt"
    text.write_text("Return the number of items.\n" * 20, encoding="utf-8")
    panel = EvaluatePanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    panel.show()
    assert [panel.run_on.itemText(i) for i in range(panel.run_on.count())] == ["This machine", "Cluster lab"]
    panel.run_on.setCurrentIndex(1)
    panel.text.setCurrentText(str(text))
    panel.add_candidate(str(here))
    assert panel.start() is None
    qtbot.waitUntil(lambda: "cannot read" in panel.status.text(), timeout=30000)
    assert not submitted and panel.run_button.isEnabled()
    panel.candidates.clear()
    panel.add_candidate(str(shared))
    panel.precisions["w4a16"].setChecked(True)
    panel.start()
    qtbot.waitUntil(lambda: bool(submitted), timeout=30000)
    (spec,) = submitted
    assert spec.executor == "ray:lab" and spec.model == "/mnt/lab/tiny" and spec.params["text"] == "/mnt/lab/held.txt"
    assert spec.params["precision"] == ["w4a16"]
    assert "runs on cluster lab" in panel.status.text() and "8 CPU" in panel.status.text()


def scan_result(model):
    def unit(name, ppl, params, kl):
        return {"name": name, "block": 1, "type": name.rsplit(".", 1)[1], "perplexity": ppl, "fp16_bytes": 2 * params,
                "quantized_bytes": params // 2, "kl": kl, "params": params, "delta_pct": (ppl / 10 - 1) * 100}

    units = [unit(PLANTED, 14.0, 16384, 0.2), unit("model.layers.0.mlp.down_proj", 10.6, 32768, 0.03),
             unit("model.layers.0.mlp.up_proj", 10.3, 32768, 0.02)]
    for rank, u in enumerate(units, 1):
        u["rank"] = rank
    return {"model": model, "base_perplexity": 10.0, "method": "awq", "bits": 4, "group_size": 64, "units": units,
            "by_type": [], "all_quantized": {"perplexity": 14.9, "kl": 0.3},
            "keep_most_sensitive": {"name": PLANTED, "perplexity": 11.0, "kl": 0.1}, "seconds": 1.0}


def test_the_scan_tab_advises_within_a_budget_and_sets_the_prediction_beside_the_measurement(
        qtbot, make_context, service, tmp_path):
    model = str(tmp_path / "m")
    scan_job = finished(service, "scan", model, scan_result(model))
    ctx = make_context(jobs=service)
    opened = []
    ctx.navigator = lambda panel, **kw: opened.append((panel, kw))
    panel = EvaluatePanel(ctx)
    qtbot.addWidget(panel)
    tab = panel.scan
    assert tab.result_job == scan_job and "with AWQ scales" in tab.headline.text()  # the newest scan, at start
    tab.set_budget_mb(0.03)
    assert tab.keep_list() == [PLANTED]
    assert "Keep these 1 layers in fp16: +0.02 MB, perplexity from 14.900 to 10.900 (predicted)" in tab.advice.text()
    panel.show()
    panel.tabs.setCurrentWidget(tab)
    assert tab.use_button.isEnabled() and not tab.use_reason.isVisible()  # nothing to explain
    tab.budget.setValue(0)
    assert tab.keep_list() == [] and not tab.use_button.isEnabled() and "No layer fits" in tab.advice.text()
    assert tab.use_reason.isVisible() and "No layer fits in this budget" in tab.use_reason.text()  # not only a tooltip
    tab.set_budget_mb(0.03)
    assert not tab.use_reason.isVisible()
    assert tab.keep_in_quantize()
    assert opened == [("quantize", {"model": model, "keep": [PLANTED]})]
    assert "Predicted 14.900 → 10.900; not measured yet" in tab.measured.text()
    out = str(tmp_path / "m-awq")
    finished(service, "quantize", model, {}, out=out, params={"keep": [PLANTED]})
    finished(service, "eval", out, evaluation(out, [{"name": "q", "perplexity": 11.4}]))
    tab._render_measured()
    assert "Predicted 14.900 → 10.900, measured 11.400" in tab.measured.text() and "m-awq" in tab.measured.text()


def test_use_in_quantize_says_why_it_is_greyed_out_before_a_scan(qtbot, make_context, service):
    panel = EvaluatePanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    panel.show()
    panel.tabs.setCurrentWidget(panel.scan)
    assert not panel.scan.use_button.isEnabled()
    assert panel.scan.use_reason.isVisible() and "Run a scan first" in panel.scan.use_reason.text()
