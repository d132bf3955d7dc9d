"""The main window: navigation sidebar, panel stack, status bar and the live log dock, collapsed by default
to the status bar's last line (a click or Ctrl+J opens it, as VS Code's panel); Ctrl+1..7 switch panels."""
from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QWidget,
)

from app.context import AppContext
from app.logbridge import LogBridge
from app.workers import workers
from services import __version__
from widgets import theme
from widgets.i18n import translate
from widgets.log_view import LogView
from widgets.panel import BrokenPanel, Panel
from widgets.registry import PANELS

log = logging.getLogger("quantdesk.window")
ENTER_CLICKS_DELAY_MS = 300


class EnterClicks(QObject):
    """Enter on a focused button presses it, as Space does (Windows users expect it; Qt's widgets take Space only)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.KeyPress and isinstance(obj, QPushButton) and obj.isEnabled()
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)  # type: ignore[attr-defined]
                and not event.modifiers()):  # type: ignore[attr-defined]
            obj.animateClick()
            return True
        return False


class MainWindow(QMainWindow):
    """The window shell: it builds each panel over `context` (jobs, sampler, settings) on first show."""

    def __init__(self, context: AppContext, panel: str | None = None):
        super().__init__()
        self.context = context
        context.navigator = self.navigate
        self.setObjectName("mainWindow")
        self.setWindowTitle(f"QuantDesk {__version__}")
        self.panels: dict[str, Panel] = {}  # built on first show
        self.relaunch: Callable[[], None] | None = None  # set by app/gui.py: start a new QuantDesk
        self.panel_ids = [p.id for p in PANELS]

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(180)
        self.nav.setIconSize(QSize(20, 20))
        self.stack = QStackedWidget()
        for info in PANELS:
            self.stack.addWidget(QWidget())  # replaced by the panel when first shown
            self.nav.addItem(QListWidgetItem(info.title))
        self._draw_icons()
        theme.notifier().changed.connect(self._retheme)  # a dark desktop: the icons follow
        self.nav.currentRowChanged.connect(self._on_nav)

        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.enter_clicks = EnterClicks(self)
        self.enter_clicks_installed = False
        # installed after the first paint: a Python filter sees every event, and its first one costs ~50 ms
        # (PySide builds QEvent.Type's enum then)
        QTimer.singleShot(ENTER_CLICKS_DELAY_MS, self, self._install_enter_clicks)
        self._build_log_dock()
        self._build_menus()
        self._build_status_bar()
        self._restore(panel)

    # -- construction
    def _install_enter_clicks(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.enter_clicks)
            self.enter_clicks_installed = True

    def _draw_icons(self, _theme: str = "") -> None:
        for row, info in enumerate(PANELS):
            self.nav.item(row).setIcon(theme.icon(info.id))

    def _retheme(self, _theme: str) -> None:
        """A new theme: icons, charts and every built panel's own colours follow at once."""
        self._draw_icons()
        theme.retheme_charts(self)
        for panel in self.panels.values():
            panel.retheme()

    def _build_log_dock(self) -> None:
        self.log_view = LogView()
        self.log_bridge = LogBridge(self)
        for line in self.log_bridge.recent():
            self.log_view.append_line(line)
        self.log_bridge.line.connect(self.log_view.append_line)
        self.log_dock = QDockWidget(translate("MainWindow", "Log"), self)
        self.log_dock.setObjectName("logDock")
        self.log_dock.setWidget(self.log_view)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.log_dock.hide()  # the panels get the room; the status bar shows the last line

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(translate("MainWindow", "&File"))
        settings = QAction(translate("MainWindow", "&Settings…"), self)
        settings.setShortcut("Ctrl+,")
        settings.triggered.connect(self.open_settings)
        file_menu.addAction(settings)
        file_menu.addSeparator()
        quit_action = QAction(translate("MainWindow", "&Quit"), self)
        quit_action.setShortcut("Ctrl+Q")
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        view_menu = self.menuBar().addMenu(translate("MainWindow", "&View"))
        toggle_log = self.log_dock.toggleViewAction()
        toggle_log.setShortcut("Ctrl+J")
        view_menu.addAction(toggle_log)
        self.addAction(toggle_log)  # the shortcut works wherever the focus is
        view_menu.addSeparator()
        for i, info in enumerate(PANELS, 1):
            go = QAction(info.title, self)
            go.setShortcut(QKeySequence(f"Ctrl+{i}"))
            go.triggered.connect(lambda _=False, pid=info.id: self.show_panel(pid))
            view_menu.addAction(go)
            self.addAction(go)
        help_menu = self.menuBar().addMenu(translate("MainWindow", "&Help"))
        export_logs = QAction(translate("MainWindow", "Export &logs…"), self)
        export_logs.triggered.connect(self.export_logs)
        help_menu.addAction(export_logs)
        about = QAction(translate("MainWindow", "&About QuantDesk"), self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _build_status_bar(self) -> None:
        self.status_message = QLabel(translate("MainWindow", "Ready"))
        self.status_workers = QLabel("")
        self.log_line = QPushButton(translate("MainWindow", "Log"))
        self.log_line.setObjectName("logLine")
        self.log_line.setFlat(True)
        self.log_line.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Ctrl+J; Tab goes from the sidebar to the panel
        self.log_line.setToolTip(translate("MainWindow", "Show or hide the log (Ctrl+J)"))
        self.log_line.setStyleSheet("text-align:left; padding:0 6px")
        # a long line is cut, never widens the window
        self.log_line.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.log_line.clicked.connect(lambda: self.log_dock.setVisible(not self.log_dock.isVisible()))
        self.statusBar().addWidget(self.log_line, 3)
        recent = self.log_bridge.recent()
        if recent:
            self._last_log_line(recent[-1], logging.INFO)
        self.log_bridge.line.connect(self._last_log_line)
        self.statusBar().addWidget(self.status_message, 1)
        self.statusBar().addPermanentWidget(self.status_workers)
        workers().countChanged.connect(self._on_worker_count)

    def _restore(self, panel: str | None = None) -> None:
        """Geometry and docks as saved; the panel asked for (else the last one), built alone."""
        s = self.context.settings.current
        if s.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(s.window_geometry.encode()))
        else:
            self.resize(1200, 800)
        if s.window_state:
            self.restoreState(QByteArray.fromBase64(s.window_state.encode()))
        self.show_panel(panel or s.last_panel)

    # -- behaviour
    def show_panel(self, panel_id: str) -> Panel:
        """Make `panel_id` the visible panel (the first one when the id is unknown)."""
        row = self.panel_ids.index(panel_id) if panel_id in self.panel_ids else 0
        self.nav.setCurrentRow(row)
        return self.panel(self.panel_ids[row])

    def navigate(self, panel_id: str, **kwargs) -> Panel:
        """Show `panel_id` and hand it `kwargs` (a panel's "Export…" opens the Targets panel on its output)."""
        panel = self.show_panel(panel_id)
        panel.open_with(**kwargs)
        return panel

    def panel(self, panel_id: str) -> Panel:
        """The panel `panel_id`, built (and its module imported) on first use."""
        if panel_id not in self.panels:
            row = self.panel_ids.index(panel_id)
            try:
                panel = PANELS[row].build(self.context)
            except Exception as exc:  # one broken panel must not take the window down
                log.exception("the %s panel failed to open", panel_id)
                panel = BrokenPanel(self.context, panel_id, f"{type(exc).__name__}: {exc}")
            old = self.stack.widget(row)
            self.stack.insertWidget(row, panel)
            self.stack.removeWidget(old)
            old.deleteLater()
            self.panels[panel_id] = panel
        return self.panels[panel_id]

    def current_panel_id(self) -> str:
        return self.panel_ids[self.stack.currentIndex()]

    def _on_nav(self, row: int) -> None:
        if row < 0:
            return
        panel = self.panel(self.panel_ids[row])
        self.stack.setCurrentIndex(row)
        panel.shown()

    def _on_worker_count(self, n: int) -> None:
        self.status_workers.setText(translate("MainWindow", "%n task(s) running", "", n) if n else "")

    def _last_log_line(self, line: str, level: int) -> None:
        first = line.splitlines()[0] if line else ""
        text = first if len(first) <= 140 else first[:139] + "…"
        self.log_line.setText("▸ " + text)
        self.log_line.setStyleSheet("text-align:left; padding:0 6px"
                                    + (f"; color:{theme.colour('error')}" if level >= logging.ERROR else
                                       f"; color:{theme.colour('warn')}" if level >= logging.WARNING else ""))

    def set_status(self, text: str) -> None:
        self.status_message.setText(text)

    def open_settings(self) -> None:
        from widgets.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.context.settings.current, self)
        if dialog.exec():
            self.context.settings.update(dialog.apply_to)
            log.info("settings saved")
            app = QApplication.instance()
            if isinstance(app, QApplication) and theme.choice() != self.context.settings.current.theme:
                theme.apply(app, self.context.settings.current.theme)
            if dialog.restart_requested:
                self.restart()

    def restart(self) -> bool:
        """Close (asking about running jobs, as quitting does) and start QuantDesk again (Settings' new language)."""
        if self.relaunch is None:
            log.warning("this window cannot restart QuantDesk by itself: start it again")
            return False
        if not self.close():
            return False
        self.relaunch()
        return True

    def bring_to_front(self) -> None:
        """Show the window on top (a second launch asked for it)."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def export_logs(self):
        """Help → Export logs…: the support bundle's preview and zip."""
        from widgets.support_dialog import SupportDialog

        dialog = SupportDialog(self)
        dialog.open()
        return dialog

    def _about(self) -> None:
        QMessageBox.about(self, translate("MainWindow", "About QuantDesk"), translate("MainWindow",
            "QuantDesk %1\nFrom a Hugging Face model to a quantized model you can trust.").replace("%1", __version__))

    def save_state(self) -> None:
        """Save geometry, dock layout and the visible panel (only these fields: the rest stay)."""
        geometry = bytes(self.saveGeometry().toBase64()).decode()
        state = bytes(self.saveState().toBase64()).decode()
        panel_id = self.current_panel_id()

        def store(s) -> None:
            s.window_geometry, s.window_state, s.last_panel = geometry, state, panel_id

        self.context.settings.update(store)

    def closeEvent(self, event: QCloseEvent) -> None:
        service = self.context.current_jobs()
        active = service.active() if service else []
        remote = [j for j in active if _on_cluster(service, j)]
        local = [j for j in active if j not in remote]
        if local:
            text = translate("MainWindow", "%1 job(s) are still running or queued. Quit and cancel them?") \
                .replace("%1", str(len(local)))
            if remote:
                text += "\n" + translate("MainWindow", "Jobs on a cluster keep running there; QuantDesk follows them "
                                                      "again when it starts.")
            answer = QMessageBox.question(self, translate("MainWindow", "Jobs are running"), text)
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.save_state()
        for panel in self.panels.values():
            panel.shutdown()
        self.context.navigator = None
        self.context.shutdown()
        workers().shutdown()
        self.log_bridge.detach()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.enter_clicks)
        super().closeEvent(event)


def _on_cluster(service, job_id: str) -> bool:
    try:
        return service.store.get(job_id).spec.remote
    except KeyError:
        return False
