"""A check that follows a form: it runs in a worker a moment after the last change, and once more
when something changed while it ran, so what is shown always belongs to what the form says now."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from app.workers import run_in_background
from widgets.theme import colour

# what to run: (function, args, kwargs), or None when the form is not ready to be checked
Work = tuple[Callable, tuple, dict] | None


class LiveCheck(QObject):
    def __init__(self, parent: QObject, work: Callable[[], Work], show: Callable[[object], None],
                 failed: Callable[[str], object], name: str, delay_ms: int = 300):
        super().__init__(parent)
        self._work, self._show, self._failed, self._name = work, show, failed, name
        self._busy = self._again = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.run_now)

    def schedule(self) -> None:
        self._timer.start()

    def run_now(self) -> None:
        if self._busy:
            self._again = True
            return
        work = self._work()
        if work is None:
            return
        fn, args, kwargs = work
        self._busy = True
        run_in_background(fn, *args, **kwargs, on_result=self._done,
                          on_error=lambda msg, tb: self._done(self._failed(msg)), name=self._name)

    def _done(self, result) -> None:
        self._busy = False
        if self._again:
            self._again = False
            self.run_now()
            return
        self._show(result)

    def stop(self) -> None:
        self._timer.stop()


def checks_html(errors: list[str], warnings: list[str], notes: list[str], ready: str | None) -> str:
    """A check's outcome as a coloured list: `ready` (green, shown when there are no errors), errors, warnings, notes."""
    import html

    from widgets.service_text import translate_service as tr

    errors, warnings, notes = [tr(e) for e in errors], [tr(w) for w in warnings], [tr(n) for n in notes]
    items = [f'<li style="color:{colour("ok")}">{html.escape(ready)}</li>'] if ready and not errors else []
    items += [f'<li style="color:{colour("error")}">{html.escape(e)}</li>' for e in errors]
    items += [f'<li style="color:{colour("warn")}">{html.escape(w)}</li>' for w in warnings]
    items += [f'<li style="color:{colour("muted")}">{html.escape(n)}</li>' for n in notes]
    return f"<ul>{''.join(items)}</ul>"
