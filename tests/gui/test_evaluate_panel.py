"""The Evaluate panel: a real (tiny) evaluation job, the results table, verdict thresholds, export."""
import csv

import pytest

from app.jobs import JobService
from services.jobs.manager import JobManager
from services.jobs.store import JobStore
from widgets.evaluate import EvaluatePanel

SUMMARY = {
    "tokens": 2048, "text": "held.txt", "context": 256, "stride": 256, "device": "cpu",
    "variants": [
        {"name": "m (baseline)", "model": "/m", "kv": "fp16", "baseline": True, "perplexity": 40.0, "tokens": 2040,
         "seconds": 1.0, "delta_pct": None, "agreement": 1.0},
        {"name": "awq · KV int8", "model": "/a", "kv": "int8", "baseline": False, "perplexity": 40.8, "tokens": 2040,
         "seconds": 1.1, "delta_pct": 2.0, "agreement": 0.9},
        {"name": "awq · KV int4", "model": "/a", "kv": "int4", "baseline": False, "perplexity": 54.0, "tokens": 2040,
         "seconds": 1.2, "delta_pct": 35.0, "agreement": 0.3},
    ],
    "answers": [{"prompt": "你好", "outputs": {
        "m (baseline)": {"text": "ab", "tokens": ["a", "b"], "first_divergence": None, "agreement": 1.0},
        "awq · KV int4": {"text": "ax", "tokens": ["a", "x"], "first_divergence": 1, "agreement": 0.5}}}],
}


@pytest.fixture
def service(tmp_path):
    svc = JobService(JobManager(JobStore(tmp_path / "jobs.db"), tmp_path / "jobs"))
    yield svc
    svc.shutdown()


def verdict_of(panel, row: int) -> str:
    """The full verdict line of a row (the table shows its level; the line is the cell's tooltip)."""
    from PySide6.QtCore import Qt

    return panel.table.item(row, 1).data(Qt.ItemDataRole.UserRole)


def test_results_verdicts_and_thresholds(qtbot, service, make_context, tmp_path):
    p = EvaluatePanel(make_context(jobs=service))
    qtbot.addWidget(p)
    p.show_results(SUMMARY)
    assert p.table.rowCount() == 3
    assert verdict_of(p, 1) == "perplexity +2.0%: fine" and p.table.item(1, 1).text() == "● fine"
    assert verdict_of(p, 2) == "perplexity +35.0%: do not ship int4 KV for this model"
    p.fine.setValue(1.0)
    assert "compare answers" in verdict_of(p, 1)  # thresholds are the user's
    assert '<span style="background:#fecaca">x</span>' in p._answers_html(SUMMARY)  # the first diverging token
    p.export(str(tmp_path / "r.md"), "md")
    p.export(str(tmp_path / "r.csv"), "csv")
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "| awq · KV int4 | int4 | 54.000 | +35.00% | 30% |" in md and "## 你好" in md
    rows = list(csv.DictReader(open(tmp_path / "r.csv", encoding="utf-8-sig")))
    assert rows[2]["verdict"].startswith("perplexity +35.0%") and rows[0]["delta_pct"] == ""


def test_no_candidate_is_refused(qtbot, service, make_context):
    p = EvaluatePanel(make_context(jobs=service))
    qtbot.addWidget(p)
    assert p.start() is None and "candidate" in p.status.text()


@pytest.mark.slow
def test_runs_a_real_evaluation(qtbot, service, make_context, tiny_llama, held_out_file, tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("Return the number of items.\n", encoding="utf-8")
    p = EvaluatePanel(make_context(jobs=service))
    qtbot.addWidget(p)
    p.add_candidate(str(tiny_llama))
    p.text.setCurrentText(str(held_out_file))
    p.context.setValue(64)
    p.max_tokens.setValue(512)
    p.prompts.setText(str(prompts))
    for k, box in p.kv.items():
        box.setChecked(k in ("fp16", "int4"))
    job_id = p.start()
    qtbot.waitUntil(lambda: p.job_id is None, timeout=120000)
    rec = service.store.get(job_id)
    assert rec.status == "succeeded", rec.error
    assert p.table.rowCount() == 2 and p.summary["variants"][1]["kv"] == "int4"
    assert p.run_button.isEnabled()


def test_scan_tab_runs_a_scan_and_hands_the_worst_layers_to_quantize(qtbot, make_context, structured_llama,
                                                                     held_out_file):
    from widgets.evaluate import EvaluatePanel

    ctx = make_context()
    opened = []
    ctx.navigator = lambda panel, **kw: opened.append((panel, kw))
    p = EvaluatePanel(ctx)
    qtbot.addWidget(p)
    p.open_with(tab="scan", model=str(structured_llama))
    tab = p.scan
    assert p.tabs.currentWidget() is tab
    tab.text.setEditText(str(held_out_file))
    tab.group.setCurrentText("64")
    tab.max_tokens.setValue(256)
    tab.context_len.setValue(128)
    job = tab.start()
    assert job
    qtbot.waitUntil(lambda: tab.result is not None, timeout=120000)
    assert tab.table.rowCount() == len(tab.result["units"]) == 14
    assert "everything at W4 g64" in tab.headline.text()
    tab.budget.setValue(tab.budget.maximum())  # every layer that hurts
    assert tab.keep_in_quantize()
    assert opened == [("quantize", {"model": str(structured_llama), "keep": tab.keep_list()})]
    assert len(tab.keep_list()) >= 2 and all(k.startswith("model.layers.") for k in tab.keep_list())
    assert "(predicted)" in tab.advice.text() and "not measured yet" in tab.measured.text()
    tab.model_dir.setText("relative/model")
    assert tab.start() is None and "full path" in tab.status.text()
    p.shutdown()


def test_half_agreeing_answers_are_not_called_fine_however_close_the_perplexity(qtbot, service, make_context,
                                                                                  monkeypatch):
    import copy

    from app import i18n

    summary = copy.deepcopy(SUMMARY)
    summary["variants"][1]["agreement"] = 0.5  # perplexity +2.0%, answers agree half the time
    summary["variants"][2].update(delta_pct=1.0, agreement=0.2)
    p = EvaluatePanel(make_context(jobs=service))
    qtbot.addWidget(p)
    p.show_results(summary)
    assert verdict_of(p, 1) == ("perplexity +2.0%, but the answers agree only 50% with the baseline's: "
                                         "compare answers before shipping int8 KV")
    assert "do not ship int4 KV" in verdict_of(p, 2) and "agree only 20%" in verdict_of(p, 2)
    monkeypatch.setattr(i18n, "_running", ["zh_CN"])
    p.show_results(summary)
    assert verdict_of(p, 1) == "困惑度 +2.0%，但回答与基线只有 50% 一致：发布 int8 KV 之前请先比较回答"


def test_the_verdict_is_in_view_at_1024_px(qtbot, make_context):
    from app.mainwindow import MainWindow
    from services.settings import Settings

    w = MainWindow(make_context(settings=Settings()), panel="evaluate")
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    w.resize(1024, 700)
    w.show()
    p = w.panels["evaluate"]
    p.show_results(SUMMARY)
    qtbot.wait(50)
    t = p.table
    assert w.width() <= 1024  # the form no longer forces a wider window
    assert t.columnViewportPosition(1) + t.columnWidth(1) <= t.viewport().width()  # the verdict is not cut off
    assert t.item(2, 1).text() == "● do not ship"
