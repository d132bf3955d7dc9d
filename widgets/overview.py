"""The Overview panel: where a model stands on the path model -> calibration data -> quantize -> evaluate ->
export or serve (read from the job history, services/overview.py), with the next step as one button."""
from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from app.context import AppContext
from services.jobs import protocol as p
from services.overview import STEPS, ModelStatus, known_models, model_status, normalized, source_of
from widgets.i18n import translate
from widgets.panel import Panel
from widgets.service_text import translate_service as tr
from widgets.theme import status_colour

TITLES = {
    "model": QT_TRANSLATE_NOOP("Overview", "Model"),
    "calibrate": QT_TRANSLATE_NOOP("Overview", "Calibration data"),
    "quantize": QT_TRANSLATE_NOOP("Overview", "Quantize"),
    "evaluate": QT_TRANSLATE_NOOP("Overview", "Evaluate"),
    "deploy": QT_TRANSLATE_NOOP("Overview", "Export or serve"),
}
STATE_WORDS = {
    "done": QT_TRANSLATE_NOOP("Overview", "Done"),
    "running": QT_TRANSLATE_NOOP("Overview", "Running"),
    "failed": QT_TRANSLATE_NOOP("Overview", "Needs a fix"),
    "attention": QT_TRANSLATE_NOOP("Overview", "Look at this"),
    "todo": QT_TRANSLATE_NOOP("Overview", "To do"),
    "blocked": QT_TRANSLATE_NOOP("Overview", "Waiting"),
}
STATE_MARKS = {"done": "✔", "running": "●", "failed": "✖", "attention": "▲", "todo": "○", "blocked": "○"}
NEXT_TEXT = {
    "model": QT_TRANSLATE_NOOP("Overview", "Pick the folder of a Hugging Face model (the one that holds config.json)."),
    "calibrate": QT_TRANSLATE_NOOP("Overview", "Quantize it: choose the calibration data there (pileval, or text "
                                               "like your users' prompts)."),
    "quantize": QT_TRANSLATE_NOOP("Overview", "The last quantize job did not succeed: fix its settings and start "
                                              "it again."),
    "evaluate": QT_TRANSLATE_NOOP("Overview", "Evaluate the quantized model against the source: perplexity and "
                                              "whether its answers agree."),
    "evaluate-attention": QT_TRANSLATE_NOOP("Overview", "The evaluation found a loss: compare the answers, or "
                                                        "quantize again with other settings."),
    "deploy": QT_TRANSLATE_NOOP("Overview", "Export it for your serving engine or NPU, or serve it with a chat "
                                            "smoke test."),
    "deploy-attention": QT_TRANSLATE_NOOP("Overview", "The chat smoke test found a problem: look at its answers."),
    "": QT_TRANSLATE_NOOP("Overview", "This model is quantized, checked and deployed."),
}


class StepCard(QFrame):
    """One step: number and title, its state in words and colour, a line of detail, an action button."""

    def __init__(self, number: int, step_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("card")
        self.step_id = step_id
        grid = QGridLayout(self)
        grid.setContentsMargins(12, 8, 12, 8)
        self.title = QLabel(f"{number}. {translate('Overview', TITLES[step_id])}")
        self.title.setObjectName("cardTitle")
        self.state = QLabel()
        self.state.setObjectName("cardState")
        self.detail = QLabel()
        self.detail.setObjectName("cardDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.action = QPushButton()
        self.action.setAutoDefault(False)
        self._do: Callable[[], None] | None = None
        self.action.clicked.connect(lambda: self._do and self._do())
        grid.addWidget(self.title, 0, 0)
        grid.addWidget(self.state, 0, 1)
        grid.addWidget(self.detail, 1, 0, 1, 2)
        grid.addWidget(self.action, 0, 2, 2, 1, Qt.AlignmentFlag.AlignVCenter)
        grid.setColumnStretch(1, 1)

    def show_step(self, state: str, detail: str, action: tuple[str, Callable[[], None]] | None,
                  is_next: bool) -> None:
        self.setProperty("state", state)
        self.setProperty("next", "true" if is_next else "false")
        self.style().unpolish(self)
        self.style().polish(self)
        self.state.setText(f'<span style="color:{status_colour(state)}">{STATE_MARKS[state]} '
                           f'{html.escape(translate("Overview", STATE_WORDS[state]))}</span>')
        self.detail.setText(detail)
        self.detail.setToolTip(detail)
        self.action.setVisible(action is not None)
        if action is not None:
            self.action.setText(action[0])
            self._do = action[1]


class OverviewPanel(Panel):
    PANEL_ID = "overview"
    POLL_MS = 3000
    FIRST_LOAD_MS = 120  # after the first paint (a timer of 0 can run before it)
    MAX_JOBS = 5000  # the history read: a model's jobs are found among this many newest ones
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Where a model stands: from the Hugging Face model to a quantized model "
                                          "you trust, exported or served.")

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(context, parent)
        self.status: ModelStatus | None = None
        self._connected = False
        self.store_error = ""  # the job history could not be read: said on the page, not hidden
        self.poll = QTimer(self)  # jobs started elsewhere (the CLI, another window) show up while the page is open
        self.poll.setInterval(self.POLL_MS)
        self.poll.timeout.connect(self._poll)
        self._seen_version: int | None = None  # the store's data_version when the page last read it
        self._soon = QTimer(self)  # progress events: one refresh per burst
        self._soon.setSingleShot(True)
        self._soon.setInterval(300)
        self._soon.timeout.connect(self.refresh)

        pick = QHBoxLayout()
        pick.addWidget(QLabel(translate("Overview", "Model")))
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model.lineEdit().setPlaceholderText(translate("Overview", "Folder of a Hugging Face model"))
        self.model.setMinimumWidth(360)
        self.model.activated.connect(lambda _i: self.refresh())
        self.model.lineEdit().editingFinished.connect(self.refresh)
        pick.addWidget(self.model, 1)
        self.browse = QPushButton(translate("Overview", "Browse…"))
        self.browse.clicked.connect(self._browse)
        pick.addWidget(self.browse)
        self._layout.addLayout(pick)

        self.cards = {sid: StepCard(i, sid) for i, sid in enumerate(STEPS, 1)}
        for card in self.cards.values():
            self._layout.addWidget(card)

        nxt = QFrame()
        nxt.setObjectName("nextStep")
        row = QHBoxLayout(nxt)
        row.setContentsMargins(0, 8, 0, 0)
        self.next_text = QLabel()
        self.next_text.setWordWrap(True)
        self.next_button = QPushButton()
        self.next_button.setProperty("primary", "true")
        self._next: Callable[[], None] | None = None
        self.next_button.clicked.connect(lambda: self._next and self._next())
        row.addWidget(self.next_text, 1)
        row.addWidget(self.next_button)
        self._layout.addWidget(nxt)
        self._layout.addStretch(1)
        self._show(None)
        QTimer.singleShot(self.FIRST_LOAD_MS, self, self._first_load)  # the window paints first; the store opens then

    # -- data
    def _first_load(self) -> None:
        records = self._records()
        recent = self.context.settings.current.recent.get("overview", [])
        models = list(dict.fromkeys([*(r for r in recent if isinstance(r, str)), *known_models(records)]))
        self.model.blockSignals(True)
        self.model.clear()
        self.model.addItems(models)
        self.model.setCurrentText(models[0] if models else "")
        self.model.blockSignals(False)
        self.refresh(records)

    def _records(self):
        service = self.context.jobs()
        if not self._connected:
            service.event.connect(self._on_event)
            self._connected = True
        try:
            records = service.store.list(limit=self.MAX_JOBS)
        except Exception as exc:  # the page shows what it knows, and says the history is unreadable
            self.store_error = tr(str(exc))
            return []
        self.store_error = tr(service.notice) if service.notice else ""
        return records

    def refresh(self, records=None) -> None:
        folder = self.model.currentText().strip()
        records = records if records is not None else self._records()
        note = ""
        source = source_of(folder, records) if folder else None
        if source:  # a quantized output picked: its source model's page, which covers it
            note = translate("Overview", "%1 is a quantized output of %2: showing that model.") \
                .replace("%1", folder).replace("%2", source)
            folder = source
            self.model.setCurrentText(source)
        if not folder:
            self._show(None)
        else:
            status = model_status(folder, records)
            self._show(status)
            if status.step("model").state == "done":
                self._remember(normalized(folder))
        extra = [t for t in (note, self.store_error) if t]
        if extra:
            self.next_text.setText("\n".join([*extra, self.next_text.text()]))

    def _remember(self, folder: str) -> None:
        def store(s) -> None:
            recent = [m for m in s.recent.get("overview", []) if isinstance(m, str) and normalized(m) != folder]
            s.recent["overview"] = [folder, *recent][:10]

        if self.context.settings.current.recent.get("overview", [None])[:1] != [folder]:
            self.context.settings.update(store)

    def _poll(self) -> None:
        """Read the history again only when another process wrote to it (this one's jobs arrive as events)."""
        if not self.isVisible() or not self._connected:
            return
        try:
            version = self.context.jobs().store.data_version()
        except Exception:  # an unreadable store: refresh() says so
            version = None
        if version is None or version != self._seen_version:
            self._seen_version = version
            self.refresh()

    def _on_event(self, job_id: str, event: p.Event) -> None:
        if not self.isVisible() or not isinstance(event, (p.Status, p.Result, p.Error, p.Progress)):
            return
        if isinstance(event, p.Progress) and not (self.status and job_id in self.status.jobs):
            return  # another model's job making progress changes nothing here
        self._soon.start()

    def shown(self) -> None:
        if self._connected:
            self.refresh()
        self.poll.start()

    def hideEvent(self, event) -> None:
        self.poll.stop()
        super().hideEvent(event)

    def retheme(self) -> None:
        self._show(self.status)  # the status colours are the theme's

    def shutdown(self) -> None:
        self.poll.stop()
        self._soon.stop()

    def open_with(self, model: str | None = None, **_) -> None:
        if model:
            self.model.setCurrentText(model)
            self.refresh()

    # -- view
    def _show(self, status: ModelStatus | None) -> None:
        self.status = status
        if status is None:
            for sid, card in self.cards.items():
                card.show_step("todo" if sid == "model" else "blocked",
                               translate("Overview", "Choose a model folder above.") if sid == "model" else "",
                               None, sid == "model")
            self._set_next(translate("Overview", NEXT_TEXT["model"]),
                           (translate("Overview", "Browse…"), self._browse))
            return
        nxt = status.next_step
        for s in status.steps:
            self.cards[s.id].show_step(s.state, tr(s.detail), self._action(s.id, s.state, s.job_id), s.id == nxt)
        key = nxt or ""
        if nxt in ("evaluate", "deploy") and status.step(nxt).state == "attention":
            key = f"{nxt}-attention"
        step = status.step(nxt) if nxt else None
        self._set_next(translate("Overview", NEXT_TEXT[key]),
                       self._action(nxt, step.state, step.job_id, primary=True) if step else None)

    def _set_next(self, text: str, action: tuple[str, Callable[[], None]] | None) -> None:
        self.next_text.setText(text)
        self.next_button.setVisible(action is not None)
        if action is not None:
            self.next_button.setText(action[0])
            self._next = action[1]

    def _action(self, step_id: str, state: str, job_id: str | None,
                primary: bool = False) -> tuple[str, Callable[[], None]] | None:
        """The button of a step in `state` (None: nothing to do there yet)."""
        s = self.status
        assert s is not None
        go = self.context.open_panel
        show_job = (translate("Overview", "Show job"), lambda: go("jobs", job=job_id))
        if state == "blocked":
            return None
        if step_id == "model":
            if state == "failed":
                return translate("Overview", "Browse…"), self._browse
            return translate("Overview", "Plan memory"), lambda: go("monitor", model=s.model)
        if step_id == "calibrate":
            if primary:
                return translate("Overview", "Quantize…"), lambda: go("quantize", model=s.model)
            return translate("Overview", "Preview in Datasets"), lambda: go("datasets")
        if step_id == "quantize":
            if state in ("todo", "failed"):
                return translate("Overview", "Quantize…"), lambda: go("quantize", model=s.model)
            return show_job
        if step_id == "evaluate":
            if state in ("todo", "failed"):
                return translate("Overview", "Evaluate this"), lambda: go("evaluate", candidate=s.output,
                                                                          baseline=s.model)
            return show_job
        if state in ("todo", "failed"):
            return translate("Overview", "Export…"), lambda: go("targets", model=s.output)
        return show_job

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, translate("Overview", "Model folder"),
                                                  self.model.currentText() or str(Path.home()))
        if folder:
            self.model.setCurrentText(folder)
            self.refresh()
