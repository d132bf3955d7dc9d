"""Every action is reachable with the keyboard (issue 17): each panel's buttons, fields and tabs are in the Tab
chain from the navigation list, and Tab moves in the order they are on screen."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QPushButton,
    QTabBar,
    QWidget,
)

from app.mainwindow import MainWindow
from services.settings import Settings
from tests.fakes.probe import healthy_windows
from widgets.registry import PANEL_IDS

FOCUSABLE = (QPushButton, QLineEdit, QComboBox, QAbstractSpinBox, QCheckBox, QTabBar)


@pytest.fixture
def window(qtbot, make_context, monkeypatch):
    """The main window; the Environment panel checks a fake healthy machine, not this one."""
    import widgets.environment

    monkeypatch.setattr(widgets.environment, "_real_probe", healthy_windows)
    w = MainWindow(make_context(settings=Settings(last_panel="jobs")))
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


def focus_chain(start: QWidget) -> list[QWidget]:
    """The widgets Tab visits from `start` on, once round (with Tab focus only)."""
    chain, w = [], start.nextInFocusChain()
    while w is not start and len(chain) < 5000:
        chain.append(w)
        w = w.nextInFocusChain()
    return chain


def part_of_another(w: QWidget) -> bool:
    """The line edit inside a combo or spin box: the box itself is what Tab reaches."""
    parent = w.parentWidget()
    return isinstance(w, QLineEdit) and isinstance(parent, QComboBox | QAbstractSpinBox)


def tab_reaches(w: QWidget) -> bool:
    return bool(w.focusPolicy().value & Qt.FocusPolicy.TabFocus.value)


@pytest.mark.parametrize("panel_id", PANEL_IDS)
def test_every_control_of_each_panel_is_in_the_tab_chain(qtbot, window, panel_id):
    panel = window.show_panel(panel_id)
    qtbot.wait(20)
    chain = set(focus_chain(window.nav))
    controls = [w for w in panel.findChildren(QWidget) if isinstance(w, FOCUSABLE) and w.isVisible()
                and w.isEnabled() and not part_of_another(w)]
    assert controls, panel_id
    missing = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')() or w.objectName()}" for w in controls
               if w not in chain or not tab_reaches(w)]
    assert missing == [], f"{panel_id}: not reachable with Tab: {missing}"


def test_tab_in_quantize_moves_in_the_order_on_screen(qtbot, window):
    """Issue 17: the backend's fields (built after Start) came last in the Tab order, after Start and Compare."""
    q = window.show_panel("quantize")
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    q.samples.setFocus()
    qtbot.waitUntil(lambda: q.samples.hasFocus(), timeout=2000)
    seen = []
    for _ in range(6):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        seen.append(focused.parentWidget() if part_of_another(focused) else focused)
    bits = q.backend_form.fields["bits"]
    assert seen == [q.seqlen, q.calib_mode, q.seed, q.method, q.backend, bits]
    chain = focus_chain(window.nav)
    fields = [chain.index(w) for w in q.backend_form.fields.values()]
    assert max(fields) < chain.index(q.device) < chain.index(q.start_button) < chain.index(q.compare_button)
    for b in (q.evaluate_button, q.plan_button, q.export_button):
        assert chain.index(q.compare_button) < chain.index(b)


def test_quantize_fix_buttons_come_before_start(qtbot, window):
    from services.quant.preflight import PreflightReport

    q = window.show_panel("quantize")
    q._live.stop()
    q._show_checks(PreflightReport(errors=["group size 128 does not divide hidden_size (q/k/v/gate/up inputs) = 576; "
                                           "use --group-size 64"],
                                   info={"fixes": [{"setting": "group_size", "value": 64, "cli": "use --group-size 64"}],
                                         "calib_fallbacks": ["wikitext2"]}))
    fixes = [q.fixes.itemAt(i).widget() for i in range(q.fixes.count())]
    assert [b.text() for b in fixes] == ["Use a local file…", "Use wikitext2 (in the cache)", "Use group size 64"]
    chain = focus_chain(window.nav)
    positions = [chain.index(b) for b in fixes]
    assert positions == sorted(positions)
    assert chain.index(q.force) < positions[0] and positions[-1] < chain.index(q.start_button)


def test_the_target_settings_come_before_the_result_row(qtbot, window):
    """Issue 17: a target's settings (built when it is picked) came after the Result row's Copy button."""
    t = window.show_panel("targets")
    for name in ("vllm", "gguf"):
        t.select_target(name)
        chain = focus_chain(window.nav)
        fields = [chain.index(w) for w in t.schema_form.fields.values()]
        assert fields and fields == sorted(fields)
        assert chain.index(t.overwrite) < min(fields) and max(fields) < chain.index(t.build_button) \
            < chain.index(t.copy_button)


def test_a_fix_used_from_the_keyboard_keeps_the_focus_in_the_panel(qtbot, make_context, calib_file, tmp_path):
    """Hostile QA (keyboard): Space on "Use group size 64" rebuilt the fix buttons and the focus fell to the
    sidebar. It now goes on to what comes next (Start, once the settings are right)."""
    from PySide6.QtWidgets import QApplication

    from app.mainwindow import MainWindow
    from services.settings import Settings
    from tests.modelcfg import LLAMA2_7B, write_config, write_safetensors

    w = MainWindow(make_context(settings=Settings(last_panel="quantize")))
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    p = w.panels["quantize"]
    p.calib.setCurrentText(str(calib_file))
    folder = write_config(tmp_path / "smol", {**LLAMA2_7B, "hidden_size": 576, "num_attention_heads": 9,
                                              "intermediate_size": 1536})
    write_safetensors(folder / "model.safetensors", 64)
    p.out_dir.setText(str(tmp_path / "out"))
    p.set_model(str(folder))
    qtbot.waitUntil(lambda: p.fixes.count() > 0, timeout=5000)
    fix = p.fixes.itemAt(0).widget()
    fix.setFocus()
    qtbot.keyClick(fix, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: p.report is not None and p.report.ok, timeout=5000)
    focused = QApplication.focusWidget()
    assert focused is not None and p.isAncestorOf(focused), focused
    assert focused is p.start_button


def test_enter_presses_the_focused_button(qtbot, make_context):
    from PySide6.QtWidgets import QApplication

    from app.mainwindow import MainWindow
    from services.settings import Settings

    w = MainWindow(make_context(settings=Settings(last_panel="overview")))
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    qtbot.waitUntil(lambda: w.enter_clicks in _filters(w), timeout=3000)  # installed after the first paint
    button = w.panels["overview"].cards["model"].action
    pressed = []
    button.setVisible(True)
    button.clicked.disconnect()
    button.clicked.connect(lambda: pressed.append(1))
    button.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is button, timeout=2000)
    qtbot.keyClick(button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: pressed == [1], timeout=2000)


def _filters(w):
    """The application's event filters we installed (Qt has no getter: the window records it)."""
    return [w.enter_clicks] if w.enter_clicks_installed else []
