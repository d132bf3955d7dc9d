"""A running server in the Jobs panel (its URL and a chat box) and the serve job's report as HTML."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.workers import Worker, workers
from services.serving import client
from widgets.i18n import translate
from widgets.theme import status_colour


def verdict_text(level: str) -> str:
    return {"pass": translate("Serve", "pass"), "warn": translate("Serve", "check the answers"),
            "fail": translate("Serve", "fail")}.get(level, level)


def verdict_line(s: dict) -> str:
    """The smoke test's verdict in the user's language (from its key; the English text if the key is unknown)."""
    texts = {
        "no_answers": translate("Serve", "no answers"),
        "all_empty": translate("Serve", "every answer is empty: the model or its chat template is broken"),
        "parallel_failed": translate("Serve", "%1 of %2 parallel requests failed"),
        "no_reference": translate("Serve", "answers received, but no source model to compare with: read them"),
        "agree": translate("Serve", "answers are close to the source's greedy answers (%3 similar)"),
        "agree_some": translate("Serve", "answers are only %3 similar to the source's: read them before shipping"),
        "agree_little": translate("Serve", "answers are only %3 similar to the source's: do not ship this model"),
    }
    key, args = s.get("verdict_key"), s.get("verdict_args") or {}
    if key not in texts:
        return str(s.get("verdict_text", ""))
    text = (texts[key].replace("%1", str(args.get("n", ""))).replace("%2", str(args.get("of", "")))
            .replace("%3", str(args.get("pct", ""))))
    if args.get("empty") and key != "all_empty":
        text += translate("Serve", " (%1 empty answers)").replace("%1", str(args["empty"]))
    return text


def report_html(result: dict) -> str:
    """The serve job's outcome: readiness, speed, concurrency, agreement and the answers."""
    lines = [translate("Serve", "%1 served %2 at %3; ready after %4 s")
             .replace("%1", html.escape(str(result.get("engine")))).replace("%2", html.escape(str(result.get("model"))))
             .replace("%3", html.escape(str(result.get("url")))).replace("%4", str(result.get("ready_s")))]
    s = result.get("smoke")
    if not s:
        return "<br>".join(lines)
    lines.append(f'<b style="color:{status_colour(s.get("verdict", ""))}">{html.escape(verdict_text(s.get("verdict", "")))}</b>: '
                 f'{html.escape(verdict_line(s))}')
    lines.append(translate("Serve", "median time to first token %1 s · median %2 tokens/s")
                 .replace("%1", str(s.get("ttft_s_median"))).replace("%2", str(s.get("tokens_per_s_median"))))
    c = s.get("concurrency") or {}
    if c:
        lines.append(translate("Serve", "%1 requests at once: %2 tokens/s, latency p50 %3 s, p95 %4 s")
                     .replace("%1", str(c.get("parallel"))).replace("%2", str(c.get("throughput_tok_s")))
                     .replace("%3", str(c.get("latency_p50_s"))).replace("%4", str(c.get("latency_p95_s"))))
    rows = "".join(
        f"<tr><td>{html.escape(a['prompt'][:36])}</td><td>{html.escape(a['text'].strip()[:70])}</td>"
        f"<td align=right>{_percent(a.get('similarity'))}</td></tr>" for a in s.get("answers", []))
    prompt, answer, agree = translate("Serve", "Prompt"), translate("Serve", "Answer"), translate("Serve", "Similarity")
    head = f"<tr><th align=left>{prompt}</th><th align=left>{answer}</th><th>{agree}</th></tr>"
    return "<br>".join(lines) + f"<table cellspacing=4>{head}{rows}</table>"


def _percent(x: float | None) -> str:
    return "" if x is None else f"{x:.0%}"


class ChatBox(QWidget):
    """Ask a running server questions by hand; its answer streams in."""

    piece = Signal(str)  # emitted from the worker thread; Qt queues it to this widget's thread

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.url, self.model, self.engine = "", "", ""
        self.history: list[dict] = []
        self._worker: Worker | None = None
        self._answer: list[str] = []
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.link = QLabel()
        self.link.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.link.setOpenExternalLinks(True)
        box.addWidget(self.link)
        self.transcript = QPlainTextEdit()
        self.transcript.setReadOnly(True)
        self.transcript.setObjectName("chatTranscript")
        self.transcript.setPlaceholderText(translate("Serve", "Ask the served model a question below."))
        box.addWidget(self.transcript, 1)
        row = QHBoxLayout()
        self.input = QLineEdit()
        self.input.setPlaceholderText(translate("Serve", "Your question"))
        self.input.returnPressed.connect(self.send)
        self.send_button = QPushButton(translate("Serve", "Send"))
        self.send_button.clicked.connect(self.send)
        self.clear_button = QPushButton(translate("Serve", "New chat"))
        self.clear_button.clicked.connect(self.clear)
        for w in (self.input, self.send_button, self.clear_button):
            row.addWidget(w, 1 if w is self.input else 0)
        box.addLayout(row)
        self.piece.connect(self._on_piece)

    def set_server(self, url: str, model: str, engine: str) -> None:
        if url != self.url:
            self.clear()
        self.url, self.model, self.engine = url, model, engine
        self.link.setText(translate("Serve", "Serving at %1 (OpenAI API)").replace(
            "%1", f'<a href="{html.escape(url)}/v1/models">{html.escape(url)}</a>'))

    def clear(self) -> None:
        self.history = []
        self.transcript.clear()

    def busy(self) -> bool:
        return self._worker is not None

    def send(self) -> Worker | None:
        text = self.input.text().strip()
        if not text or not self.url or self._worker is not None:
            return None
        self.input.clear()
        self.history.append({"role": "user", "content": text})
        self.transcript.appendPlainText(f"> {text}\n")
        self._answer = []
        messages, url, model, extra = list(self.history), self.url, self.model, client.GREEDY.get(self.engine)

        def ask() -> client.ChatReply:
            name = model or client.model_name(url) or "default"
            return client.chat(url, name, messages, max_tokens=256, on_text=self.piece.emit, extra=extra)

        self._worker = Worker(ask, name="chat")
        self._worker.result.connect(self._done)
        self._worker.error.connect(self._failed)
        self.send_button.setEnabled(False)
        return workers().start(self._worker)

    def _on_piece(self, text: str) -> None:
        self._answer.append(text)
        self.transcript.moveCursor(self.transcript.textCursor().MoveOperation.End)
        self.transcript.insertPlainText(text)

    def _done(self, reply: client.ChatReply) -> None:
        self.history.append({"role": "assistant", "content": reply.text})
        speed = f"{reply.tokens_per_s:.1f}" if reply.tokens_per_s else "-"
        self.transcript.appendPlainText(translate("Serve", "(%1 tokens, first after %2 s, %3 tokens/s)\n")
                                        .replace("%1", str(reply.tokens))
                                        .replace("%2", f"{reply.ttft_s or 0:.2f}").replace("%3", speed))
        self._finish()

    def _failed(self, message: str, _tb: str) -> None:
        self.history.pop()
        self.transcript.appendPlainText(translate("Serve", "The server did not answer: %1\n").replace("%1", message))
        self._finish()

    def _finish(self) -> None:
        self._worker = None
        self.send_button.setEnabled(True)
