"""Route Qt's own messages into the "quantdesk.qt" logger instead of stderr."""
from __future__ import annotations

import logging

from PySide6.QtCore import QtMsgType, qInstallMessageHandler

log = logging.getLogger("quantdesk.qt")

_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}
# Harmless chatter of the offscreen platform used for screenshots and tests.
_IGNORED = ("propagateSizeHints",)


def _handler(mode: QtMsgType, context, message: str) -> None:
    if any(s in message for s in _IGNORED):
        return
    log.log(_LEVELS.get(mode, logging.WARNING), "%s", message)


def install() -> None:
    qInstallMessageHandler(_handler)
