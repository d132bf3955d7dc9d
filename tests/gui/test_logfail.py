"""tests/logfail.py itself: error records and critical Qt messages are caught, allowed ones are not."""
import logging

import pytest
from PySide6.QtCore import qCritical, qWarning

from tests.logfail import check


def test_an_error_record_is_caught(logfail, request):
    logging.getLogger("quantdesk.test").error("something broke 坏了")
    logging.getLogger("quantdesk.test").warning("only a warning")
    with pytest.raises(pytest.fail.Exception, match="something broke 坏了"):
        check(request.node, logfail)  # it also forgets what it reported, so this test passes


def test_a_critical_qt_message_is_caught(qapp, logfail):
    qWarning("a Qt warning is fine")
    qCritical("a critical Qt message")
    assert logfail.take_unexpected() == ["Qt QtCriticalMsg: a critical Qt message"]


def test_allowed_errors_pass(logfail, request):
    logfail.allow("expected failure")
    logging.getLogger("quantdesk.jobs").error("job 1: expected failure")
    check(request.node, logfail)
    assert logfail.take_unexpected() == []


def test_loggers_outside_quantdesk_are_not_watched(logfail):
    logging.getLogger("some.library").error("not ours")
    assert logfail.take_unexpected() == []
