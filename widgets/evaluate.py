"""The Evaluate panel: baseline and candidates, text, KV policies, simulated precisions and prompts in; a job
(here or on a cluster); results out. Tabs: Compare models, Scan layers (widgets/scan.py), Frontier
(widgets/frontier.py)."""
from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
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
from app.workers import run_in_background
from services.evaluate import report
from services.evaluate.precision import PRECISIONS
from services.evaluate.settings import EvalSettings
from services.evaluate.verdict import Thresholds, verdict
from services.jobs import protocol as p
from services.jobs.spec import JobSpec
from services.jobs.store import FINAL
from widgets import charts
from widgets.forms import (
    dspin,
    narrow_combo,
    pick_text_file,
    readonly_table,
    reason_label,
    row,
    scrolling,
    show_reason,
    source_combo,
    spin,
)
from widgets.frontier import FrontierTab
from widgets.i18n import translate
from widgets.jobtext import error_text, status_text
from widgets.livecheck import checks_html
from widgets.panel import Panel
from widgets.run_on import RunOnCombo
from widgets.scan import ScanTab
from widgets.service_text import translate_service
from widgets.theme import colour, status_colour

KV_CHOICES = ("fp16", "int8", "int4", "fp8")
PRECISION_CHOICES = ("w4a16", "w4a8", "w4a8kv4", "w4a8kv8", "w8a8", "w8a8kv4")
GROUP_CHOICES = (-1, 128)


def level_word(level: str) -> str:
    return {"baseline": translate("Evaluate", "baseline"), "fine": translate("Evaluate", "fine"),
            "caution": translate("Evaluate", "check answers"), "bad": translate("Evaluate", "do not ship")}[level]


def level_colour(level: str) -> str:
    """The active theme's colour of a verdict level (baseline, fine, caution, bad)."""
    return colour("muted") if level == "baseline" else status_colour(level)


def local_time(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "?"


def results_of(rec) -> str:
    """Which run the results shown are from: its local time, job id and candidate folders."""
    folders = [rec.model, *(rec.spec.params.get("also") or [])]
    return (translate("Evaluate", "Results of the evaluation of %1 (job %2): %3")
            .replace("%1", local_time(rec.finished or rec.created)).replace("%2", rec.id)
            .replace("%3", ", ".join(Path(f).name or f for f in folders if f)))


def _num(value: object, default: float | None = None) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def clean_summary(summary: object) -> dict | None:
    """An evaluation's result as the panel shows it: fields an older QuantDesk did not write, or wrote with other
    types, read as missing (a record never stops the panel from opening)."""
    if not isinstance(summary, dict) or not isinstance(summary.get("variants"), list):
        return None
    variants = []
    for v in summary["variants"]:
        if not isinstance(v, dict):
            continue
        variants.append({**v, "name": str(v.get("name") or "?"), "kv": v["kv"] if isinstance(v.get("kv"), str) else "fp16",
                         "baseline": v.get("baseline") is True, "perplexity": _num(v.get("perplexity")),
                         "delta_pct": _num(v.get("delta_pct")), "agreement": _num(v.get("agreement")),
                         "tokens": int(_num(v.get("tokens"), 0) or 0), "seconds": _num(v.get("seconds"), 0.0) or 0.0})
    answers = [a for a in summary.get("answers") or [] if isinstance(a, dict) and isinstance(a.get("outputs"), dict)
               and isinstance(a.get("prompt"), str)] if isinstance(summary.get("answers"), list) else []
    return {**summary, "variants": variants, "answers": answers} if variants else None


class EvaluatePanel(Panel):
    PANEL_ID = "evaluate"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Perplexity, answer comparison and KV-cache int8/int4/fp8 quality.")

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(context, parent)
        self.service = context.jobs()
        self.job_id: str | None = None
        self.summary: dict | None = None
        self.remote_plan = None  # the last cluster check (services/clusters/preflight.RemotePlan)

        split = QSplitter()
        self.tabs = QTabWidget()
        self.tabs.addTab(split, translate("Evaluate", "Compare models"))
        self.scan = ScanTab(context)
        self.tabs.addTab(self.scan, translate("Evaluate", "Scan layers"))
        self.frontier = FrontierTab(context)
        self.frontier.jobSelected.connect(self.open_job)
        self.tabs.addTab(self.frontier, translate("Evaluate", "Frontier"))
        self._layout.addWidget(self.tabs, 1)
        left = QWidget()  # the form scrolls on a small window; Run and its status stay in view below it
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        form_box = QWidget()
        form = QVBoxLayout(form_box)
        form.setContentsMargins(0, 0, 0, 0)
        self.form_area = scrolling(form_box)
        left_layout.addWidget(self.form_area, 1)
        split.addWidget(left)

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
        self.finished = narrow_combo(QComboBox(), 8)
        self.finished.setToolTip(translate("Evaluate", "Outputs of finished quantization jobs"))
        add_job = QPushButton(translate("Evaluate", "Add"))
        add_job.clicked.connect(lambda: self.add_candidate(self.finished.currentData()))
        remove = QPushButton(translate("Evaluate", "Remove"))
        remove.clicked.connect(lambda: self.candidates.takeItem(self.candidates.currentRow()))
        mf.addRow(row(add_dir, self.finished, add_job, remove))
        self.run_on = RunOnCombo()
        mf.addRow(translate("Evaluate", "Run on"), self.run_on)
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
        precision_row = QGridLayout()  # three to a row: the form stays narrow enough for the results beside it
        self.precisions = {n: QCheckBox(PRECISIONS[n].label) for n in PRECISION_CHOICES}
        for i, box in enumerate(self.precisions.values()):
            box.setToolTip(translate("Evaluate", "Simulate this precision on the first candidate (an unquantized "
                                                 "model): W weight bits, A activation bits, KV cache bits"))
            precision_row.addWidget(box, i // 3, i % 3)
        df.addRow(translate("Evaluate", "Simulated precisions"), precision_row)
        group_row = QHBoxLayout()
        self.groups = {g: QCheckBox(translate("Evaluate", "per channel") if g == -1 else str(g)) for g in GROUP_CHOICES}
        self.groups[128].setChecked(True)
        for box in self.groups.values():
            group_row.addWidget(box)
        group_row.addStretch(1)
        df.addRow(translate("Evaluate", "Weight groups"), group_row)
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
        df.addRow(translate("Evaluate", "Prompts"), row(self.prompts, pick_prompts))
        df.addRow("", self.answers)
        self.fine = dspin(0.0, 1000.0, 3.0, suffix=" %")
        self.caution = dspin(0.0, 1000.0, 10.0, suffix=" %")
        verdict_grid = QGridLayout()  # one threshold a line: the form stays narrow
        for i, (text, box) in enumerate(((translate("Evaluate", "fine up to"), self.fine),
                                         (translate("Evaluate", "do not ship above"), self.caution))):
            verdict_grid.addWidget(QLabel(text), i, 0)
            verdict_grid.addWidget(box, i, 1)
        verdict_grid.setColumnStretch(2, 1)
        df.addRow(translate("Evaluate", "Verdict (+% perplexity)"), verdict_grid)
        form.addWidget(data)
        form.addStretch(1)

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
        left_layout.addLayout(run_row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        left_layout.addWidget(self.status)

        results = QWidget()
        rl = QVBoxLayout(results)
        rl.setContentsMargins(0, 0, 0, 0)
        self.results_of = QLabel()  # which run the results are from
        self.results_of.setObjectName("resultsOf")
        self.results_of.setWordWrap(True)
        self.results_of.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        rl.addWidget(self.results_of)
        self.verdicts = QLabel()
        self.verdicts.setWordWrap(True)
        rl.addWidget(self.verdicts)
        tabs = QTabWidget()
        # the verdict second and short (its full line is above the tabs and in its tooltip): seen at 1024 px
        self.table = readonly_table([
            translate("Evaluate", "Variant"), translate("Evaluate", "Verdict"), translate("Evaluate", "Perplexity"),
            translate("Evaluate", "Δ %"), translate("Evaluate", "Agreement"), translate("Evaluate", "Tokens"),
            translate("Evaluate", "Time (s)")], stretch=6)
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
        self.export_reason = reason_label()  # why Export is greyed out, readable without hovering
        export.addWidget(self.export_md)
        export.addWidget(self.export_csv)
        export.addWidget(self.export_reason, 1)
        export.addStretch(0)  # the buttons keep their size while there is no reason to show
        rl.addLayout(export)
        results.setMinimumWidth(260)
        split.addWidget(results)
        split.setStretchFactor(0, 0)  # extra width goes to the results (the verdict column)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        split.setSizes([self.form_area.minimumSizeHint().width(), 600])

        self.fine.valueChanged.connect(self._render)
        self.caution.valueChanged.connect(self._render)
        self.service.event.connect(self._on_event)
        self.show_results(None)
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
            if rec.kind == "eval" and rec.status == "succeeded" and rec.result and latest is None:
                latest = rec
        if latest is not None and self.job_id is None:
            self.show_results(latest.result, results_of(latest))

    # -- running
    def settings(self) -> EvalSettings:
        cands = self.candidate_folders()
        return EvalSettings(baseline=self.baseline.text().strip() or None, also=cands[1:],
                            kv=[k for k, box in self.kv.items() if box.isChecked()] or ["fp16"],
                            text=self.text.currentText().strip(), max_tokens=self.max_tokens.value(),
                            context=self.context.value(), prompts=self.prompts.text().strip() or None,
                            answers=self.answers.isChecked(),
                            precision=[n for n, box in self.precisions.items() if box.isChecked()],
                            group_size=[g for g, box in self.groups.items() if box.isChecked()])

    def start(self) -> str | None:
        """Submit the evaluation (on a cluster: after its check, in a worker); the job id when submitted here."""
        cands = self.candidate_folders()
        if not cands:
            self._error(translate("Evaluate", "Add at least one candidate model."))
            return None
        s = self.settings()
        cluster = self.run_on.cluster()
        problems = s.problems()
        if s.precision and not s.group_size:
            problems.insert(0, translate("Evaluate", "Tick at least one weight group (per channel or 128) for the "
                                                     "simulated precisions."))
        folders = [*(x for x in [s.baseline] if x), *cands]
        # on a cluster a path may be the cluster's own (not here): checked there
        problems += [f"{translate('Evaluate', 'not a model folder')}: {f}" for f in folders
                     if not (Path(f) / "config.json").is_file() and not (cluster and not Path(f).exists())]
        if not problems and s.precision and (Path(cands[0]) / "config.json").is_file():
            from services.evaluate.preflight import check_precision

            problems += check_precision(cands[0], s.precision, s.group_size)
        if problems:
            self._error(problems[0])
            return None
        spec = JobSpec(kind="eval", model=cands[0], params=s.to_dict())
        if cluster:
            from services.clusters.preflight import check_on_cluster

            self.run_button.setEnabled(False)
            self.status.setText(translate("Evaluate", "Checking cluster %1…").replace("%1", cluster))
            run_in_background(check_on_cluster, cluster, spec, on_result=self._remote_checked,
                              on_error=lambda msg, tb: self._remote_failed(msg), name="evaluate-remote-check")
            return None
        return self._submit(spec)

    def _error(self, text: str) -> None:
        """`text` in red (a service's message in the interface's language)."""
        self.status.setText(f'<span style="color:{colour("error")}">{html.escape(translate_service(text))}</span>')

    def _remote_failed(self, message: str) -> None:
        self.run_button.setEnabled(True)
        self._error(message)

    def _remote_checked(self, plan) -> None:
        """The cluster's answer: errors stop the job; otherwise it is submitted in the cluster's view."""
        self.remote_plan = plan
        self.run_button.setEnabled(True)
        if not plan.ok:
            self.status.setText(checks_html(plan.errors, plan.warnings, plan.notes, None))
            return
        job = self._submit(plan.spec)
        self.status.setText(checks_html([], plan.warnings, plan.notes, translate(
            "Evaluate", "Evaluation %1 runs on cluster %2.").replace("%1", job)
            .replace("%2", plan.spec.executor.partition(":")[2])))

    def _submit(self, spec: JobSpec) -> str:
        rec = self.service.submit(spec)
        self.job_id = rec.id
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.status.setText(translate("Evaluate", "Evaluation %1 queued.").replace("%1", rec.id))
        self.show_results(None, translate("Evaluate", "Results of a run in progress…"))  # not the last run's
        return rec.id

    def showEvent(self, event) -> None:
        self.run_on.refresh()  # clusters may have changed in Settings
        super().showEvent(event)

    def open_job(self, job_id: str) -> bool:
        """Show a finished evaluation (a frontier point's) in Compare models."""
        try:
            rec = self.service.store.get(job_id)
        except KeyError:
            return False
        if rec.status != "succeeded" or not rec.result:
            return False
        self.show_results(rec.result, results_of(rec))
        self.tabs.setCurrentIndex(0)
        self.status.setText(translate("Evaluate", "Showing evaluation %1.").replace("%1", job_id))
        return True

    def _on_event(self, job_id: str, event: p.Event) -> None:
        if job_id != self.job_id:
            if isinstance(event, p.Status) and event.status == "succeeded":
                self._load_history()  # a quantize job finished: offer its output
                self.frontier.refresh()  # or an evaluation from elsewhere (the CLI, a comparison)
            return
        if isinstance(event, p.Progress) and event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            self.status.setText(translate_service(event.message))
        elif isinstance(event, p.Stage):
            self.status.setText(f"{translate_service(event.name)}: {translate_service(event.message)}")
        elif isinstance(event, p.Status) and event.status in FINAL:
            self.run_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if event.status == "succeeded" else 0)
            rec = self.service.store.get(job_id)
            self.job_id = None
            if rec.status == "succeeded":
                self.status.setText(translate("Evaluate", "Done."))
                self.show_results(rec.result, results_of(rec))
                self.frontier.refresh()
            else:
                self.show_results(None)
                self._error(error_text(rec.error) if rec.error else status_text(rec.status))

    # -- results
    def show_results(self, summary: dict | None, source: str = "") -> None:
        """Show `summary` (None: no results); `source` says which run they are from."""
        self.summary = clean_summary(summary)
        self.results_of.setText(source)
        self.results_of.setVisible(bool(source))
        self._render()

    def _render(self) -> None:
        s = self.summary
        reason = "" if s else translate("Evaluate", "Run an evaluation first")
        for button in (self.export_md, self.export_csv):  # nothing to export before a result
            button.setEnabled(bool(s))
            button.setToolTip(reason)
        show_reason(self.export_reason, reason)
        if not s:
            self.verdicts.setText(translate("Evaluate", "Results appear here after an evaluation."))
            self.table.setRowCount(0)
            self.chart.clear()
            self.answer_view.clear()
            return
        t = self.thresholds()
        variants = s["variants"]
        self.table.setRowCount(len(variants))
        lines = []
        for r, v in enumerate(variants):
            level, english = verdict(v["delta_pct"], v["kv"], v["baseline"], t, agreement=v.get("agreement"))
            text = translate_service(english)
            values = (v["name"], "● " + level_word(level), "" if v["perplexity"] is None else f"{v['perplexity']:.3f}",
                      "" if v["delta_pct"] is None else f"{v['delta_pct']:+.2f}",
                      "" if v["agreement"] is None else f"{v['agreement']:.0%}", str(v["tokens"]), f"{v['seconds']:.1f}")
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 1:
                    item.setForeground(pg.mkColor(level_colour(level)))
                    item.setToolTip(text)
                    item.setData(Qt.ItemDataRole.UserRole, text)
                self.table.setItem(r, col, item)
            if level != "baseline":
                lines.append(f'<span style="color:{level_colour(level)}">●</span> <b>{html.escape(v["name"])}</b>: '
                             f"{html.escape(text)}")
        self.verdicts.setText("<br>".join(lines))
        self.chart.clear()
        xs = list(range(len(variants)))
        brushes = [level_colour(verdict(v["delta_pct"], v["kv"], v["baseline"], t, agreement=v.get("agreement"))[0])
                   for v in variants]
        self.chart.addItem(pg.BarGraphItem(x=xs, height=[v["perplexity"] or 0.0 for v in variants], width=0.6,
                                           brushes=brushes))
        self.chart.getAxis("bottom").setTicks([[(i, v["name"].replace(" · ", "\n")) for i, v in enumerate(variants)]])
        self.answer_view.setHtml(self._answers_html(s))

    def _answers_html(self, s: dict) -> str:
        parts = []
        for a in s.get("answers", []):
            parts.append(f"<h4>{html.escape(a['prompt'])}</h4><table cellspacing=4>")
            for name, o in a["outputs"].items():
                if not isinstance(o, dict) or not isinstance(o.get("tokens"), list):
                    continue
                toks = [str(t) for t in o["tokens"]]
                cut = o.get("first_divergence") if isinstance(o.get("first_divergence"), int) else None
                if cut is None:
                    body = html.escape("".join(toks))
                else:
                    body = (html.escape("".join(toks[:cut]))
                            + f'<span style="background:{colour("error_bg")}">'
                            f'{html.escape("".join(toks[cut:cut + 1]) or "∅")}</span>'
                            + f'<span style="color:{colour("muted")}">{html.escape("".join(toks[cut + 1:]))}</span>')
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

    def open_with(self, tab: str | None = None, model: str | None = None, candidate: str | None = None,
                  baseline: str | None = None, job: str | None = None, **_) -> None:
        """From another panel: the Scan tab on a model, a finished output to compare with its source, or a finished
        evaluation's results."""
        if tab == "scan":
            self.tabs.setCurrentWidget(self.scan)
            if model:
                self.scan.model_dir.setText(model)
            return
        if job:
            self.open_job(job)
            return
        if candidate:
            self.tabs.setCurrentIndex(0)
            if baseline:
                self.baseline.setText(baseline)
            self.candidates.clear()  # "Evaluate this": this output, not whatever the form held before
            self.add_candidate(candidate)
            shown = {v.get("model") for v in (self.summary or {}).get("variants", [])}
            if candidate not in shown:  # another model's results would sit beside this form
                self.show_results(None)

    def retheme(self) -> None:
        self._render()  # the verdicts' colours

    def shutdown(self) -> None:
        self.scan.shutdown()
