"""Start the workbench window (or render one panel offscreen to a PNG and exit)."""
from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("quantdesk.gui")
SETTLE_MIN_S = 0.4  # a screenshot waits at least this long (panel timers such as the Overview's first load)


def settle(app, timeout_s: float = 30.0) -> None:
    """Let the panel's background work finish (up to `timeout_s`) so a screenshot shows its result."""
    import time

    from app.workers import workers

    start = time.monotonic()
    deadline = start + timeout_s
    app.processEvents()
    # panels start some work on a short timer after the first paint (the Overview's job store): let it fire
    while (workers().running() or time.monotonic() - start < SETTLE_MIN_S) and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    app.processEvents()


def relaunch(instance) -> int:
    """Start a new QuantDesk once this one lets go of the single-instance lock (Settings' restart)."""
    from services.runtime import process
    from services.runtime.runtime import current_runtime

    instance.release()
    rt = current_runtime()
    pid = process.start_detached(rt.module_command("app"), env=rt.environment())
    log.info("restarting: QuantDesk starts again as pid %d", pid)
    return pid


def run_gui(panel: str | None = None, screenshot: Path | None = None, language: str | None = None,
            size: tuple[int, int] = (1200, 800)) -> int:
    """Run the application; return the process exit code."""
    if screenshot and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app import qtlog
    from app.context import AppContext
    from app.crash import CrashHandler
    from app.i18n import install_translation
    from app.mainwindow import MainWindow
    from app.settingsstore import SettingsStore
    from app.workers import workers
    from services import __version__
    from services.applog import setup_logging
    from services.paths import user_dirs
    from widgets import theme
    from widgets.crash_dialog import CrashDialog
    from widgets.i18n import translate

    dirs = user_dirs()
    setup_logging(dirs.logs)
    qtlog.install()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    probe = bool(os.environ.get("QUANTDESK_STARTUP_PROBE"))
    instance = None
    if not screenshot and not probe:  # renders and start-up probes never wait for, or block, a window
        from app.singleinstance import SingleInstance

        instance = SingleInstance(dirs.data)
        if not instance.claim():
            log.info("QuantDesk is already running; its window was asked to come to the front")
            return 0
        app.aboutToQuit.connect(instance.release)
    settings = SettingsStore()
    context = AppContext(settings)
    app.aboutToQuit.connect(context.shutdown)
    app.setApplicationName("QuantDesk")
    app.setApplicationVersion(__version__)
    theme.apply(app, settings.current.theme)
    install_translation(app, language or settings.current.language)

    dialogs: list[CrashDialog] = []

    def show_crash(title: str, details: str, recent: str) -> None:
        d = CrashDialog(title, details, recent, parent=app.activeWindow())
        dialogs.append(d)
        d.show()

    crash = CrashHandler(dirs.logs, show=None if screenshot else show_crash)
    crash.install()
    log.info("QuantDesk %s starting", __version__)

    window = MainWindow(context, panel)  # only that panel is built (and waited for by a screenshot)
    if instance is not None:
        instance.raiseRequested.connect(window.bring_to_front)
        window.relaunch = lambda: relaunch(instance)
    if screenshot:
        window.resize(*size)
    window.show()

    if probe:
        # benchmarks/startup.py: report the first shown window (and any ML import), then quit
        def report() -> None:
            ml = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "datasets", "awq"))
            # NVML and network clients: none of them before the first paint
            slow = sorted(m for m in sys.modules if m.split(".")[0] in ("pynvml", "ray", "requests", "huggingface_hub",
                                                                          "urllib3"))
            print(json.dumps({"shown": True, "ml_modules": ml, "slow_modules": slow,
                              "workers": [w.name for w in workers().running()]}), flush=True)
            app.quit()

        QTimer.singleShot(0, report)
        code = app.exec()
        context.shutdown()
        crash.uninstall()
        return code

    if screenshot:
        settle(app)
        ok = window.grab().save(str(screenshot))  # no close(): the user's saved geometry stays
        context.shutdown()
        workers().shutdown()
        crash.uninstall()
        if not ok:
            print(f"error: could not write {screenshot}", file=sys.stderr)
            return 1
        return 0

    if crash.previous_crash:
        text = crash.previous_crash.read_text(encoding="utf-8", errors="replace")
        d = CrashDialog(translate("CrashDialog", "QuantDesk closed unexpectedly last time."),
                        text, parent=window,
                        intro=translate(
                            "CrashDialog", "The crash report below was saved to %1. Please include it in a support request.")
                        .replace("%1", str(crash.previous_crash)))
        dialogs.append(d)
        d.show()

    app.aboutToQuit.connect(crash.uninstall)
    return app.exec()
