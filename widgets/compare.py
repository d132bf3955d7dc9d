"""Compare methods: the dialog that sets a comparison up, and the window that follows it
(size, time, perplexity and agreement side by side, and perplexity against size)."""
from __future__ import annotations

import html
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.workers import run_in_background
from services.jobs import protocol as p
from services.jobs.group import group_records
from services.quant.backends import methods
from services.quant.compare import DEFAULT_METHODS, ComparePlan, comparison_rows, evaluation_record, plan_compare
from widgets.charts import PALETTE, export_png, plot
from widgets.forms import pick_text_file, readonly_table, row, source_combo, spin
from widgets.i18n import translate
from widgets.jobtext import status_text
from widgets.theme import colour


class CompareDialog(QDialog):
    """Pick the methods and the held-out text; `plan` is set when the user accepts a plan that checked out."""

    def __init__(self, context: AppContext, model: str, shared: dict, out_dir: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(translate("Compare", "Compare methods"))
        self.model, self.shared = model, shared
        self.plan: ComparePlan | None = None
        form = QFormLayout(self)
        form.addRow(QLabel(translate("Compare", "Quantize %1 with each method ticked (the same calibration "
                                                "tokens), then score every output on the same held-out text.")
                           .replace("%1", Path(model).name)))
        ticks = QHBoxLayout()
        self.ticks: dict[str, QCheckBox] = {}
        for m in methods():
            self.ticks[m] = box = QCheckBox(m)
            box.setChecked(m in DEFAULT_METHODS)
            ticks.addWidget(box)
        form.addRow(translate("Compare", "Methods"), ticks)
        self.group_size = QComboBox()
        for g in (128, 64, 32):
            self.group_size.addItem(str(g), g)
        form.addRow(translate("Compare", "Group size (AWQ, GPTQ)"), self.group_size)
        self.text = source_combo(context.settings, "wikitext2")
        browse = QPushButton(translate("Compare", "File…"))
        browse.clicked.connect(lambda: pick_text_file(self, self.text, translate("Compare", "Held-out text")))
        form.addRow(translate("Compare", "Held-out text"), row(self.text, browse))
        self.context_len = spin(8, 32768, 512)
        form.addRow(translate("Compare", "Context"), self.context_len)
        self.answers = QCheckBox(translate("Compare", "compare answers to the built-in prompts"))
        self.answers.setChecked(True)
        form.addRow(self.answers)
        self.out_dir = QLineEdit(out_dir)
        out_browse = QPushButton(translate("Compare", "Browse…"))
        out_browse.clicked.connect(self._pick_out)
        form.addRow(translate("Compare", "Output folder"), row(self.out_dir, out_browse))
        self.errors = QLabel()
        self.errors.setWordWrap(True)
        self.errors.setStyleSheet(f"color:{colour('error')}")
        form.addRow(self.errors)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(translate("Compare", "Start"))
        self.buttons.accepted.connect(self.check)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def _pick_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("Compare", "Output folder"), self.out_dir.text())
        if path:
            self.out_dir.setText(path)

    def chosen(self) -> list[str]:
        return [m for m, box in self.ticks.items() if box.isChecked()]

    def check(self) -> None:
        """Plan in a worker (pre-flight reads the model); accept when every method checks out."""
        out = self.out_dir.text().strip()
        if not out or not Path(out).is_absolute():
            self.errors.setText(translate("Compare", "Give an absolute output folder."))
            return
        self.buttons.setEnabled(False)
        self.errors.setText(translate("Compare", "Checking…"))
        run_in_background(_plan_or_problem, Path(self.model), self.chosen(), Path(out), self.shared,
                          self.text.currentText().strip(), group_size=self.group_size.currentData(),
                          context=self.context_len.value(), answers=self.answers.isChecked(),
                          on_result=self._planned, on_error=lambda msg, tb: self._planned(msg),
                          name="compare-plan")

    def _planned(self, plan: ComparePlan | str) -> None:
        self.buttons.setEnabled(True)
        if isinstance(plan, str):
            self.errors.setText(html.escape(plan).replace("; ", "<br>"))
            return
        self.plan = plan
        self.accept()


class ComparisonWindow(QDialog):
    """A comparison's table and chart, live while its jobs run and from history afterwards."""

    COLUMNS = 7

    def __init__(self, context: AppContext, group_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(translate("Compare", "Method comparison: %1").replace("%1", group_id))
        self.setWindowFlag(Qt.WindowType.Window)
        self.resize(900, 680)
        self.service, self.group_id = context.jobs(), group_id
        self.rows: list[dict] = []
        layout = QVBoxLayout(self)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.table = readonly_table([
            translate("Compare", "Method"), translate("Compare", "Status"), translate("Compare", "Size (GiB)"),
            translate("Compare", "Quantize s"), translate("Compare", "Perplexity"), translate("Compare", "Δ"),
            translate("Compare", "Agreement")], stretch=0)
        self.table.verticalHeader().setDefaultSectionSize(24)
        layout.addWidget(self.table, 1)
        self.chart = plot(translate("Compare", "Quality against size"), translate("Compare", "size (GiB)"),
                          translate("Compare", "perplexity (lower is better)"))
        layout.addWidget(self.chart, 1)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton(translate("Compare", "Cancel comparison"))
        self.cancel_button.clicked.connect(lambda: self.service.cancel_group(self.group_id))
        self.save_button = QPushButton(translate("Compare", "Save chart…"))
        self.save_button.clicked.connect(self._save)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        self._ids: set[str] = set()
        self.service.event.connect(self._on_event)
        self.service.groupEnded.connect(self._on_group_ended)
        self.refresh()

    def _on_event(self, job_id: str, event: p.Event) -> None:
        if isinstance(event, p.Status) and (job_id in self._ids or event.status == "queued"):
            self.refresh()

    def _on_group_ended(self, group_id: str) -> None:
        if group_id == self.group_id:
            self.refresh()

    def refresh(self) -> None:
        records = group_records(self.service.store, self.group_id)
        self._ids = {r.id for r in records}
        ev = evaluation_record(records)
        self.rows = comparison_rows(records)
        group = self.service.groups.get(self.group_id)
        running = group.status == "running" if group else any(not r.final for r in records)
        self.cancel_button.setEnabled(running)
        if running:
            done = sum(1 for r in records if r.final)
            self.status.setText(translate("Compare", "Running: %1 of %2 jobs ended. Each job is also in the Jobs "
                                                     "panel.").replace("%1", str(done))
                                .replace("%2", str(len(records) + (0 if ev else 1))))
        elif ev is not None and ev.status == "succeeded":
            r = ev.result or {}
            self.status.setText(translate("Compare", "%1 held-out tokens, context %2. Δ is the perplexity change "
                                                     "against the source; agreement is greedy answers matching it.")
                                .replace("%1", str(r.get("tokens", "?"))).replace("%2", str(r.get("context", "?"))))
        else:
            why = (group.error if group else None) or (ev.error if ev else None) or ""
            self.status.setText(translate("Compare", "The comparison did not finish. %1").replace("%1", why))
        failed = [f"{r['method']}: {r['error']}" for r in self.rows if r["status"] != "succeeded" and r.get("error")]
        if failed:
            self.status.setText(self.status.text() + "\n" + "\n".join(failed))
        self._fill()

    def _label(self, method: str) -> str:
        return translate("Compare", "source (unquantized)") if method == "source" else method

    def _fill(self) -> None:
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            cells = [self._label(r["method"]), status_text(r["status"]),
                     _num(r["output_bytes"], 1024**3, "{:.4f}"), _num(r["quantize_s"], 1, "{:.1f}"),
                     _num(r["perplexity"], 1, "{:.3f}"), _num(r["delta_pct"], 1, "{:+.2f}%"),
                     _num(r["agreement"], 0.01, "{:.0f}%")]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if r.get("error"):
                    item.setToolTip(r["error"])
                if col >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, col, item)
        self._plot()

    def _plot(self) -> None:
        self.chart.clear()
        points = [r for r in self.rows if r["output_bytes"] and r["perplexity"]]
        right = max((r["output_bytes"] for r in points), default=0)
        for i, r in enumerate(points):
            dot = colour("text") if r["method"] == "source" else PALETTE[i % len(PALETTE)]
            x, y = r["output_bytes"] / 1024**3, r["perplexity"]
            self.chart.addItem(pg.ScatterPlotItem([x], [y], size=11, brush=pg.mkBrush(dot), pen=None))
            label = pg.TextItem(self._label(r["method"]), color=dot, anchor=(1, 1) if r["output_bytes"] == right else (0, 1))
            label.setPos(x, y)
            self.chart.addItem(label)
        if points:
            xs = [r["output_bytes"] / 1024**3 for r in points]
            ys = [r["perplexity"] for r in points]
            span_x, span_y = (max(xs) - min(xs)) or max(xs), (max(ys) - min(ys)) or max(ys) * 0.01
            self.chart.setXRange(min(xs) - 0.1 * span_x, max(xs) + 0.1 * span_x, padding=0)
            self.chart.setYRange(min(ys) - 0.1 * span_y, max(ys) + 0.2 * span_y, padding=0)

    def _save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, translate("Compare", "Save chart"), f"{self.group_id}.png",
                                              "PNG (*.png)")
        if path:
            export_png(self.chart, path)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.service.event.disconnect(self._on_event)
        self.service.groupEnded.disconnect(self._on_group_ended)
        super().closeEvent(event)


def _plan_or_problem(model: Path, chosen: list[str], out: Path, shared: dict, text: str, group_size: int,
                     context: int, answers: bool) -> ComparePlan | str:
    """plan_compare, with a refusal as its message (a refusal is the user's to fix, not an error to log)."""
    try:
        return plan_compare(model, chosen, out, shared, text, group_size=group_size, context=context, answers=answers)
    except ValueError as exc:
        return str(exc)


def _num(value, scale: float, fmt: str) -> str:
    return "" if value is None else fmt.format(value / scale)
