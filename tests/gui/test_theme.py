"""Issue 17's look: a dark theme that follows the system, sidebar icons, visible focus rings, an idle progress bar
that is a thin track (not an empty text field). Each test puts the application's look back as it was."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget

from services.settings import Settings
from widgets import theme


@pytest.fixture
def app_look(qapp):
    chosen = theme.choice()
    yield qapp
    theme.apply(qapp, chosen)


def test_dark_is_dark_and_system_follows_the_desktop_while_running(app_look, monkeypatch):
    assert theme.apply(app_look, "dark") == "dark"
    assert app_look.palette().color(QPalette.ColorRole.Window).lightness() < 60
    assert theme.colour("error") == theme.DARK["error"]  # status colours readable on dark
    scheme = ["light"]
    with monkeypatch.context() as m:  # undone before the look is put back
        m.setattr(theme, "system_scheme", lambda: scheme[0])
        assert theme.apply(app_look, "system") == "light"
        scheme[0] = "dark"
        QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # the desktop switched
        assert theme.active() == "dark" and app_look.palette().color(QPalette.ColorRole.Window).lightness() < 60
        theme.apply(app_look, "light")
        QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        assert theme.active() == "light"  # an explicit choice is kept


def test_the_sidebar_has_an_icon_per_panel_redrawn_with_the_theme(qtbot, app_look, make_context):
    from app.mainwindow import MainWindow

    w = MainWindow(make_context(settings=Settings(last_panel="jobs")))
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    icons = [w.nav.item(i).icon() for i in range(w.nav.count())]
    assert all(not i.isNull() for i in icons)
    light = icons[0].pixmap(20, 20).toImage()
    theme.apply(app_look, "dark")
    dark = w.nav.item(0).icon().pixmap(20, 20).toImage()
    assert light != dark  # drawn again in the dark theme's text colour


def _ring(widget: QWidget) -> QColor:
    """The colour of the widget's left edge, half way down, as drawn."""
    image = widget.grab().toImage()
    return image.pixelColor(1, image.height() // 2)


def test_the_focused_field_and_button_wear_a_visible_ring(qtbot, app_look):
    theme.apply(app_look, "light")
    box = QDialog()
    qtbot.addWidget(box)
    layout = QVBoxLayout(box)
    edit, other, button = QLineEdit(), QLineEdit(), QPushButton("Start")
    button.setAutoDefault(False)
    for w in (edit, other, button):
        layout.addWidget(w)
    box.show()
    qtbot.waitExposed(box)
    box.activateWindow()
    qtbot.waitUntil(box.isActiveWindow, timeout=2000)
    focus = QColor(theme.LIGHT["focus"])
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus, timeout=2000)
    assert _ring(edit) == focus and _ring(other) != focus
    button.setFocus()
    qtbot.waitUntil(button.hasFocus, timeout=2000)
    assert _ring(button) == focus and _ring(edit) != focus


def test_an_idle_progress_bar_is_a_thin_track_not_an_empty_field(qtbot, app_look):
    theme.apply(app_look, "light")
    bar = QProgressBar()
    qtbot.addWidget(bar)
    bar.resize(300, 30)
    bar.show()
    qtbot.waitExposed(bar)
    assert bar.height() <= 8  # a track, not a 24 px box
    image = bar.grab().toImage()
    assert image.pixelColor(150, image.height() // 2) == QColor(theme.LIGHT["track"])


def test_settings_apply_a_new_theme_at_once(qtbot, app_look, make_context, monkeypatch):
    from app.mainwindow import MainWindow
    from widgets.settings_dialog import SettingsDialog

    w = MainWindow(make_context(settings=Settings(last_panel="jobs")))
    qtbot.addWidget(w, before_close_func=lambda widget: widget.close())
    monkeypatch.setattr(SettingsDialog, "exec", lambda self: (self.theme.setCurrentIndex(
        self.theme.findData("dark")), QDialog.DialogCode.Accepted)[-1])
    w.open_settings()
    assert theme.active() == "dark" and w.context.settings.current.theme == "dark"
    assert isinstance(QApplication.instance(), QApplication)
