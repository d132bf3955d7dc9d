"""The Overview panel (issue 17's home page): the path model -> calibration -> quantize -> evaluate -> export with
where the chosen model stands, from the job history; its next-step button opens the right panel, filled in."""
from __future__ import annotations

import pytest

from app.mainwindow import MainWindow
from services.settings import Settings
from tests.unit.test_overview import add, model_folder


@pytest.fixture
def model(tmp_path):
    return model_folder(tmp_path)


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


def test_an_unreadable_history_is_said_on_the_page(qtbot, make_context, model, monkeypatch):
    from services.jobs.store import JobStore, StoreError

    w, panel = window(qtbot, make_context, recent={"overview": [model]})
    monkeypatch.setattr(JobStore, "list", lambda self, limit=200: (_ for _ in ()).throw(
        StoreError("the job store x is locked by another process")))
    panel.refresh()
    assert "locked by another process" in panel.next_text.text()  # not hidden behind "not quantized yet"


def test_picking_a_quantized_output_shows_its_source_and_live_jobs_update_the_page(qtbot, make_context, model,
                                                                                    tmp_path):
    w, panel = window(qtbot, make_context)
    store = w.context.jobs().store
    out = str(tmp_path / "out")
    add(store, "quantize", model, out, result={"out": out})
    panel.model.setCurrentText(out + "/")
    panel.refresh()
    assert panel.model.currentText() == model and "is a quantized output of" in panel.next_text.text()
    job = add(store, "quantize", model, str(tmp_path / "out2"), status="running", method="awq", bits=4,
              group_size=64)
    store.set_progress(job, 1, 4, "layer", "calibrating", None)
    panel.poll.timeout.emit()  # the 3 s poll: a job started from the command line shows up
    assert "Running" in panel.cards["quantize"].state.text() and "25%" in panel.cards["quantize"].detail.text()


def test_a_theme_switch_recolours_the_status_words_at_once(qtbot, make_context, model):
    from widgets import theme

    w, panel = window(qtbot, make_context, recent={"overview": [model]})
    assert theme.LIGHT["ok"] in panel.cards["model"].state.text()
    app = __import__("PySide6.QtWidgets", fromlist=["QApplication"]).QApplication.instance()
    chosen = theme.choice()
    try:
        theme.apply(app, "dark")
        assert theme.DARK["ok"] in panel.cards["model"].state.text()
    finally:
        theme.apply(app, chosen)


def test_the_poll_reads_the_history_again_only_when_another_process_wrote_to_it(qtbot, make_context, model,
                                                                               tmp_path, monkeypatch):
    from services.jobs.store import JobStore

    w, panel = window(qtbot, make_context, recent={"overview": [model]})
    reads = []
    real = panel._records
    monkeypatch.setattr(panel, "_records", lambda: (reads.append(1), real())[1])
    panel.poll.timeout.emit()
    panel.poll.timeout.emit()
    assert len(reads) == 1  # nothing new the second time: no second read of the history
    other = JobStore(w.context.jobs().store.path)  # the command line's own connection
    add(other, "quantize", model, str(tmp_path / "out"), result={})
    other.close()
    panel.poll.timeout.emit()
    assert len(reads) == 2 and "Done" in panel.cards["quantize"].state.text()
