"""Light and dark themes: one set of colour roles, the Fusion style, a palette and the stylesheet
(resources/style.qss with $role placeholders). "system" follows the desktop's colour scheme, also when
it changes while QuantDesk runs. Widgets take their colours from `colour(role)`, never from hex literals."""
from __future__ import annotations

import logging
from pathlib import Path
from string import Template

from PySide6.QtCore import QDir, QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

log = logging.getLogger("quantdesk.theme")

THEMES = ("system", "light", "dark")

LIGHT = {
    "window": "#ffffff", "surface": "#f9fafb", "card": "#ffffff", "sidebar": "#f3f4f6", "border": "#d1d5db",
    "text": "#111827", "muted": "#6b7280", "accent": "#2563eb", "on_accent": "#ffffff", "focus": "#1d4ed8",
    "ok": "#047857", "warn": "#a15c00", "error": "#c62828", "error_bg": "#fecaca", "track": "#e5e7eb",
    "input": "#ffffff", "hover": "#e5e7eb", "chart_bg": "#ffffff", "chart_fg": "#374151", "grid": "#d1d5db",
}
DARK = {
    "window": "#1e2126", "surface": "#23272e", "card": "#282c34", "sidebar": "#181a1f", "border": "#3e4451",
    "text": "#e6e8eb", "muted": "#9aa3ae", "accent": "#2f6fdf", "on_accent": "#ffffff", "focus": "#9cc3ff",
    "ok": "#4ec9a0", "warn": "#e0a84a", "error": "#ff7b72", "error_bg": "#5c2424", "track": "#3a3f47",
    "input": "#1b1e23", "hover": "#2f343d", "chart_bg": "#1e2126", "chart_fg": "#c8ccd2", "grid": "#3e4451",
}
COLOURS = {"light": LIGHT, "dark": DARK}

_active = "light"
_choice = "system"


class _Notifier(QObject):
    changed = Signal(str)  # the theme's name, after it changed (a receiver that is gone is disconnected by Qt)


_notifier: _Notifier | None = None


def notifier() -> _Notifier:
    global _notifier
    if _notifier is None:
        _notifier = _Notifier()
    return _notifier


def active() -> str:
    """"light" or "dark": what the window shows now."""
    return _active


def choice() -> str:
    """The setting shown: "system", "light" or "dark"."""
    return _choice


def colour(role: str) -> str:
    """The active theme's colour for `role` (e.g. "error", "ok", "muted")."""
    return COLOURS[_active][role]


def status_colour(level: str) -> str:
    """The colour of a status word: ok/fine/pass/succeeded, warn/caution/cancelled, fail/bad/failed, or muted."""
    if level in ("ok", "fine", "pass", "succeeded", "done"):
        return colour("ok")
    if level in ("warn", "caution", "cancelled", "interrupted", "attention"):
        return colour("warn")
    if level in ("fail", "bad", "failed", "error"):
        return colour("error")
    if level in ("running",):
        return colour("accent")
    return colour("muted")


def system_scheme() -> str:
    """The desktop's colour scheme: "dark", or "light" (also when it says nothing, as offscreen)."""
    hints = QGuiApplication.styleHints()
    return "dark" if hints.colorScheme() == Qt.ColorScheme.Dark else "light"


def resolve(choice: str, scheme: str | None = None) -> str:
    """The theme to show for the setting `choice` ("system", "light" or "dark")."""
    if choice in ("light", "dark"):
        return choice
    return scheme or system_scheme()


def _icons_dir() -> Path:
    import resources

    return Path(resources.ROOT) / "icons"


def stylesheet(name: str) -> str:
    import resources

    QDir.addSearchPath("icons", str(_icons_dir()))  # url(icons:x.svg): no path to quote (spaces, Chinese)
    text = (Path(resources.ROOT) / "style.qss").read_text(encoding="utf-8")
    return Template(text).substitute(COLOURS[name])


def icon(name: str, size: int = 20) -> QIcon:
    """resources/icons/`name`.svg drawn in the theme's text colour, and in the accent's text colour when
    selected (the sidebar's current panel)."""
    svg = (_icons_dir() / f"{name}.svg").read_text(encoding="utf-8")
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgRenderer

    out = QIcon()
    for mode, role in ((QIcon.Mode.Normal, "text"), (QIcon.Mode.Selected, "on_accent"), (QIcon.Mode.Active, "text"),
                       (QIcon.Mode.Disabled, "muted")):
        renderer = QSvgRenderer(svg.replace("#000000", colour(role)).encode())
        for scale in (1, 2):  # crisp at 100% and 200% display scaling
            pix = QPixmap(QSize(size, size) * scale)
            pix.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pix)
            renderer.render(painter)
            painter.end()
            out.addPixmap(pix, mode)
    return out


def palette(name: str) -> QPalette:
    c = {k: QColor(v) for k, v in COLOURS[name].items()}
    p = QPalette()
    R = QPalette.ColorRole
    for role, key in ((R.Window, "window"), (R.WindowText, "text"), (R.Base, "input"), (R.AlternateBase, "surface"),
                      (R.Text, "text"), (R.Button, "surface"), (R.ButtonText, "text"), (R.Highlight, "accent"),
                      (R.HighlightedText, "on_accent"), (R.ToolTipBase, "card"), (R.ToolTipText, "text"),
                      (R.PlaceholderText, "muted"), (R.Link, "accent"), (R.Mid, "border"), (R.Dark, "border"),
                      (R.Light, "card"), (R.Midlight, "hover")):
        p.setColor(role, c[key])
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, c["muted"])
    return p


def apply(app: QApplication, choice: str = "system") -> str:
    """Show `choice` on `app` (and follow the system when it is "system"); return the theme shown."""
    global _choice
    _choice = choice if choice in THEMES else "system"
    if not getattr(app, "_quantdesk_follows_scheme", False):
        QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _scheme: _follow(app))
        app._quantdesk_follows_scheme = True  # type: ignore[attr-defined]
    return _show(app, resolve(_choice))


def _follow(app: QApplication) -> None:
    if _choice == "system":
        _show(app, resolve("system"))


def _show(app: QApplication, name: str) -> str:
    global _active
    _active = name
    app.setStyle("Fusion")  # the same look on every system, and a palette it honours (dark included)
    app.setPalette(palette(name))
    app.setStyleSheet(stylesheet(name))
    _charts(name)
    notifier().changed.emit(name)
    log.info("theme: %s", name)
    return name


def _charts(name: str) -> None:
    """pyqtgraph's defaults, for charts built from now on (only when the charts module is loaded)."""
    import sys

    if "pyqtgraph" in sys.modules:
        sys.modules["pyqtgraph"].setConfigOptions(background=COLOURS[name]["chart_bg"],
                                                  foreground=COLOURS[name]["chart_fg"])


def retheme_charts(root) -> None:
    """Charts already built under `root` take the active theme's background and axis colours."""
    import sys

    if "pyqtgraph" not in sys.modules:
        return
    pg = sys.modules["pyqtgraph"]
    fg = colour("chart_fg")
    for chart in root.findChildren(pg.PlotWidget):
        chart.setBackground(colour("chart_bg"))
        for name in ("left", "bottom"):
            axis = chart.getAxis(name)
            axis.setPen(fg)
            axis.setTextPen(fg)
