import pytest

from app.workers import workers


@pytest.fixture(autouse=True)
def no_threads_left_behind(qapp):
    """Fail a test that leaves a worker thread running (napari's habit)."""
    yield
    running = workers().running()
    ok = workers().shutdown(timeout_ms=5000)
    assert not running or ok, f"workers left running: {[w.name for w in running]}"
    assert not running, f"test left workers running: {[w.name for w in running]}"
