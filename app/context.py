"""What the main window hands every panel: the job service, the telemetry sampler and the settings.

Panels never fetch these themselves, so a test builds a panel over a temporary job store or a
fake sampler by passing its own factories. The service and the sampler are built on first use:
start-up pays for neither until a panel needs one.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from app.settingsstore import SettingsStore
from services.jobs import protocol as p

if TYPE_CHECKING:
    from app.jobs import JobService
    from services.telemetry.sampler import Sampler


def _default_jobs(settings: SettingsStore) -> Callable[[], JobService]:
    def make() -> JobService:
        from app.jobs import make_job_service

        return make_job_service(settings.current.job_concurrency)

    return make


def _default_sampler() -> Sampler:
    from app.telemetry import make_sampler

    return make_sampler()


class AppContext:
    """The application's shared services for the panels; `shutdown()` at quit stops what was built."""

    def __init__(self, settings: SettingsStore | None = None, make_jobs: Callable[[], JobService] | None = None,
                 make_sampler: Callable[[], Sampler] | None = None):
        self.settings = settings if settings is not None else SettingsStore()
        self._make_jobs = make_jobs or _default_jobs(self.settings)
        self._make_sampler = make_sampler or _default_sampler
        self._jobs: JobService | None = None
        self._sampler: Sampler | None = None
        # set by the main window: open a panel and hand it arguments (e.g. a model folder to export)
        self.navigator: Callable[..., None] | None = None

    def open_panel(self, panel_id: str, **kwargs) -> bool:
        """Show `panel_id` with `kwargs` passed to its `open_with`; False when there is no window (tests)."""
        if self.navigator is None:
            return False
        self.navigator(panel_id, **kwargs)
        return True

    def jobs(self) -> JobService:
        """The job service, built on the first call."""
        if self._jobs is None:
            self._jobs = self._make_jobs()
            self._jobs.event.connect(self._follow_job)
        return self._jobs

    def current_jobs(self) -> JobService | None:
        """The job service if a panel has asked for it (without building one)."""
        return self._jobs

    def sampler(self) -> Sampler:
        """The running telemetry sampler, built and started on the first call."""
        if self._sampler is None:
            self._sampler = self._make_sampler()
        return self._sampler.start()

    def _follow_job(self, job_id: str, event: p.Event) -> None:
        """Chart the running job's process tree memory (when the sampler runs)."""
        if isinstance(event, p.Status) and self._sampler is not None:
            self._sampler.job_pid = event.pid if event.status == "running" else None

    def shutdown(self) -> None:
        """Cancel the jobs and stop the sampler this context built (safe to call twice)."""
        jobs, self._jobs = self._jobs, None
        if jobs is not None:
            jobs.event.disconnect(self._follow_job)
            jobs.shutdown()
        sampler, self._sampler = self._sampler, None
        if sampler is not None:
            from app.telemetry import close_sampler

            close_sampler(sampler)
