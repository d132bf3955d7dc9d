"""Route Qt's own messages into the "quantdesk.qt" logger; warnings and worse also go to stderr,
so a platform plugin that cannot load (missing libxcb-cursor0...) is seen before Qt aborts."""
from __future__ import annotations

import logging
import sys

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
    level = _LEVELS.get(mode, logging.WARNING)
    log.log(level, "%s", message)
    if level >= logging.WARNING:
        print(f"Qt: {message}", file=sys.stderr, flush=True)


def install() -> None:
    qInstallMessageHandler(_handler)
