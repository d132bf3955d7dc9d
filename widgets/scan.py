"""The Evaluate panel's Scan tab: which layers quantization hurts (round to nearest or AWQ), ranked, with a bar
chart per layer and per module type; mixed precision advice for a size budget (services/insight/advice.py), one
click to use it in the Quantize panel, and the prediction beside the measurement once that model was evaluated."""
from __future__ import annotations

import html
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from services.insight import advice, predictions
from services.insight.settings import ScanSettings, scan_problems
from services.jobs import protocol as p
from services.jobs.spec import JobSpec
from widgets.charts import PALETTE, plot
from widgets.forms import pick_text_file, readonly_table, reason_label, row, show_reason, source_combo, spin
from widgets.i18n import translate
from widgets.jobtext import error_text, eta_text, status_text
from widgets.service_text import translate_service
from widgets.theme import colour


class ScanTab(QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.service = context.jobs()
        self.job_id: str | None = None
        self.result: dict | None = None
        self.result_job: str | None = None  # the scan job whose result is shown
        split = QSplitter()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        left = QWidget()
        form = QFormLayout(left)
        intro = QLabel(translate("Scan", "Quantize one layer at a time (round to nearest, or with AWQ's "
                                         "activation-aware scales), everything else in full precision, and measure "
                                         "the damage on held-out text."))
        intro.setWordWrap(True)
        form.addRow(intro)
        self.model_dir = QLineEdit()
        self.model_dir.setPlaceholderText(translate("Scan", "Folder of the unquantized model"))
        browse = QPushButton(translate("Scan", "Browse…"))
        browse.clicked.connect(self._pick_model)
        form.addRow(translate("Scan", "Model"), row(self.model_dir, browse))
        self.text = source_combo(context.settings, "wikitext2")
        pick = QPushButton(translate("Scan", "File…"))
        pick.clicked.connect(lambda: pick_text_file(self, self.text, translate("Scan", "Held-out text")))
        form.addRow(translate("Scan", "Held-out text"), row(self.text, pick))
        self.bits = QComboBox()
        self.bits.addItems(["4", "3", "8"])
        self.group = QComboBox()
        self.group.addItems(["128", "64", "32"])
        self.unit = QComboBox()
        self.unit.addItem(translate("Scan", "one linear layer"), "layer")
        self.unit.addItem(translate("Scan", "one decoder block"), "block")
        self.method = QComboBox()
        self.method.addItem(translate("Scan", "round to nearest"), "rtn")
        self.method.addItem(translate("Scan", "AWQ (activation-aware scales)"), "awq")
        self.method.setToolTip(translate("Scan", "AWQ searches each layer's scales on calibration text: the tokens "
                                                 "after the scored ones in the held-out text"))
        form.addRow(translate("Scan", "Method"), self.method)
        form.addRow(translate("Scan", "Bits"), self.bits)
        form.addRow(translate("Scan", "Group size"), self.group)
        form.addRow(translate("Scan", "Unit"), self.unit)
        self.max_tokens = spin(16, 1_000_000, 2048)
        self.context_len = spin(8, 32768, 512)
        form.addRow(translate("Scan", "Tokens"), self.max_tokens)
        form.addRow(translate("Scan", "Context"), self.context_len)
        self.run_button = QPushButton(translate("Scan", "Run scan"))
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton(translate("Scan", "Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(lambda: self.job_id and self.service.cancel(self.job_id))
        self.progress = QProgressBar()
        form.addRow(row(self.run_button, self.cancel_button, self.progress))
        self.status = QLabel()
        self.status.setWordWrap(True)
        form.addRow(self.status)
        split.addWidget(left)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        rl.addWidget(self.headline)
        tabs = QTabWidget()
        self.table = readonly_table([translate("Scan", "Rank"), translate("Scan", "Layer"), translate("Scan", "KL"),
                                     translate("Scan", "Perplexity Δ"), translate("Scan", "MB saved")], stretch=1)
        tabs.addTab(self.table, translate("Scan", "Ranking"))
        self.layer_chart = plot(translate("Scan", "KL divergence per layer"), "", "KL")
        tabs.addTab(self.layer_chart, translate("Scan", "Per layer"))
        self.type_chart = plot(translate("Scan", "Summed KL per module type"), "", "KL")
        tabs.addTab(self.type_chart, translate("Scan", "Per module type"))
        rl.addWidget(tabs, 1)
        budget_row = QHBoxLayout()
        self.budget = QSlider(Qt.Orientation.Horizontal)
        self.budget.setRange(0, 200)
        self.budget.setValue(20)
        self.budget.setEnabled(False)
        self.budget.valueChanged.connect(self._render_advice)
        self.budget_label = QLabel()
        self.use_button = QPushButton(translate("Scan", "Use in Quantize"))
        self.use_button.setToolTip(translate("Scan", "Open the Quantize panel on this model with these layers in "
                                                     "\"Keep unquantized\""))
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.keep_in_quantize)
        budget_row.addWidget(QLabel(translate("Scan", "fp16 budget")))
        budget_row.addWidget(self.budget, 1)
        budget_row.addWidget(self.budget_label)
        budget_row.addWidget(self.use_button)
        rl.addLayout(budget_row)
        self.use_reason = reason_label()  # why "Use in Quantize" is greyed out, readable without hovering
        self.use_reason.setAlignment(Qt.AlignmentFlag.AlignRight)
        rl.addWidget(self.use_reason)
        self.advice = QLabel()
        self.advice.setWordWrap(True)
        self.advice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        rl.addWidget(self.advice)
        self.measured = QLabel()
        self.measured.setWordWrap(True)
        rl.addWidget(self.measured)
        split.addWidget(right)
        split.setSizes([400, 600])
        self.service.event.connect(self._on_event)
        self._render_advice()
        self._load_latest()

    def _load_latest(self) -> None:
        """Show the newest finished scan (its advice and any measurement of it)."""
        rec = next((r for r in self.service.store.list() if r.kind == "scan" and r.status == "succeeded"
                    and r.result), None)
        if rec is not None:
            self.result_job = rec.id
            self.show_result(rec.result)

    def _pick_model(self) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("Scan", "Model folder"), self.model_dir.text())
        if path:
            self.model_dir.setText(path)

    def settings(self) -> ScanSettings:
        return ScanSettings(text=self.text.currentText().strip(), max_tokens=self.max_tokens.value(),
                            context=self.context_len.value(), bits=int(self.bits.currentText()),
                            group_size=int(self.group.currentText()), unit=self.unit.currentData(),
                            method=self.method.currentData())

    def start(self) -> str | None:
        model = self.model_dir.text().strip()
        s = self.settings()
        problems = s.problems()
        if not model or not Path(model).is_absolute():
            problems.insert(0, translate("Scan", "Pick the model folder (a full path)."))
        elif not s.text:
            problems.insert(0, translate("Scan", "Pick the held-out text."))
        else:
            problems = scan_problems(model, s)
        if problems:
            self.status.setText(f'<span style="color:{colour("error")}">{html.escape(translate_service(problems[0]))}'
                                "</span>")
            return None
        rec = self.service.submit(JobSpec(kind="scan", model=model, params=s.to_dict()))
        self.job_id = rec.id
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.status.setText(translate("Scan", "Job %1 queued.").replace("%1", rec.id))
        return rec.id

    def _on_event(self, job_id: str, event: p.Event) -> None:
        if job_id != self.job_id:
            if isinstance(event, p.Status) and event.status == "succeeded" and self.result:
                self._render_measured()  # an evaluation of the advised model may have finished
            return
        if isinstance(event, p.Progress) and event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            eta = eta_text(event.eta_s)
            self.status.setText(translate_service(event.message) + (
                " · " + translate("Scan", "ETA %1").replace("%1", eta) if eta else ""))
        elif isinstance(event, p.Stage):
            self.status.setText(translate_service(event.message))
        elif isinstance(event, p.Status) and event.status in ("succeeded", "failed", "cancelled", "interrupted"):
            rec = self.service.store.get(job_id)
            self.job_id = None
            self.run_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if rec.status == "succeeded" else 0)
            if rec.status == "succeeded":
                self.result_job = rec.id
                self.show_result(rec.result)
                self.status.setText(translate("Scan", "Done in %1 s.").replace("%1", str((rec.result or {})
                                                                                         .get("seconds", "?"))))
            else:
                self.status.setText(translate("Scan", "Failed: %1").replace(
                    "%1", error_text(rec.error) if rec.error else status_text(rec.status)))

    def show_result(self, r: dict | None) -> None:
        self.result = r
        if not r:
            return
        keep = r.get("keep_most_sensitive") or {}
        headline = translate("Scan", "Unquantized perplexity %1; everything at W%2 g%3: %4; keeping %5 in fp16: %6.")
        if r.get("method") == "awq":
            headline = translate("Scan", "Unquantized perplexity %1; everything at W%2 g%3 with AWQ scales: %4; "
                                         "keeping %5 in fp16: %6.")
        self.headline.setText(headline
                              .replace("%1", f"{r['base_perplexity']:.3f}").replace("%2", str(r["bits"]))
                              .replace("%3", str(r["group_size"]))
                              .replace("%4", f"{r['all_quantized']['perplexity']:.3f}")
                              .replace("%5", str(keep.get("name", "—")))
                              .replace("%6", f"{keep['perplexity']:.3f}" if keep else "—"))
        units = r["units"]
        self.table.setRowCount(len(units))
        for i, u in enumerate(units):
            saved = (u["fp16_bytes"] - u["quantized_bytes"]) / 1e6
            for col, text in enumerate((str(u["rank"]), u["name"], f"{u['kl']:.5f}", f"{u['delta_pct']:+.2f}%",
                                        f"{saved:.2f}")):
                self.table.setItem(i, col, QTableWidgetItem(text))
        self.layer_chart.clear()
        in_order = sorted(units, key=lambda u: (u["block"], u["name"]))
        self.layer_chart.addItem(pg.BarGraphItem(x=list(range(len(in_order))), height=[u["kl"] for u in in_order],
                                                 width=0.8, brush=PALETTE[0]))
        self.layer_chart.getAxis("bottom").setTicks([[(i, u["name"].replace("model.layers.", ""))
                                                      for i, u in enumerate(in_order)][:: max(1, len(in_order) // 12)]])
        types = r.get("by_type", [])
        self.type_chart.clear()
        self.type_chart.addItem(pg.BarGraphItem(x=list(range(len(types))), height=[t["kl"] for t in types],
                                                width=0.6, brush=PALETTE[1]))
        self.type_chart.getAxis("bottom").setTicks([[(i, t["type"]) for i, t in enumerate(types)]])
        self.budget.setEnabled(bool(units))
        self._render_advice()

    # -- mixed precision advice
    def budget_mb(self) -> float:
        if not self.result:
            return 0.0
        return advice.max_budget_mb(self.result) * self.budget.value() / self.budget.maximum()

    def set_budget_mb(self, mb: float) -> None:
        """Move the slider to the step nearest `mb` (tests and other panels)."""
        top = advice.max_budget_mb(self.result) if self.result else 0.0
        self.budget.setValue(round(self.budget.maximum() * min(1.0, mb / top)) if top else 0)

    def current_advice(self) -> dict | None:
        return advice.advise(self.result, self.budget_mb()) if self.result else None

    def _render_advice(self, *_) -> None:
        adv = self.current_advice()
        self.budget_label.setText(translate("Scan", "%1 MB").replace("%1", f"{self.budget_mb():.2f}"))
        if adv is None:
            self.advice.setText("")
            self.use_button.setEnabled(False)
            show_reason(self.use_reason, translate("Scan", "Run a scan first"))
            return
        n = len(adv["keep"])
        if n:
            text = (translate("Scan", "Keep these %1 layers in fp16: +%2 MB, perplexity from %3 to %4 (predicted).")
                    .replace("%1", str(n)).replace("%2", f"{adv['extra_mb']:.2f}")
                    .replace("%3", f"{adv['from_perplexity']:.3f}").replace("%4", f"{adv['to_perplexity']:.3f}"))
            text = html.escape(text) + "<br>" + "<br>".join(f"<code>{html.escape(k)}</code>" for k in adv["keep"][:12])
            if n > 12:
                text += "<br>…"
        else:
            text = html.escape(translate("Scan", "No layer fits in this budget: move the slider right."))
        self.advice.setText(text)
        self.advice.setToolTip(translate("Scan", "Predicted: the unquantized perplexity plus the measured change of "
                                                 "every layer left quantized (the changes are assumed to add up)."))
        self.use_button.setEnabled(bool(n))
        show_reason(self.use_reason, "" if n else translate("Scan", "No layer fits in this budget"))
        self._render_measured()

    def _render_measured(self) -> None:
        adv = self.current_advice()
        if not adv or not adv["keep"] or not self.result:
            self.measured.setText("")
            return
        model, keep = self.result.get("model"), sorted(adv["keep"])
        saved = [q for q in predictions.load() if q.get("model") == model and sorted(q["keep"]) == keep]
        if not saved:
            self.measured.setText("")
            return
        pred = saved[-1]
        got = predictions.measured(pred, self.service.store.list())
        if got is None:
            self.measured.setText(translate("Scan", "Predicted %1 → %2; not measured yet: quantize with this list, "
                                                    "then evaluate the output.")
                                  .replace("%1", f"{pred['from_perplexity']:.3f}")
                                  .replace("%2", f"{pred['to_perplexity']:.3f}"))
            return
        self.measured.setText(translate("Scan", "Predicted %1 → %2, measured %3 (evaluation %4 of %5).")
                              .replace("%1", f"{pred['from_perplexity']:.3f}")
                              .replace("%2", f"{pred['to_perplexity']:.3f}")
                              .replace("%3", f"{got['perplexity']:.3f}").replace("%4", got["eval_job"])
                              .replace("%5", Path(got["out"]).name))

    def keep_list(self) -> list[str]:
        adv = self.current_advice()
        return list(adv["keep"]) if adv else []

    def keep_in_quantize(self) -> bool:
        """Open the Quantize panel on this model with the advised layers in "keep unquantized"; the prediction is
        saved so the measurement can stand beside it later."""
        adv = self.current_advice()
        if not self.result or not adv or not adv["keep"]:
            return False
        predictions.record(self.result_job, self.result, adv)
        self._render_measured()
        return self.context.open_panel("quantize", model=self.result["model"], keep=list(adv["keep"]))

    def shutdown(self) -> None:
        self.service.event.disconnect(self._on_event)
