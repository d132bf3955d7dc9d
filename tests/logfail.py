"""Fail a test that logs an unexpected error (qutebrowser's tests/helpers/logfail.py).

Every record at ERROR or above on a "quantdesk" logger, and every critical or fatal Qt message
(app/qtlog.py maps those to ERROR; in tests pytest-qt captures them), fails the test that made it.
A test that expects errors says so: `@pytest.mark.allow_log_errors`, or `logfail.allow("text")`
for records whose message contains "text".
"""
from __future__ import annotations

import logging

import pytest

QT_ERRORS = ("QtCriticalMsg", "QtFatalMsg")


class LogFailHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.allowed: list[str] = []
        self.qt = None  # pytest-qt's message capture, when the plugin is there
        self._qt_seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def allow(self, text: str) -> None:
        """Expect error records whose message contains `text`."""
        self.allowed.append(text)

    def take_unexpected(self) -> list[str]:
        """The unexpected errors since the last call, as lines (and forget them)."""
        lines = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.records]
        self.records = []
        if self.qt is not None:
            qt = self.qt.records[self._qt_seen:]
            self._qt_seen += len(qt)
            lines += [f"Qt {m.type_name}: {m.message}" for m in qt if m.type_name in QT_ERRORS and not m.ignored]
        return [line for line in lines if not any(a in line for a in self.allowed)]


def check(item, handler: LogFailHandler | None) -> None:
    if handler is None or item.get_closest_marker("allow_log_errors"):
        return
    bad = handler.take_unexpected()
    if bad:
        pytest.fail("the test logged errors (mark it allow_log_errors or call logfail.allow() if they are "
                    "expected):\n  " + "\n  ".join(bad), pytrace=False)


@pytest.fixture(autouse=True)
def logfail(request):
    handler = LogFailHandler()
    try:
        handler.qt = request.getfixturevalue("qtlog")
    except pytest.FixtureLookupError:
        pass
    logger = logging.getLogger("quantdesk")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    check(request.node, handler)  # what teardown logged (the call phase was checked already)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    handler = item.funcargs.get("logfail")
    try:
        result = yield
    except BaseException:
        if handler is not None:
            handler.take_unexpected()  # the test failed anyway: do not report its log twice
        raise
    check(item, handler)  # fail the test itself, not its teardown
    return result
