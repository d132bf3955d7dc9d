"""The crash path: excepthooks, the dialog with the recent log, hard crashes offered next start."""
import logging
import sys
import threading

import pytest

from app.crash import CRASH_FILE, CrashHandler
from tests.conftest import run_python


@pytest.mark.allow_log_errors
def test_unhandled_exception_is_logged_and_shown(qtbot, tmp_path, caplog):
    shown = []
    h = CrashHandler(tmp_path, show=lambda title, tb, recent: shown.append((title, tb, recent)))
    h.install()
    try:
        logging.getLogger("quantdesk.test").warning("just before the crash")
        try:
            raise RuntimeError("kaputt")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
    finally:
        h.uninstall()
    qtbot.waitUntil(lambda: bool(shown), timeout=2000)
    title, tb, recent = shown[0]
    assert "RuntimeError" in title and "kaputt" in title
    assert "Traceback" in tb
    assert "just before the crash" in recent
    assert "unhandled exception" in caplog.text


@pytest.mark.allow_log_errors
def test_exception_in_a_thread_reaches_the_ui_thread(qtbot, tmp_path):
    shown = []
    h = CrashHandler(tmp_path, show=lambda *a: shown.append((a, threading.current_thread())))
    h.install()
    try:
        t = threading.Thread(target=lambda: 1 / 0, name="sampler")
        t.start()
        t.join()
        qtbot.waitUntil(lambda: bool(shown), timeout=2000)
    finally:
        h.uninstall()
    (title, _, _), thread = shown[0]
    assert "ZeroDivisionError in thread sampler" in title
    assert thread is threading.main_thread()


def test_crash_dialog_shows_details_and_log(qtbot):
    from widgets.crash_dialog import CrashDialog

    d = CrashDialog("ValueError: x", "Traceback ...", "recent line")
    qtbot.addWidget(d)
    assert "Traceback" in d.text.toPlainText() and "recent line" in d.text.toPlainText()


def test_hard_crash_is_written_and_offered_at_next_start(tmp_path):
    code = (
        "import sys, faulthandler; from pathlib import Path; from app.crash import CrashHandler\n"
        "h = CrashHandler(Path(sys.argv[1])); h.install(); faulthandler._sigsegv()\n"
    )
    proc = run_python(code, str(tmp_path))
    assert proc.returncode != 0
    assert "Fatal Python error" in (tmp_path / CRASH_FILE).read_text()

    h = CrashHandler(tmp_path)
    h.install()
    h.uninstall()
    assert h.previous_crash and "Fatal Python error" in h.previous_crash.read_text()
    assert (tmp_path / CRASH_FILE).read_text() == ""  # this clean run left nothing to offer

    h2 = CrashHandler(tmp_path)
    h2.install()
    h2.uninstall()
    assert h2.previous_crash is None
