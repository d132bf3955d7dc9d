import logging

import pytest
from PySide6.QtCore import QtMsgType

from app import qtlog


@pytest.mark.allow_log_errors  # a critical Qt message becomes an ERROR record, on purpose
def test_qt_warnings_reach_the_log_and_stderr(caplog, capsys):
    caplog.set_level(logging.DEBUG, logger="quantdesk.qt")
    qtlog._handler(QtMsgType.QtCriticalMsg, None, "Could not load the Qt platform plugin xcb")
    qtlog._handler(QtMsgType.QtDebugMsg, None, "chatter")
    qtlog._handler(QtMsgType.QtWarningMsg, None, "This plugin does not support propagateSizeHints()")
    assert "Could not load the Qt platform plugin" in caplog.text and "chatter" in caplog.text
    err = capsys.readouterr().err
    assert "Could not load the Qt platform plugin" in err and "chatter" not in err and "propagateSizeHints" not in err
