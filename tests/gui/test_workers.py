"""The one worker pattern: progress, result, error with traceback, cancel, cleanup."""
import threading
import time

import shiboken6

from app.workers import Worker, run_in_background, workers
from services.progress import Cancelled


def count_to(n, progress, cancelled):
    for i in range(n):
        if cancelled():
            raise Cancelled()
        progress(i + 1, n, f"step {i + 1}")
    return threading.current_thread().name


def test_progress_and_result_arrive_in_order(qtbot):
    seen, results = [], []
    w = Worker(count_to, 5)
    w.progress.connect(lambda d, t, m: seen.append((d, t, m)))
    w.result.connect(results.append)
    with qtbot.waitSignal(w.finished, timeout=5000):
        workers().start(w)
    assert seen == [(i, 5, f"step {i}") for i in range(1, 6)]
    assert results and results[0] != threading.current_thread().name  # ran off the UI thread


def test_progress_is_throttled_to_whole_percent_changes(qtbot):
    seen = []

    def many(progress):
        for i in range(10_000):
            progress(i, 10_000, "")

    run_in_background(many, on_progress=lambda *a: seen.append(a))
    qtbot.waitUntil(lambda: not workers().running(), timeout=5000)
    qtbot.waitUntil(lambda: bool(seen) and seen[-1][0] >= 9900, timeout=5000)  # queued signals still arriving
    assert 90 <= len(seen) <= 101


def test_error_carries_message_and_traceback(qtbot, logfail):
    logfail.allow("boom failed")
    def boom():
        raise ValueError("group size 128 does not divide 576")

    errors, results = [], []
    w = Worker(boom)
    w.error.connect(lambda m, tb: errors.append((m, tb)))
    w.result.connect(results.append)
    with qtbot.waitSignal(w.finished, timeout=5000):
        workers().start(w)
    assert results == []
    msg, tb = errors[0]
    assert msg == "group size 128 does not divide 576"
    assert "Traceback" in tb and "boom" in tb


def test_cancel_is_cooperative(qtbot):
    started = threading.Event()

    def slow(cancelled, progress):
        started.set()
        while not cancelled():
            time.sleep(0.01)
        raise Cancelled()

    cancelled_seen, results = [], []
    w = run_in_background(slow, on_cancelled=lambda: cancelled_seen.append(True), on_result=results.append)
    assert started.wait(20)
    with qtbot.waitSignal(w.cancelled, timeout=20000):  # generous: CI machines may be busy
        w.cancel()
    # a finished worker is deleted (deleteLater): gone counts as finished
    qtbot.waitUntil(lambda: not shiboken6.isValid(w) or w.isFinished(), timeout=20000)
    qtbot.waitUntil(lambda: cancelled_seen == [True], timeout=5000)
    assert results == []


def test_callable_without_progress_args_still_runs(qtbot):
    results = []
    run_in_background(lambda a, b: a + b, 2, 3, on_result=results.append)
    qtbot.waitUntil(lambda: results == [5], timeout=5000)


def test_registry_tracks_and_shuts_down_workers(qtbot):
    counts = []
    workers().countChanged.connect(counts.append)
    gate = threading.Event()

    def wait_for_cancel(cancelled):
        while not cancelled():
            gate.wait(0.01)
        raise Cancelled()

    run_in_background(wait_for_cancel)
    run_in_background(wait_for_cancel)
    assert len(workers().running()) == 2
    assert workers().shutdown(timeout_ms=5000)
    qtbot.waitUntil(lambda: not workers().running(), timeout=5000)
    assert counts[:2] == [1, 2] and counts[-1] == 0
    workers().countChanged.disconnect(counts.append)


def test_the_ui_thread_stays_responsive_while_a_worker_runs(qtbot):
    from PySide6.QtCore import QTimer

    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    run_in_background(lambda: time.sleep(0.5))
    qtbot.waitUntil(lambda: not workers().running(), timeout=5000)
    timer.stop()
    assert len(ticks) >= 20  # the event loop kept turning during the 0.5 s of work
