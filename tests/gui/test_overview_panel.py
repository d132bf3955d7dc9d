"""The Overview panel (issue 17's home page): the path model -> calibration -> quantize -> evaluate -> export with
where the chosen model stands, from the job history; its next-step button opens the right panel, filled in."""
from __future__ import annotations

import json

import pytest

from app.mainwindow import MainWindow
from services.settings import Settings
from tests.unit.test_overview import CONFIG, add


@pytest.fixture
def model(tmp_path):
    folder = tmp_path / "my model 模型"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    return str(folder)


def window(qtbot, make_context, **settings):
    w = MainWindow(make_context(settings=Settings(last_panel="overview", **settings)))
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    w.show()
    panel = w.panels["overview"]
    qtbot.waitUntil(lambda: panel._connected, timeout=5000)  # the job store opens after the first paint
    return w, panel


def test_a_new_user_sees_the_path_and_one_next_step(qtbot, make_context):
    w, panel = window(qtbot, make_context)
    assert w.current_panel_id() == "overview"  # a fresh install starts here
    assert [c.title.text() for c in panel.cards.values()] == ["1. Model", "2. Calibration data", "3. Quantize",
                                                               "4. Evaluate", "5. Export or serve"]
    assert panel.model.currentText() == "" and "config.json" in panel.next_text.text()
    assert panel.next_button.text() == "Browse…" and panel.next_button.isVisible()


def test_a_mistyped_model_folder_says_so_and_nothing_after_it_is_offered(qtbot, make_context, tmp_path):
    w, panel = window(qtbot, make_context)
    panel.model.setCurrentText(str(tmp_path / "typo"))
    panel.refresh()
    card = panel.cards["model"]
    assert "Needs a fix" in card.state.text() and "model folder not found" in card.detail.text()
    assert not any(c.action.isVisible() for sid, c in panel.cards.items() if sid != "model")
    assert "typo" not in str(w.context.settings.current.recent.get("overview", []))  # a typo is not remembered


def test_half_agreeing_answers_are_flagged_and_the_next_step_opens_the_right_panel(qtbot, make_context, model,
                                                                                  tmp_path):
    ctx = make_context(settings=Settings(last_panel="jobs"))
    store = ctx.jobs().store
    out = str(tmp_path / "out-awq")
    add(store, "quantize", model, out, result={"out": out, "ratio": 3.2}, created=1)
    add(store, "eval", out, created=2, baseline=model, result={"variants": [
        {"name": "awq", "model": out, "baseline": False, "delta_pct": 1.0, "agreement": 0.5, "kv": "fp16"}]})
    w = MainWindow(ctx)
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    w.show()
    panel = w.show_panel("overview")
    qtbot.waitUntil(lambda: panel.status is not None, timeout=5000)
    assert panel.model.currentText() == model  # the model of the job history is picked up
    assert "Done" in panel.cards["quantize"].state.text()
    assert "Look at this" in panel.cards["evaluate"].state.text()  # not "fine": half the answers differ
    assert "agree only 50%" in panel.cards["evaluate"].detail.text()
    assert panel.cards["evaluate"].property("next") == "true"
    panel.cards["deploy"].action.click()  # Export… opens Targets on the quantized folder
    assert w.current_panel_id() == "targets" and w.panels["targets"].model_dir.text() == out
    w.show_panel("overview")
    panel.next_button.click()  # Show job: the evaluation in the Jobs panel
    jobs = w.panels["jobs"]
    assert w.current_panel_id() == "jobs" and jobs.selected().kind == "eval"


def test_a_quantize_job_ending_updates_the_page(qtbot, make_context, model, tmp_path):
    w, panel = window(qtbot, make_context, recent={"overview": [model]})
    assert panel.model.currentText() == model
    assert panel.cards["quantize"].action.text() == "Quantize…"
    panel.cards["quantize"].action.click()
    assert w.current_panel_id() == "quantize" and w.panels["quantize"].model_dir.text() == model
    store = w.context.jobs().store
    out = str(tmp_path / "out")
    add(store, "quantize", model, out, result={"out": out})
    w.show_panel("overview")  # shown() reads the store again
    assert "Done" in panel.cards["quantize"].state.text()
    assert panel.next_button.text() == "Evaluate this"
    panel.next_button.click()
    evaluate = w.panels["evaluate"]
    assert w.current_panel_id() == "evaluate" and evaluate.baseline.text() == model
