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


def _finished_eval(service, model, also=(), result=None):
    from services.jobs.spec import JobSpec

    rec = service.store.add(JobSpec(kind="eval", model=model, params={"also": list(also)}))
    service.store.set_status(rec.id, "succeeded", result=result or SUMMARY)
    return service.store.get(rec.id)


def test_the_results_say_which_run_they_are_from(qtbot, service, make_context, tmp_path, monkeypatch):
    """Issue 17: the latest evaluation's results stood beside a reset form with nothing saying which run they were."""
    from datetime import datetime

    from services.jobs import protocol as p
    from tests.modelcfg import write_config

    old = _finished_eval(service, str(tmp_path / "tiny-awq"), also=[str(tmp_path / "tiny-gptq")])
    panel = EvaluatePanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    when = datetime.fromtimestamp(old.finished).strftime("%Y-%m-%d %H:%M")  # local time
    assert panel.results_of.text() == f"Results of the evaluation of {when} (job {old.id}): tiny-awq, tiny-gptq"
    assert panel.table.rowCount() == 3
    # the form starts a new run: the old results go, and the line says so
    monkeypatch.setattr(service, "submit", lambda spec: service.store.add(spec))
    candidate = write_config(tmp_path / "tiny-new", {"model_type": "llama"})
    panel.add_candidate(str(candidate))
    job = panel.start()
    assert job and panel.results_of.text() == "Results of a run in progress…"
    assert panel.table.rowCount() == 0 and not panel.export_md.isEnabled()
    # it finishes: its results, named by the new run
    service.store.set_status(job, "succeeded", result=SUMMARY)
    service.event.emit(job, p.Status("succeeded"))
    assert job in panel.results_of.text() and "tiny-new" in panel.results_of.text() and old.id not in \
        panel.results_of.text()
    assert panel.table.rowCount() == 3 and panel.export_md.isEnabled()


def test_job_events_and_errors_are_shown_in_chinese(qtbot, qapp, service, make_context, tmp_path, monkeypatch):
    """Issue 17: Evaluate showed the job's progress messages and its error in English in the Chinese UI."""
    from app.i18n import install_translation
    from services.jobs import protocol as p
    from tests.modelcfg import write_config

    monkeypatch.setattr(service, "submit", lambda spec: service.store.add(spec))
    assert install_translation(qapp, "zh_CN")
    try:
        panel = EvaluatePanel(make_context(jobs=service))
        qtbot.addWidget(panel)
        panel.add_candidate(str(write_config(tmp_path / "m", {"model_type": "llama"})))
        job = panel.start()
        service.event.emit(job, p.Progress(1, 4, "step", "awq · KV int4: window 3/8"))
        assert panel.status.text() == "awq · KV int4：窗口 3/8"
        service.event.emit(job, p.Stage("perplexity", "awq · KV int4: answer 1/2"))
        assert panel.status.text().endswith("awq · KV int4：回答 1/2")
        service.store.set_status(job, "failed", error="no NVIDIA GPU found")
        service.event.emit(job, p.Status("failed"))
        assert "未找到 NVIDIA GPU" in panel.status.text() and "no NVIDIA GPU" not in panel.status.text()
    finally:
        install_translation(qapp, "en")


def test_a_greyed_out_export_says_why_in_view(qtbot, service, make_context):
    """Keyboard users cannot hover a disabled button: the reason is a visible line beside Export."""
    panel = EvaluatePanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.export_md.isEnabled()
    assert panel.export_reason.isVisible() and "Run an evaluation first" in panel.export_reason.text()
    panel.show_results(SUMMARY)
    assert panel.export_md.isEnabled() and not panel.export_reason.isVisible()


def test_an_evaluation_record_of_an_older_version_still_opens(qtbot, make_context):
    """Hostile QA: an evaluation without 'agreement' or 'delta_pct' (an older QuantDesk, a hand-edited store)
    stopped the Evaluate panel from opening (KeyError)."""
    from services.jobs.spec import JobSpec

    ctx = make_context()
    store = ctx.jobs().store
    rec = store.add(JobSpec(kind="eval", model="/m/awq", params={}))
    store.set_status(rec.id, "succeeded", result={"variants": [
        {"name": "fp16", "baseline": True, "perplexity": 10.0, "kv": "fp16"},
        {"name": "awq", "perplexity": "11", "tokens": None}, "junk"], "answers": [{"prompt": "hi", "outputs": 3}]})
    panel = EvaluatePanel(ctx)
    qtbot.addWidget(panel)
    assert panel.table.rowCount() == 2 and panel.table.item(1, 0).text() == "awq"
    assert panel.table.item(1, 2).text() == ""  # a perplexity that is not a number is left out, not guessed
