"""Guard against Qt bindings that corrupt reference counts (PySide6 6.12.0 on Python 3.11 did).

A binding that decrefs None or a bool on every processEvents()/emit() aborts a long-running app with
"Fatal Python error: none_dealloc" after a few thousand calls; the counts must never drop.
"""
import sys

from PySide6.QtCore import QCoreApplication, QObject, Signal


class _Emitter(QObject):
    value = Signal(object)
    progress = Signal(int, int, str)


def test_process_events_keeps_refcounts(qapp):
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(200):
        QCoreApplication.processEvents()
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    assert all(a >= b for a, b in zip(after, before, strict=True)), (before, after)


def test_emit_keeps_refcounts(qapp):
    e = _Emitter()
    got = []
    e.value.connect(got.append)
    e.progress.connect(lambda *a: None)
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for i in range(200):
        e.value.emit(None)
        e.progress.emit(i, 200, "")
    assert len(got) == 200
    del got
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    assert all(a >= b for a, b in zip(after, before, strict=True)), (before, after)
