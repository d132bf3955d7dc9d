import pytest

from app.context import AppContext
from app.settingsstore import SettingsStore
from app.workers import workers


@pytest.fixture(autouse=True, scope="session")
def themed(qapp):
    """The panels as users see them: the light theme's style, palette and stylesheet (layout tests included)."""
    from widgets import theme

    theme.apply(qapp, "light")


@pytest.fixture(autouse=True)
def no_threads_left_behind(qapp):
    """Fail a test whose workers do not stop when asked (napari's habit): cancel, wait, check."""
    yield
    left = [w.name for w in workers().running()]
    stopped = workers().shutdown(timeout_ms=10000)
    assert stopped, f"workers did not stop when cancelled: {left}"


@pytest.fixture
def make_context():
    """Build an AppContext; `jobs=` / `sampler=` inject a service or sampler instead of the real ones.

    Without them the context builds real ones on first use, over the test's private QUANTDESK_HOME.
    Everything built is shut down after the test.
    """
    made: list[AppContext] = []

    def make(jobs=None, sampler=None, settings=None) -> AppContext:
        ctx = AppContext(SettingsStore(settings), make_jobs=(lambda: jobs) if jobs is not None else None,
                         make_sampler=(lambda: sampler) if sampler is not None else None)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.shutdown()


@pytest.fixture
def context(make_context) -> AppContext:
    return make_context()
