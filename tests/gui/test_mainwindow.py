import logging

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel

from app.i18n import install_translation
from app.mainwindow import MainWindow
from services.settings import Settings, load_settings
from widgets import theme
from widgets.panel import BrokenPanel
from widgets.registry import PANEL_IDS

EXPECTED = ["overview", "environment", "datasets", "quantize", "evaluate", "targets", "monitor", "jobs"]
TITLES = {"en": ["Overview", "Environment", "Datasets", "Quantize", "Evaluate", "Targets", "Monitor", "Jobs"],
          "zh_CN": ["概览", "环境", "数据集", "量化", "评估", "目标", "监控", "任务"]}


def make_window(qtbot, make_context, settings=None):
    """A window on the Jobs panel by default (the Environment panel would probe this machine)."""
    w = MainWindow(make_context(settings=settings or Settings(last_panel="jobs")))
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    w.show()
    return w


@pytest.fixture(params=["en", "zh_CN"])
def language(request, qapp):
    assert install_translation(qapp, request.param)
    yield request.param
    install_translation(qapp, "en")


def test_every_panel_builds_and_shows(qtbot, make_context, language):
    w = make_window(qtbot, make_context)
    assert PANEL_IDS == EXPECTED
    assert [w.nav.item(i).text() for i in range(w.nav.count())] == TITLES[language]
    for i, pid in enumerate(EXPECTED):
        w.nav.setCurrentRow(i)
        panel = w.panels[pid]
        assert not isinstance(panel, BrokenPanel), panel.note.text()
        assert w.current_panel_id() == pid and w.stack.currentWidget() is panel
        assert panel.PANEL_ID == pid and panel.isVisible()
        assert panel.findChild(QLabel, "panelHeading").text() == TITLES[language][i]
    assert w.stack.count() == 8


@pytest.mark.allow_log_errors
def test_a_panel_that_fails_to_build_is_replaced_not_fatal(qtbot, make_context, monkeypatch):
    from widgets.registry import BY_ID, PanelInfo

    def broken(self, context):
        raise RuntimeError("no such widget")

    monkeypatch.setattr(PanelInfo, "build", broken)
    w = make_window(qtbot, make_context)
    panel = w.show_panel("targets")
    assert isinstance(panel, BrokenPanel) and "RuntimeError: no such widget" in panel.note.text()
    assert panel.findChild(QLabel, "panelHeading").text() == BY_ID["targets"].title


def test_geometry_and_last_panel_are_restored(qtbot, make_context):
    w = make_window(qtbot, make_context)
    w.resize(760, 520)
    w.show_panel("targets")
    w.close()
    saved = load_settings()
    assert saved.last_panel == "targets" and saved.window_geometry
    w2 = make_window(qtbot, make_context, saved)
    assert w2.current_panel_id() == "targets"
    assert (w2.width(), w2.height()) == (760, 520)


def test_recent_datasets_survive_closing_the_window(qtbot, make_context, tmp_path):
    """The Datasets panel remembers a source; closing the window must not save over it."""
    text = tmp_path / "校准 text.txt"
    text.write_text("first text\n\nsecond text\n", encoding="utf-8")
    w = make_window(qtbot, make_context)
    panel = w.show_panel("datasets")
    panel.source.setCurrentText(str(text))
    panel.start_preview()
    qtbot.waitUntil(lambda: panel.worker is None, timeout=60000)
    assert panel.result is not None, panel.status.text()
    assert load_settings().recent["datasets"] == [str(text)]
    w.close()
    saved = load_settings()
    assert saved.recent.get("datasets") == [str(text)] and saved.last_panel == "datasets"


def test_unknown_last_panel_falls_back_to_the_first(qtbot, make_context):
    w = make_window(qtbot, make_context, Settings(last_panel="gone"))
    assert w.current_panel_id() == "overview"


def test_log_dock_shows_log_lines_live(qtbot, make_context):
    w = make_window(qtbot, make_context)
    logging.getLogger("quantdesk.test").warning("a live line 实时")
    qtbot.waitUntil(lambda: "a live line 实时" in w.log_view.toPlainText(), timeout=2000)


def test_log_lines_from_other_threads_reach_the_dock(qtbot, make_context, caplog):
    import threading

    caplog.set_level(logging.INFO, logger="quantdesk")
    w = make_window(qtbot, make_context)
    t = threading.Thread(target=lambda: logging.getLogger("quantdesk.test").info("from a thread"))
    t.start()
    t.join()
    qtbot.waitUntil(lambda: "from a thread" in w.log_view.toPlainText(), timeout=2000)


def test_settings_dialog_saves_what_the_user_chose(qtbot, make_context):
    from widgets.settings_dialog import SettingsDialog

    w = make_window(qtbot, make_context)

    def accept_with_changes():
        d = w.findChild(SettingsDialog)
        d.language.setCurrentIndex(d.language.findData("zh_CN"))
        d.concurrency.setValue(3)
        d.output_dir.setText("/tmp/输出 目录")
        assert d.restart_note.isVisibleTo(d)
        d.accept()

    QTimer.singleShot(50, accept_with_changes)
    w.open_settings()
    s = load_settings()
    assert (s.language, s.job_concurrency, s.output_dir) == ("zh_CN", 3, "/tmp/输出 目录")


def test_planned_panels_say_so_plainly(qtbot, make_context):
    from widgets.panel import PlannedPanel

    w = make_window(qtbot, make_context)
    for _pid, panel in w.panels.items():
        if isinstance(panel, PlannedPanel):
            assert "Not built yet" in panel.findChild(type(panel.children()[1]), "plannedNote").text()


def test_help_export_logs_previews_and_writes_the_bundle(qtbot, make_context, tmp_path):
    import zipfile

    w = make_window(qtbot, make_context)
    dialog = w.export_logs()
    qtbot.addWidget(dialog)
    dialog.doctor.setChecked(False)  # the doctor probes this machine: slow, and tested elsewhere
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled() and dialog.plan is not None
                    and not any(e.kind == "doctor" for e in dialog.plan.entries), timeout=30000)
    assert dialog.table.rowCount() == len(dialog.plan.entries) > 0
    out = tmp_path / "支持 bundle.zip"
    dialog.save(str(out))
    qtbot.waitUntil(lambda: dialog.written is not None, timeout=30000)
    with zipfile.ZipFile(out) as z:
        assert "manifest.json" in z.namelist()


def test_the_log_starts_collapsed_to_its_last_line_and_opens_with_a_click_or_ctrl_j(qtbot, make_context):
    from PySide6.QtCore import Qt

    w = make_window(qtbot, make_context)
    assert not w.log_dock.isVisible()  # the panels get the room (the planner, the dataset warnings)
    logging.getLogger("quantdesk.test").warning("the last line 最后一行\nsecond line")
    qtbot.waitUntil(lambda: "the last line 最后一行" in w.log_line.text(), timeout=2000)
    assert "second line" not in w.log_line.text() and theme.colour("warn") in w.log_line.styleSheet()
    qtbot.mouseClick(w.log_line, Qt.MouseButton.LeftButton)
    assert w.log_dock.isVisible() and "second line" in w.log_view.toPlainText()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)  # shortcuts go to the active window
    qtbot.keyClick(w, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert not w.log_dock.isVisible()


def test_ctrl_and_a_digit_switch_panels(qtbot, make_context):
    from PySide6.QtCore import Qt

    w = make_window(qtbot, make_context)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    for digit, pid in enumerate(EXPECTED, 1):
        qtbot.keyClick(w, getattr(Qt.Key, f"Key_{digit}"), Qt.KeyboardModifier.ControlModifier)
        assert w.current_panel_id() == pid


def test_a_panel_asked_for_is_the_only_one_built(qtbot, make_context):
    w = MainWindow(make_context(settings=Settings(last_panel="environment")), panel="jobs")
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    assert w.current_panel_id() == "jobs" and list(w.panels) == ["jobs"]  # the doctor's checks never started


def test_settings_show_the_running_language_and_restart_now_relaunches(qtbot, make_context, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from app import i18n
    from widgets.settings_dialog import SettingsDialog

    monkeypatch.setattr(i18n, "_running", ["zh_CN"])  # started with --lang zh_CN; the saved choice is English
    w = make_window(qtbot, make_context)
    d = SettingsDialog(w.context.settings.current, w)
    qtbot.addWidget(d)
    d.show()
    assert d.running_note.isVisible() and "简体中文" in d.running_note.text()
    assert d.restart_button.isVisible()  # English differs from the running language
    d.language.setCurrentIndex(d.language.findData("zh_CN"))
    assert not d.restart_button.isVisible()
    d.language.setCurrentIndex(d.language.findData("en"))
    relaunched = []
    w.relaunch = lambda: relaunched.append(True)
    monkeypatch.setattr(SettingsDialog, "exec", lambda self: (self.language.setCurrentIndex(
        self.language.findData("zh_CN")), self._restart(), QDialog.DialogCode.Accepted)[-1])
    monkeypatch.setattr(i18n, "_running", ["en"])
    w.open_settings()
    assert relaunched == [True] and not w.isVisible()
    from services.settings import load_settings

    assert load_settings().language == "zh_CN"


def test_start_detached_outlives_its_parent(tmp_path):
    import subprocess
    import sys
    import time

    from services.runtime import process

    marker = tmp_path / "alive"
    code = ("import subprocess, sys; from services.runtime import process; "
            f"process.start_detached([sys.executable, '-c', 'import time; time.sleep(1); open(r\"{marker}\", \"w\")'])")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=str(process.__file__).rsplit("services", 1)[0])
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists()


def test_edit_and_rerun_opens_a_quantize_jobs_settings_in_its_panel(qtbot, make_context, tiny_llama, tmp_path):
    from services.jobs.spec import JobSpec

    w = make_window(qtbot, make_context)
    store = w.context.jobs().store
    out = tmp_path / "awq out"
    out.mkdir()
    spec = JobSpec(kind="quantize", model=str(tiny_llama), out=str(out),
                   params={"method": "awq", "backend": "autoawq", "calib": "wikitext2", "samples": 48, "seqlen": 256,
                           "calib_mode": "truncate", "seed": 7, "device": "cpu", "dtype": "bfloat16",
                           "keep": ["lm_head"], "trust_remote_code": False, "group_size": 64, "bits": 4})
    store.add(spec)
    store.set_status(spec.id, "failed", error="out of memory")
    jobs = w.show_panel("jobs")
    jobs.refresh()
    jobs.select(spec.id)
    assert jobs.edit_button.isVisible() and jobs.edit_button.isEnabled()
    assert jobs.edit_selected()
    q = w.panels["quantize"]
    assert w.current_panel_id() == "quantize"
    assert q.model_dir.text() == str(tiny_llama) and q.samples.value() == 48 and q.seqlen.value() == 256
    assert q.seed.value() == 7 and q.calib.currentText() == "wikitext2" and q.calib_mode.currentData() == "truncate"
    assert q.device.currentText() == "cpu" and q.dtype.currentText() == "bfloat16" and q.keep.text() == "lm_head"
    assert q.backend_form.values()["group_size"] == 64
    assert q.out_dir.text() != str(out) and q.out_dir.text().startswith(str(out))  # a fresh folder beside the old


def test_a_finished_quantize_job_offers_the_next_steps(qtbot, make_context, tiny_llama, tmp_path):
    from services.jobs import protocol as p

    w = make_window(qtbot, make_context)
    q = w.show_panel("quantize")
    out = tmp_path / "awq"
    out.mkdir()
    (out / "config.json").write_text((tiny_llama / "config.json").read_text())
    q.set_model(str(tiny_llama))
    q.out_dir.setText(str(out))
    assert not q.evaluate_button.isVisible() and not q.plan_button.isVisible()
    q.job_id = "j1"
    q._on_job_event("j1", p.Status("succeeded"))
    assert q.evaluate_button.isVisible() and q.plan_button.isVisible() and q.export_button.isVisible()
    assert q.evaluate_output()
    ev = w.panels["evaluate"]
    assert w.current_panel_id() == "evaluate"
    assert ev.candidate_folders() == [str(out)] and ev.baseline.text() == str(tiny_llama)
    w.show_panel("quantize")
    assert q.plan_output()
    assert w.current_panel_id() == "monitor"
    planner = w.panels["monitor"].planner
    assert w.panels["monitor"].tabs.currentWidget() is planner and planner.model_dir.text() == str(out)
