"""The Evaluate panel's Scan tab: which layers quantization hurts, ranked, with a bar chart per layer
and per module type, and one click to keep the worst ones unquantized in the Quantize panel."""
from __future__ import annotations

import html
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from services.insight.settings import ScanSettings, scan_problems
from services.jobs import protocol as p
from services.jobs.spec import JobSpec
from widgets.charts import PALETTE, plot
from widgets.forms import pick_text_file, readonly_table, row, source_combo, spin
from widgets.i18n import translate
from widgets.jobtext import eta_text


class ScanTab(QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.service = context.jobs()
        self.job_id: str | None = None
        self.result: dict | None = None
        split = QSplitter()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        left = QWidget()
        form = QFormLayout(left)
        intro = QLabel(translate("Scan", "Quantize one layer at a time (round to nearest), everything else in "
                                         "full precision, and measure the damage on held-out text."))
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
        keep_row = QHBoxLayout()
        self.keep_n = spin(1, 64, 1)
        self.keep_button = QPushButton(translate("Scan", "Keep the top N unquantized in Quantize…"))
        self.keep_button.setEnabled(False)
        self.keep_button.clicked.connect(self.keep_in_quantize)
        keep_row.addWidget(QLabel("N"))
        keep_row.addWidget(self.keep_n)
        keep_row.addWidget(self.keep_button)
        keep_row.addStretch(1)
        rl.addLayout(keep_row)
        split.addWidget(right)
        split.setSizes([400, 600])
        self.service.event.connect(self._on_event)

    def _pick_model(self) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("Scan", "Model folder"), self.model_dir.text())
        if path:
            self.model_dir.setText(path)

    def settings(self) -> ScanSettings:
        return ScanSettings(text=self.text.currentText().strip(), max_tokens=self.max_tokens.value(),
                            context=self.context_len.value(), bits=int(self.bits.currentText()),
                            group_size=int(self.group.currentText()), unit=self.unit.currentData())

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
            self.status.setText(f'<span style="color:#c62828">{html.escape(problems[0])}</span>')
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
            return
        if isinstance(event, p.Progress) and event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            eta = eta_text(event.eta_s)
            self.status.setText(event.message + (f" · ETA {eta}" if eta else ""))
        elif isinstance(event, p.Stage):
            self.status.setText(event.message)
        elif isinstance(event, p.Status) and event.status in ("succeeded", "failed", "cancelled", "interrupted"):
            rec = self.service.store.get(job_id)
            self.job_id = None
            self.run_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if rec.status == "succeeded" else 0)
            if rec.status == "succeeded":
                self.show_result(rec.result)
                self.status.setText(translate("Scan", "Done in %1 s.").replace("%1", str((rec.result or {})
                                                                                         .get("seconds", "?"))))
            else:
                self.status.setText(translate("Scan", "Failed: %1").replace("%1", rec.error or rec.status))

    def show_result(self, r: dict | None) -> None:
        self.result = r
        if not r:
            return
        keep = r.get("keep_most_sensitive") or {}
        self.headline.setText(translate("Scan", "Unquantized perplexity %1; everything at W%2 g%3: %4; keeping %5 "
                                                "in fp16: %6.")
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
        self.keep_n.setMaximum(max(1, len(units)))
        self.keep_button.setEnabled(bool(units))

    def keep_list(self) -> list[str]:
        if not self.result:
            return []
        return [u["name"] for u in self.result["units"][: self.keep_n.value()]]

    def keep_in_quantize(self) -> bool:
        """Open the Quantize panel on this model with the most sensitive layers in "keep unquantized"."""
        return bool(self.result) and self.context.open_panel("quantize", model=self.result["model"],
                                                             keep=self.keep_list())

    def shutdown(self) -> None:
        self.service.event.disconnect(self._on_event)
