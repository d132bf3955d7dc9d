"""Issue 17, the panels' words and keys: sizes in GiB, job kinds and times in Chinese, the ETA while a job runs,
log lines that wrap, a frontier point opened without the mouse, the datasets warning above the fold and the
planner's dtype of a float32 checkpoint."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit

from app.i18n import install_translation
from services.jobs.spec import JobSpec
from tests.gui.test_quality_gui import TINY, evaluation, finished, service  # noqa: F401  (fixture)
from tests.modelcfg import write_config
from widgets.jobtext import duration_text, eta_text, kind_text, size_text


def test_sizes_read_in_gib_and_times_and_kinds_in_the_interface_language(qapp):
    assert size_text(14.2 * 1024**3) == "14.20 GiB" and size_text(512 * 1024**2) == "0.500 GiB"
    assert eta_text(125) == "2 min 05 s" and duration_text(3725) == "1 h 02 min" and kind_text("eval") == "evaluate"
    assert install_translation(qapp, "zh_CN")
    try:
        assert eta_text(125) == "2 分 05 秒" and eta_text(7) == "7 秒" and duration_text(3725) == "1 小时 02 分"
        assert kind_text("quantize") == "量化" and kind_text("eval") == "评估"
        assert kind_text("from-the-future") == "from-the-future"
    finally:
        install_translation(qapp, "en")


def test_a_running_job_shows_its_eta_and_its_kind_in_words(qtbot, make_context, service):  # noqa: F811
    from widgets.jobs import JobsPanel

    rec = service.store.add(JobSpec(kind="eval", model="/m/tiny", params={}))
    service.store.set_status(rec.id, "running")
    service.store.set_progress(rec.id, 3, 12, "step", "scoring", 95.0)
    panel = JobsPanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    panel.refresh()
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    row = [panel.table.item(0, c).text() for c in range(panel.table.columnCount())]
    assert row[headers.index("ETA")] == "1 min 35 s" and row[headers.index("Kind")] == "evaluate"
    service.store.set_status(rec.id, "succeeded", result={})
    panel.refresh()
    row = [panel.table.item(0, c).text() for c in range(panel.table.columnCount())]
    assert row[headers.index("ETA")] == ""  # no ETA once it ended


def test_log_lines_wrap_in_the_log_view():
    from widgets.log_view import LogView

    view = LogView()
    view.resize(300, 200)
    view.append_line("x" * 400, logging.WARNING)
    assert view.lineWrapMode() == QPlainTextEdit.LineWrapMode.WidgetWidth


def test_a_frontier_point_opens_from_the_keyboard(qtbot, make_context, service, tmp_path):  # noqa: F811
    from widgets.evaluate import EvaluatePanel

    fp = write_config(tmp_path / "tiny 模型", TINY)
    finished(service, "eval", str(fp), evaluation(str(fp), [{"name": "fp16", "perplexity": 10.0},
                                                            {"name": "W8A8", "precision": "w8a8", "perplexity": 11.0}]))
    job = finished(service, "eval", str(fp), evaluation(str(fp), [
        {"name": "fp16", "perplexity": 10.0}, {"name": "W4A16 g128", "precision": "w4a16", "group_size": 128,
                                               "perplexity": 10.5}]))
    panel = EvaluatePanel(make_context(jobs=service))
    qtbot.addWidget(panel)
    tab = panel.frontier
    assert tab.point.count() == 3 and tab.point.itemText(0).startswith("★ ")  # the front first
    assert tab.point.focusPolicy() & Qt.FocusPolicy.TabFocus and tab.open_point.focusPolicy() & Qt.FocusPolicy.TabFocus
    tab.point.setCurrentIndex(next(i for i in range(3) if "W4A16" in tab.point.itemText(i)))
    with qtbot.waitSignal(tab.jobSelected) as sig:
        tab.open_point.click()
    assert sig.args == [job]


def test_the_datasets_key_warning_is_above_the_fold_at_1200x800(qtbot, make_context, tmp_path, tiny_tokenizer):
    from app.mainwindow import MainWindow
    from services.settings import Settings
    from tests.gui.test_datasets_panel import wait_idle
    from tests.unit.test_datasets import EN

    text = tmp_path / "short 文本.txt"
    text.write_text("\n\n".join([EN] * 17), encoding="utf-8")
    w = MainWindow(make_context(settings=Settings(last_panel="datasets")))
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    w.resize(1200, 800)
    w.show()
    panel = w.panels["datasets"]
    panel.source.setCurrentText(str(text))
    panel.tokenizer.setText(str(tiny_tokenizer))
    panel.seqlen.setValue(32)
    panel.samples.setValue(128)
    panel.start_preview()
    wait_idle(qtbot, panel)
    assert panel.warnings.isVisible() and "128" in panel.warnings.text()
    top = panel.warnings.mapTo(w, panel.warnings.rect().topLeft()).y()
    assert 0 < top and top + panel.warnings.height() <= w.centralWidget().geometry().bottom()  # in view


def test_the_planner_says_float32_for_a_float32_checkpoint(qtbot, make_context, tmp_path):
    from widgets.monitor import MonitorPanel

    folder = write_config(tmp_path / "fp32 模型", {**TINY, "torch_dtype": "float32"})
    panel = MonitorPanel(make_context())
    qtbot.addWidget(panel)
    panel.open_with(model=str(folder))
    qtbot.waitUntil(lambda: "float32" in panel.planner.model_info.text(), timeout=10000)
    assert "fp16" not in panel.planner.model_info.text()
    qtbot.waitUntil(lambda: panel.planner.plan is not None, timeout=10000)
    weights = panel.planner.summary.text().split("</tr>")[0]
    assert "(fp32" in weights and "fp16" not in weights  # planned as the float32 it is


def test_the_jobs_panel_offers_the_next_steps_and_evaluate_this_starts_a_clean_form(qtbot, make_context, service,  # noqa: F811
                                                                                    tmp_path):
    """Hostile QA: a finished quantize offered only Export in Jobs; Evaluate this then showed the results of
    another model's evaluation beside the new form."""
    from app.mainwindow import MainWindow
    from services.settings import Settings

    fp = write_config(tmp_path / "old 模型", TINY)
    finished(service, "eval", str(fp), evaluation(str(fp), [{"name": "fp16", "perplexity": 10.0}]))
    src = write_config(tmp_path / "src", TINY)
    out = tmp_path / "out"
    out.mkdir()
    job = finished(service, "quantize", str(src), {"out": str(out)}, out=str(out))
    w = MainWindow(make_context(jobs=service, settings=Settings(last_panel="evaluate")))
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    w.show()
    assert w.panels["evaluate"].summary is not None  # the old model's results are shown
    jobs = w.show_panel("jobs")
    jobs.refresh()
    jobs.select(job)
    assert jobs.evaluate_button.isVisible() and jobs.plan_button.isVisible()
    jobs.evaluate_button.click()
    ev = w.panels["evaluate"]
    assert w.current_panel_id() == "evaluate" and ev.candidate_folders() == [str(out)]
    assert ev.baseline.text() == str(src) and ev.summary is None  # no results of another model beside the form


def test_the_planner_keeps_its_kv_chart_readable_at_1024x700(qtbot, make_context, tmp_path):
    """Issue 17: notes ran under the bar and the KV chart was squashed to about 20-40 px."""
    from app.mainwindow import MainWindow
    from services.settings import Settings

    folder = write_config(tmp_path / "m", TINY)
    w = MainWindow(make_context(settings=Settings(last_panel="monitor")))
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    w.resize(1024, 700)
    w.show()
    panel = w.panels["monitor"]
    panel.open_with(model=str(folder))
    qtbot.waitUntil(lambda: panel.planner.plan is not None, timeout=10000)
    qtbot.wait(50)
    assert panel.planner.curve.height() >= 170 and w.width() <= 1024 and w.height() <= 700
