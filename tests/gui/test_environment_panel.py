"""The Environment panel: checks in a worker, details and fixes on selection, report, launcher."""
import time

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

from app.context import AppContext
from services.envcheck.probe import RunResult
from services.envcheck.vcvars import MARKER, load_msvc_env
from services.paths import user_dirs
from tests.fakes.probe import healthy_windows
from tests.unit.test_vcvars_launcher import AFTER, BEFORE
from widgets.environment import EnvironmentPanel


def make_panel(qtbot, factory):
    p = EnvironmentPanel(AppContext(), probe_factory=factory)
    qtbot.addWidget(p)
    p.show()
    qtbot.waitUntil(lambda: p.report is not None, timeout=10000)
    return p


def select(panel, check_id):
    row = [c.id for c in panel.report.checks].index(check_id)
    panel.table.selectRow(row)
    return panel.report.checks[row]


def test_runs_the_checks_and_selects_the_worst(qtbot):
    def factory():
        p = healthy_windows()
        del p.path_cmds["ninja"]
        return p

    panel = make_panel(qtbot, factory)
    assert panel.table.rowCount() == len(panel.report.checks) == 20
    assert panel.selected().id == "ninja"  # the first failure is shown
    assert "Ninja is required" in panel.details.toPlainText()
    assert panel.fix_button.isEnabled() and panel.copy_command.isEnabled()
    assert "failed 1 · skipped 1" in panel.status.text()


def test_capture_msvc_fix_from_the_panel(qtbot):
    raw = BEFORE + MARKER + "\r\n" + AFTER

    def factory():
        p = healthy_windows()
        p.commands["cmd.exe /u /s /c"] = RunResult(0, raw)
        return p

    panel = make_panel(qtbot, factory)
    c = select(panel, "msvc")
    assert c.status == "warn" and panel.fix_button.isEnabled()
    panel.fix_button.click()
    qtbot.waitUntil(lambda: load_msvc_env(user_dirs().config) is not None, timeout=5000)
    qtbot.waitUntil(lambda: panel.report.by_id("msvc").status == "ok" and panel.worker is None, timeout=10000)


def test_copy_command_and_report(qtbot):
    panel = make_panel(qtbot, lambda: healthy_windows(registry={}))
    select(panel, "long_paths")
    panel.copy_command.click()
    assert "LongPathsEnabled" in QGuiApplication.clipboard().text()
    panel.copy_report.click()
    assert QGuiApplication.clipboard().text().startswith("# QuantDesk environment report")


def test_a_slow_probe_does_not_freeze_the_window(qtbot):
    class SlowProbe(type(healthy_windows())):
        def packages(self, timeout=60.0):
            if not getattr(self, "probed", False):  # the real probe's child process runs once
                time.sleep(0.8)
                self.probed = True
            return super().packages(timeout)

    def factory():
        p = healthy_windows()
        p.__class__ = SlowProbe
        return p

    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    panel = make_panel(qtbot, factory)
    timer.stop()
    assert len(ticks) >= 20  # the event loop kept running while the checks waited on the probe
    assert panel.report.by_id("torch").status == "ok"


def test_write_launcher(qtbot, tmp_path):
    panel = make_panel(qtbot, healthy_windows)
    cmd, ps1 = panel.write_launcher(tmp_path / "启动", "quantdesk gui")
    assert cmd.exists() and ps1.exists()
    assert "quantdesk gui %*" in cmd.read_text(encoding="utf-8")


def test_greyed_out_fix_buttons_say_why(qtbot, make_context):
    from services.envcheck.model import CheckResult, Fix, Report

    panel = EnvironmentPanel(make_context(), probe_factory=lambda: None)
    qtbot.addWidget(panel)
    report = Report([CheckResult("a", "A", "ok", "fine"),
                     CheckResult("b", "B", "warn", "by hand", fix=Fix("info", "install the driver"))], {})
    panel._done(report)
    panel.table.selectRow(0)
    assert not panel.fix_button.isEnabled() and panel.fix_button.toolTip() == "Nothing to fix here"
    panel.table.selectRow(1)
    assert not panel.fix_button.isEnabled() and "cannot do this fix itself" in panel.fix_button.toolTip()
    assert panel.copy_command.toolTip() == "This fix has no command"


def test_every_check_is_visible_at_1200x800_and_tab_leaves_the_table(qtbot):
    from PySide6.QtCore import Qt

    panel = make_panel(qtbot, healthy_windows)
    panel.resize(1020, 755)  # what a 1200x800 window leaves beside the sidebar, under the menu bar
    qtbot.wait(50)
    t = panel.table
    last = t.visualRect(t.model().index(t.rowCount() - 1, 0))
    assert t.rowCount() == 20 and last.bottom() <= t.viewport().height()  # no scrolling to see the last
    assert not t.tabKeyNavigation()
    t.setFocus()
    qtbot.keyClick(t, Qt.Key.Key_Tab)
    assert not t.hasFocus()


def test_quitting_during_the_checks_kills_the_probe_child_and_does_not_wait_for_it(qtbot):
    """Issue 17: quitting while the checks ran blocked until the package probe's child ended (1.7 s, up to
    its 60 s timeout). A cancel now kills the child: the worker stops at once and no process is left."""
    import sys

    import psutil

    from services.envcheck.probe import Probe

    class ProbeWithARealChild(type(healthy_windows())):
        def packages(self, timeout=60.0):
            self.child_result = Probe.run(self, [sys.executable, "-c", "import time; time.sleep(60)"], timeout=60)
            return super().packages(timeout)

    def factory():
        p = healthy_windows()
        p.__class__ = ProbeWithARealChild
        return p

    panel = EnvironmentPanel(AppContext(), probe_factory=factory)
    qtbot.addWidget(panel)
    me = psutil.Process()
    qtbot.waitUntil(lambda: any("time.sleep(60)" in " ".join(c.cmdline()) for c in me.children()), timeout=20000)
    child = next(c for c in me.children() if "time.sleep(60)" in " ".join(c.cmdline()))
    started = time.monotonic()
    panel.shutdown()  # what closing the window does, then workers().shutdown()
    from app.workers import workers

    assert workers().shutdown(timeout_ms=5000)
    assert time.monotonic() - started < 5  # not the child's 60 s
    # the check's own thread sees the cancel within 0.1 s and kills its child: nothing is left behind
    qtbot.waitUntil(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, timeout=3000)
    assert panel.report is None  # cancelled: no half report is shown as the result


def test_greyed_out_fix_buttons_say_why_in_a_line_beside_them(qtbot, make_context):
    """A keyboard user cannot hover a disabled button: the reason is visible text beside Fix and Copy command."""
    from services.envcheck.model import CheckResult, Fix, Report

    panel = EnvironmentPanel(make_context(), probe_factory=lambda: None)
    qtbot.addWidget(panel)
    panel.show()
    panel._done(Report([CheckResult("a", "A", "ok", "fine"),
                        CheckResult("b", "B", "warn", "by hand", fix=Fix("info", "install the driver")),
                        CheckResult("c", "C", "warn", "by hand", fix=Fix("info", "set it", command="reg add X")),
                        CheckResult("d", "D", "fail", "fixable", fix=Fix("action", "capture", command="vcvars"))], {}))
    reason = panel.fix_reason
    panel.table.selectRow(0)
    assert reason.isVisible() and "Nothing to fix here" in reason.text()
    panel.table.selectRow(1)
    assert not panel.fix_button.isEnabled() and not panel.copy_command.isEnabled()
    assert reason.isVisible() and "cannot do this fix itself and it has no command" in reason.text()
    panel.table.selectRow(2)
    assert not panel.fix_button.isEnabled() and panel.copy_command.isEnabled()
    assert "cannot do this fix itself" in reason.text() and "Copy command copies the command" in reason.text()
    panel.table.selectRow(3)
    assert panel.fix_button.isEnabled() and panel.copy_command.isEnabled() and not reason.isVisible()
