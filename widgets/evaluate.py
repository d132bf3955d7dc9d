"""The Evaluate panel: baseline and candidates, text, KV policies and prompts in; a job; results out."""
from __future__ import annotations

import html
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from services.evaluate import report
from services.evaluate.settings import EvalSettings
from services.evaluate.verdict import Thresholds, verdict
from services.jobs import protocol as p
from services.jobs.spec import JobSpec
from services.jobs.store import FINAL
from widgets import charts
from widgets.forms import dspin, pick_text_file, readonly_table, row, source_combo, spin
from widgets.i18n import translate
from widgets.panel import Panel
from widgets.scan import ScanTab

LEVEL_COLOURS = {"baseline": "#6b7280", "fine": "#059669", "caution": "#b26a00", "bad": "#c62828"}
KV_CHOICES = ("fp16", "int8", "int4", "fp8")


def verdict_text(level: str, delta_pct: float | None, kv: str) -> str:
    """The verdict line in the interface language (services/evaluate/verdict.py decides the level)."""
    if level == "baseline":
        return translate("Evaluate", "baseline")
    what = translate("Evaluate", "%1 KV").replace("%1", kv) if kv != "fp16" else translate("Evaluate", "these weights")
    text = {"fine": translate("Evaluate", "perplexity %1: fine"),
            "caution": translate("Evaluate", "perplexity %1: compare answers before shipping %2"),
            "bad": translate("Evaluate", "perplexity %1: do not ship %2 for this model")}[level]
    return text.replace("%1", f"{delta_pct:+.1f}%").replace("%2", what)


class EvaluatePanel(Panel):
    PANEL_ID = "evaluate"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Perplexity, answer comparison and KV-cache int8/int4/fp8 quality.")

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(context, parent)
        self.service = context.jobs()
        self.job_id: str | None = None
        self.summary: dict | None = None

        split = QSplitter()
        self.tabs = QTabWidget()
        self.tabs.addTab(split, translate("Evaluate", "Compare models"))
        self.scan = ScanTab(context)
        self.tabs.addTab(self.scan, translate("Evaluate", "Scan layers"))
        self._layout.addWidget(self.tabs, 1)
        form_box = QWidget()
        form = QVBoxLayout(form_box)
        form.setContentsMargins(0, 0, 0, 0)
        split.addWidget(form_box)

        models = QGroupBox(translate("Evaluate", "Models"))
        mf = QFormLayout(models)
        self.baseline = QLineEdit()
        self.baseline.setPlaceholderText(translate("Evaluate", "optional: the original model"))
        pick_base = QPushButton(translate("Evaluate", "Browse…"))
        pick_base.clicked.connect(lambda: self._pick_dir(self.baseline))
        mf.addRow(translate("Evaluate", "Baseline"), row(self.baseline, pick_base))
        self.candidates = QListWidget()
        self.candidates.setMaximumHeight(90)
        mf.addRow(translate("Evaluate", "Candidates"), self.candidates)
        add_dir = QPushButton(translate("Evaluate", "Add folder…"))
        add_dir.clicked.connect(self._add_folder)
        self.finished = QComboBox()
        self.finished.setToolTip(translate("Evaluate", "Outputs of finished quantization jobs"))
        add_job = QPushButton(translate("Evaluate", "Add"))
        add_job.clicked.connect(lambda: self.add_candidate(self.finished.currentData()))
        remove = QPushButton(translate("Evaluate", "Remove"))
        remove.clicked.connect(lambda: self.candidates.takeItem(self.candidates.currentRow()))
        mf.addRow(row(add_dir, self.finished, add_job, remove))
        form.addWidget(models)

        data = QGroupBox(translate("Evaluate", "Text and settings"))
        df = QFormLayout(data)
        self.text = source_combo(context.settings, "wikitext2")
        pick_text = QPushButton(translate("Evaluate", "File…"))
        pick_text.clicked.connect(self._pick_text)
        df.addRow(translate("Evaluate", "Held-out text"), row(self.text, pick_text))
        kv_row = QHBoxLayout()
        self.kv = {k: QCheckBox(k) for k in KV_CHOICES}
        for k, box in self.kv.items():
            box.setChecked(k in ("fp16", "int8", "int4"))
            kv_row.addWidget(box)
        df.addRow(translate("Evaluate", "KV cache"), kv_row)
        self.context = spin(8, 32768, 512)
        self.max_tokens = spin(16, 10_000_000, 16384)
        df.addRow(translate("Evaluate", "Context"), self.context)
        df.addRow(translate("Evaluate", "Tokens to score"), self.max_tokens)
        self.answers = QCheckBox(translate("Evaluate", "compare answers"))
        self.answers.setChecked(True)
        self.prompts = QLineEdit()
        self.prompts.setPlaceholderText(translate("Evaluate", "built-in English and Chinese prompts"))
        pick_prompts = QPushButton(translate("Evaluate", "File…"))
        pick_prompts.clicked.connect(self._pick_prompts)
        df.addRow(translate("Evaluate", "Prompts"), row(self.answers, self.prompts, pick_prompts))
        self.fine = dspin(0.0, 1000.0, 3.0, suffix=" %")
        self.caution = dspin(0.0, 1000.0, 10.0, suffix=" %")
        df.addRow(translate("Evaluate", "Verdict (+% perplexity)"),
                  row(QLabel(translate("Evaluate", "fine up to")), self.fine,
                      QLabel(translate("Evaluate", "do not ship above")), self.caution))
        form.addWidget(data)

        run_row = QHBoxLayout()
        self.run_button = QPushButton(translate("Evaluate", "Run evaluation"))
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton(translate("Evaluate", "Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(lambda: self.job_id and self.service.cancel(self.job_id))
        self.progress = QProgressBar()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress, 1)
        form.addLayout(run_row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        form.addWidget(self.status)
        form.addStretch(1)

        results = QWidget()
        rl = QVBoxLayout(results)
        rl.setContentsMargins(0, 0, 0, 0)
        self.verdicts = QLabel()
        self.verdicts.setWordWrap(True)
        rl.addWidget(self.verdicts)
        tabs = QTabWidget()
        self.table = readonly_table([
            translate("Evaluate", "Variant"), translate("Evaluate", "Perplexity"), translate("Evaluate", "Δ %"),
            translate("Evaluate", "Agreement"), translate("Evaluate", "Tokens"), translate("Evaluate", "Time (s)"),
            translate("Evaluate", "Verdict")], stretch=6)
        tabs.addTab(self.table, translate("Evaluate", "Table"))
        self.chart = charts.plot(translate("Evaluate", "Perplexity by variant"), "", translate("Evaluate", "perplexity"))
        tabs.addTab(self.chart, translate("Evaluate", "Chart"))
        self.answer_view = QTextBrowser()
        tabs.addTab(self.answer_view, translate("Evaluate", "Answers"))
        rl.addWidget(tabs, 1)
        export = QHBoxLayout()
        self.export_md = QPushButton(translate("Evaluate", "Export Markdown…"))
        self.export_md.clicked.connect(lambda: self._export("md"))
        self.export_csv = QPushButton(translate("Evaluate", "Export CSV…"))
        self.export_csv.clicked.connect(lambda: self._export("csv"))
        for button in (self.export_md, self.export_csv):
            button.setEnabled(False)
            button.setToolTip(translate("Evaluate", "Run an evaluation first"))
        export.addWidget(self.export_md)
        export.addWidget(self.export_csv)
        export.addStretch(1)
        rl.addLayout(export)
        split.addWidget(results)
        split.setSizes([430, 600])

        self.fine.valueChanged.connect(self._render)
        self.caution.valueChanged.connect(self._render)
        self.service.event.connect(self._on_event)
        self._load_history()

    # -- helpers
    def _pick_dir(self, edit: QLineEdit) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("Evaluate", "Model folder"), edit.text())
        if path:
            edit.setText(path)

    def _add_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("Evaluate", "Model folder"))
        if path:
            self.add_candidate(path)

    def add_candidate(self, folder: str | None) -> None:
        if folder and folder not in self.candidate_folders():
            self.candidates.addItem(folder)

    def candidate_folders(self) -> list[str]:
        return [self.candidates.item(i).text() for i in range(self.candidates.count())]

    def _pick_text(self) -> None:
        pick_text_file(self, self.text, translate("Evaluate", "Held-out text"))

    def _pick_prompts(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, translate("Evaluate", "Prompts"), "", "Prompts (*.txt *.json *.jsonl)")
        if path:
            self.prompts.setText(path)

    def thresholds(self) -> Thresholds:
        return Thresholds(self.fine.value(), self.caution.value())

    def _load_history(self) -> None:
        """Offer finished quantize outputs as candidates; show the latest evaluation's results."""
        self.finished.clear()
        latest = None
        for rec in self.service.store.list():
            if rec.kind == "quantize" and rec.status == "succeeded" and rec.out and Path(rec.out).is_dir():
                self.finished.addItem(f"{Path(rec.out).name} ({rec.id})", rec.out)
            if rec.kind == "eval" and rec.status == "succeeded" and latest is None:
                latest = rec
        if latest is not None:
            self.show_results(latest.result)

    # -- running
    def settings(self) -> EvalSettings:
        cands = self.candidate_folders()
        return EvalSettings(baseline=self.baseline.text().strip() or None, also=cands[1:],
                            kv=[k for k, box in self.kv.items() if box.isChecked()] or ["fp16"],
                            text=self.text.currentText().strip(), max_tokens=self.max_tokens.value(),
                            context=self.context.value(), prompts=self.prompts.text().strip() or None,
                            answers=self.answers.isChecked())

    def start(self) -> str | None:
        cands = self.candidate_folders()
        if not cands:
            self.status.setText(translate("Evaluate", "Add at least one candidate model."))
            return None
        s = self.settings()
        problems = s.problems() + [f"{translate('Evaluate', 'not a model folder')}: {f}"
                                   for f in [*(x for x in [s.baseline] if x), *cands]
                                   if not (Path(f) / "config.json").is_file()]
        if problems:
            self.status.setText(f'<span style="color:#c62828">{html.escape(problems[0])}</span>')
            return None
        rec = self.service.submit(JobSpec(kind="eval", model=cands[0], params=s.to_dict()))
        self.job_id = rec.id
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.status.setText(translate("Evaluate", "Evaluation %1 queued.").replace("%1", rec.id))
        return rec.id

    def _on_event(self, job_id: str, event: p.Event) -> None:
        if job_id != self.job_id:
            if isinstance(event, p.Status) and event.status == "succeeded":
                self._load_history()  # a quantize job finished: offer its output
            return
        if isinstance(event, p.Progress) and event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            self.status.setText(event.message)
        elif isinstance(event, p.Stage):
            self.status.setText(f"{event.name}: {event.message}")
        elif isinstance(event, p.Status) and event.status in FINAL:
            self.run_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if event.status == "succeeded" else 0)
            rec = self.service.store.get(job_id)
            self.job_id = None
            if rec.status == "succeeded":
                self.status.setText(translate("Evaluate", "Done."))
                self.show_results(rec.result)
            else:
                self.status.setText(f'<span style="color:#c62828">{html.escape(rec.error or rec.status)}</span>')

    # -- results
    def show_results(self, summary: dict | None) -> None:
        self.summary = summary
        self._render()

    def _render(self) -> None:
        s = self.summary
        for button in (self.export_md, self.export_csv):  # nothing to export before a result
            button.setEnabled(bool(s))
            button.setToolTip("" if s else translate("Evaluate", "Run an evaluation first"))
        if not s:
            self.verdicts.setText(translate("Evaluate", "Results appear here after an evaluation."))
            return
        t = self.thresholds()
        variants = s["variants"]
        self.table.setRowCount(len(variants))
        lines = []
        for r, v in enumerate(variants):
            level = verdict(v["delta_pct"], v["kv"], v["baseline"], t)[0]
            text = verdict_text(level, v["delta_pct"], v["kv"])
            values = (v["name"], f"{v['perplexity']:.3f}", "" if v["delta_pct"] is None else f"{v['delta_pct']:+.2f}",
                      "" if v["agreement"] is None else f"{v['agreement']:.0%}", str(v["tokens"]),
                      f"{v['seconds']:.1f}", text)
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 6:
                    item.setForeground(pg.mkColor(LEVEL_COLOURS[level]))
                self.table.setItem(r, col, item)
            if level != "baseline":
                lines.append(f'<span style="color:{LEVEL_COLOURS[level]}">●</span> <b>{html.escape(v["name"])}</b>: '
                             f"{html.escape(text)}")
        self.verdicts.setText("<br>".join(lines))
        self.chart.clear()
        xs = list(range(len(variants)))
        brushes = [LEVEL_COLOURS[verdict(v["delta_pct"], v["kv"], v["baseline"], t)[0]] for v in variants]
        self.chart.addItem(pg.BarGraphItem(x=xs, height=[v["perplexity"] for v in variants], width=0.6, brushes=brushes))
        self.chart.getAxis("bottom").setTicks([[(i, v["name"].replace(" · ", "\n")) for i, v in enumerate(variants)]])
        self.answer_view.setHtml(self._answers_html(s))

    def _answers_html(self, s: dict) -> str:
        parts = []
        for a in s.get("answers", []):
            parts.append(f"<h4>{html.escape(a['prompt'])}</h4><table cellspacing=4>")
            for name, o in a["outputs"].items():
                toks, cut = o["tokens"], o["first_divergence"]
                if cut is None:
                    body = html.escape("".join(toks))
                else:
                    body = (html.escape("".join(toks[:cut]))
                            + f'<span style="background:#fecaca">{html.escape("".join(toks[cut:cut + 1]) or "∅")}</span>'
                            + f'<span style="color:#6b7280">{html.escape("".join(toks[cut + 1:]))}</span>')
                parts.append(f"<tr><td><b>{html.escape(name)}</b></td><td>{body}</td></tr>")
            parts.append("</table>")
        return "".join(parts) or translate("Evaluate", "No answers compared in this evaluation.")

    def _export(self, kind: str) -> None:
        if not self.summary:
            return
        name = "evaluation.md" if kind == "md" else "evaluation.csv"
        path, _ = QFileDialog.getSaveFileName(self, translate("Evaluate", "Export results"), name)
        if path:
            self.export(path, kind)

    def export(self, path: str, kind: str) -> None:
        text = report.to_markdown(self.summary, self.thresholds()) if kind == "md" else report.to_csv(
            self.summary, self.thresholds())
        Path(path).write_text(text, encoding="utf-8-sig" if kind == "csv" else "utf-8")  # BOM: Excel reads UTF-8 CSV
        self.status.setText(translate("Evaluate", "Saved %1").replace("%1", path))

    def open_with(self, tab: str | None = None, model: str | None = None, **_) -> None:
        if tab == "scan":
            self.tabs.setCurrentWidget(self.scan)
            if model:
                self.scan.model_dir.setText(model)

    def shutdown(self) -> None:
        self.scan.shutdown()
