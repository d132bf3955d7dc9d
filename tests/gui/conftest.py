import pytest

from app.workers import workers


@pytest.fixture(autouse=True)
def no_threads_left_behind(qapp):
    """Fail a test whose workers do not stop when asked (napari's habit): cancel, wait, check."""
    yield
    left = [w.name for w in workers().running()]
    stopped = workers().shutdown(timeout_ms=10000)
    assert stopped, f"workers did not stop when cancelled: {left}"
