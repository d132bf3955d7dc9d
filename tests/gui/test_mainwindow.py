import logging

from PySide6.QtCore import QTimer

from app.mainwindow import MainWindow
from services.settings import Settings, load_settings
from widgets.registry import PANEL_IDS

EXPECTED = ["environment", "datasets", "quantize", "evaluate", "targets", "monitor", "jobs"]


def make_window(qtbot, settings=None):
    """A window on the Jobs panel by default (the Environment panel would probe this machine)."""
    w = MainWindow(settings or Settings(last_panel="jobs"))
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    w.show()
    return w


def test_all_seven_panels_are_in_the_navigation(qtbot):
    w = make_window(qtbot)
    assert PANEL_IDS == EXPECTED
    assert [w.nav.item(i).text() for i in range(w.nav.count())] == [
        "Environment", "Datasets", "Quantize", "Evaluate", "Targets", "Monitor", "Jobs"]
    for i, pid in enumerate(EXPECTED):
        w.nav.setCurrentRow(i)
        assert w.current_panel_id() == pid
        assert w.stack.currentWidget() is w.panels[pid]
        assert w.panels[pid].PANEL_ID == pid
    assert w.stack.count() == 7


def test_geometry_and_last_panel_are_restored(qtbot):
    w = make_window(qtbot)
    w.resize(760, 520)
    w.show_panel("targets")
    w.close()
    saved = load_settings()
    assert saved.last_panel == "targets" and saved.window_geometry
    w2 = make_window(qtbot, saved)
    assert w2.current_panel_id() == "targets"
    assert (w2.width(), w2.height()) == (760, 520)


def test_unknown_last_panel_falls_back_to_the_first(qtbot):
    w = make_window(qtbot, Settings(last_panel="gone"))
    assert w.current_panel_id() == "environment"


def test_log_dock_shows_log_lines_live(qtbot):
    w = make_window(qtbot)
    logging.getLogger("quantdesk.test").warning("a live line 实时")
    qtbot.waitUntil(lambda: "a live line 实时" in w.log_view.toPlainText(), timeout=2000)


def test_log_lines_from_other_threads_reach_the_dock(qtbot, caplog):
    import threading

    caplog.set_level(logging.INFO, logger="quantdesk")
    w = make_window(qtbot)
    t = threading.Thread(target=lambda: logging.getLogger("quantdesk.test").info("from a thread"))
    t.start()
    t.join()
    qtbot.waitUntil(lambda: "from a thread" in w.log_view.toPlainText(), timeout=2000)


def test_settings_dialog_saves_what_the_user_chose(qtbot, monkeypatch):
    from widgets.settings_dialog import SettingsDialog

    w = make_window(qtbot)

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


def test_planned_panels_say_so_plainly(qtbot):
    from widgets.panel import PlannedPanel

    w = make_window(qtbot)
    for _pid, panel in w.panels.items():
        if isinstance(panel, PlannedPanel):
            assert "Not built yet" in panel.findChild(type(panel.children()[1]), "plannedNote").text()
