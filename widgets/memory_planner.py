"""The memory planner view: model and engine settings in, breakdown and charts out."""
from __future__ import annotations

import html
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.workers import run_in_background
from services.memory import ENGINES, KV_POLICIES, WEIGHT_FORMATS, make_plan
from services.memory.planner import GIB, Plan, PlanRequest, kv_curve
from services.modelinfo import ModelShape, model_line, read_model_shape
from widgets import charts
from widgets.charts import PALETTE, export_png
from widgets.forms import dspin, row, spin
from widgets.i18n import translate
from widgets.service_text import translate_service
from widgets.theme import colour

SEGMENTS = (("weights", "#2563eb"), ("kv", "#059669"), ("other", "#d97706"), ("free", "#9ca3af"))  # read on both themes


def _gib(n: float) -> str:
    return f"{n / GIB:.2f} GiB"


class MemoryPlanner(QWidget):
    planChanged = Signal(object)  # Plan or None

    def __init__(self, gpus: list[tuple[str, int]] | None = None, parent: QWidget | None = None):
        """`gpus`: detected (name, total bytes) pairs offered in the GPU list."""
        super().__init__(parent)
        self.shape: ModelShape | None = None
        self.plan: Plan | None = None
        columns = QHBoxLayout(self)
        form_box = QWidget()
        form_box.setMaximumWidth(380)
        form = QFormLayout(form_box)
        columns.addWidget(form_box)

        self.model_dir = QLineEdit()
        self.model_dir.setPlaceholderText(translate("Monitor", "Folder with config.json"))
        self.model_dir.editingFinished.connect(lambda: self.load_model(self.model_dir.text()))
        browse = QPushButton(translate("Monitor", "Browse…"))
        browse.clicked.connect(self._browse)
        form.addRow(translate("Monitor", "Model"), row(self.model_dir, browse))
        self.saved = QComboBox()
        self.saved.setToolTip(translate("Monitor", "Outputs of finished quantization jobs"))
        self.saved.activated.connect(lambda i: self.saved.itemData(i) and self.load_model(self.saved.itemData(i)))
        form.addRow(translate("Monitor", "or a job's output"), self.saved)
        self.model_info = QLabel(translate("Monitor", "No model selected."))
        self.model_info.setWordWrap(True)
        form.addRow(self.model_info)

        self.weights = self._combo(("auto", *WEIGHT_FORMATS))
        form.addRow(translate("Monitor", "Weights"), self.weights)
        self.group = self._combo(("128", "64", "32"))
        form.addRow(translate("Monitor", "AWQ group size"), self.group)
        self.kv = self._combo(KV_POLICIES)
        form.addRow(translate("Monitor", "KV cache"), self.kv)
        self.engine = self._combo(ENGINES)
        form.addRow(translate("Monitor", "Engine"), self.engine)

        self.gpu = QComboBox()
        for name, total in gpus or []:
            self.gpu.addItem(f"{name} ({total / GIB:.1f} GiB)", total / GIB)
        for name, gib in (("RTX 2080 Ti", 11.0), ("RTX 3090 / 4090", 24.0), ("A100 / H100", 80.0)):
            self.gpu.addItem(f"{name} ({gib:g} GiB)", gib)
        self.gpu.addItem(translate("Monitor", "Custom"), None)
        self.gpu.currentIndexChanged.connect(self._gpu_picked)
        form.addRow(translate("Monitor", "GPU"), self.gpu)
        self.gpu_mem = dspin(1, 1024, 24.0, self.replan, suffix=" GiB")
        form.addRow(translate("Monitor", "GPU memory"), self.gpu_mem)
        self.utilization = dspin(0.05, 1.0, 0.9, self.replan, step=0.05)
        form.addRow(translate("Monitor", "gpu_memory_utilization"), self.utilization)
        self.cme = dspin(0.01, 100000, 0.8, self.replan, step=0.05)
        form.addRow(translate("Monitor", "cache_max_entry_count"), self.cme)
        self.tp = spin(1, 16, 1, self.replan)
        form.addRow(translate("Monitor", "Tensor parallel"), self.tp)
        self.context = spin(1, 1_048_576, 4096, self.replan, step=512)
        form.addRow(translate("Monitor", "Context length"), self.context)

        results = QVBoxLayout()
        columns.addLayout(results, 1)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("planSummary")
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        summary_area = QScrollArea()  # a long plan scrolls; the charts keep their height (1024x700 too)
        summary_area.setWidget(self.summary)
        summary_area.setWidgetResizable(True)
        summary_area.setFrameShape(QScrollArea.Shape.NoFrame)
        results.addWidget(summary_area, 1)
        self.bar = charts.plot(x_label="GiB")
        self.bar.setMaximumHeight(110)
        self.bar.hideAxis("left")
        results.addWidget(self.bar)
        self.curve = charts.plot(translate("Monitor", "KV cache of one sequence against context length"),
                                 translate("Monitor", "tokens"), "GiB", legend=True)
        self.curve.setMinimumHeight(170)
        results.addWidget(self.curve, 1)
        self.export = QPushButton(translate("Monitor", "Export chart as PNG…"))
        self.export.clicked.connect(self._export)
        results.addWidget(self.export)

        self._gpu_picked()
        self.engine.currentIndexChanged.connect(self._engine_changed)
        self._engine_changed()

    # -- helpers
    def set_saved_outputs(self, outputs: list[tuple[str, str]]) -> None:
        """Offer (label, folder) pairs, e.g. finished quantization jobs, as models to plan."""
        self.saved.clear()
        self.saved.addItem(translate("Monitor", "(pick one)"), None)
        for label, folder in outputs:
            self.saved.addItem(label, folder)

    def _combo(self, items) -> QComboBox:
        c = QComboBox()
        c.addItems(list(items))
        c.currentIndexChanged.connect(self.replan)
        return c

    def _gpu_picked(self) -> None:
        gib = self.gpu.currentData()
        self.gpu_mem.setEnabled(gib is None)
        if gib is not None:
            self.gpu_mem.setValue(gib)

    def _engine_changed(self) -> None:
        vllm = self.engine.currentText() == "vllm"
        self.utilization.setEnabled(vllm)
        self.cme.setEnabled(not vllm)
        self.replan()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, translate("Monitor", "Model folder"), self.model_dir.text())
        if folder:
            self.model_dir.setText(folder)
            self.load_model(folder)

    def _export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, translate("Monitor", "Export chart"), "memory-plan.png", "PNG (*.png)")
        if path:
            export_png(self, path)

    # -- behaviour
    def load_model(self, folder: str) -> None:
        """Read the model's config.json in a worker; the plan follows."""
        if not folder.strip():
            return
        self.model_dir.setText(folder)
        self.model_info.setText(translate("Monitor", "Reading config.json…"))
        run_in_background(read_model_shape, Path(folder), on_result=self.set_shape,
                          on_error=lambda msg, tb: self._model_error(msg), name="read-model-config")

    def _model_error(self, message: str) -> None:
        self.shape = None
        self.model_info.setText(f'<span style="color:{colour("error")}">{html.escape(translate_service(message))}</span>')
        self.replan()

    def set_shape(self, shape: ModelShape) -> None:
        self.shape = shape
        self.model_info.setText(translate_service(model_line(shape)))
        self.replan()

    def request(self) -> PlanRequest:
        return PlanRequest(weights=self.weights.currentText(), group_size=int(self.group.currentText()),
                           kv=self.kv.currentText(), engine=self.engine.currentText(),
                           gpu_mem_gib=self.gpu_mem.value(), utilization=self.utilization.value(),
                           cache_max_entry_count=self.cme.value(), tp=self.tp.value(), context=self.context.value())

    def replan(self) -> None:
        if not hasattr(self, "export"):  # still building the form
            return
        if self.shape is None:
            self.plan = None
            self.summary.setText(translate("Monitor", "Pick a model folder to see what fits."))
            self.bar.clear()
            self.curve.clear()
            self.planChanged.emit(None)
            return
        try:
            self.plan = make_plan(self.shape, self.request())
        except ValueError as exc:
            self.plan = None
            self.summary.setText(f'<span style="color:{colour("error")}">{html.escape(translate_service(str(exc)))}</span>')
            self.planChanged.emit(None)
            return
        self._show(self.plan)
        self.planChanged.emit(self.plan)

    def _show(self, p: Plan) -> None:
        # the headline agrees with the warnings below it
        verdict = (translate("Monitor", "Does not fit") if not p.fits
                   else translate("Monitor", "Fits, but read the warnings") if p.warnings else translate("Monitor", "Fits"))
        headline = colour("error") if not p.fits else colour("warn") if p.warnings else colour("ok")
        rows = [
            (translate("Monitor", "Weights"), f"{_gib(p.weight_bytes_per_gpu)} ({p.weights_format})"),
            (translate("Monitor", "KV cache per token"), f"{p.kv_bytes_per_token:,} B ({p.kv_policy})"),
            (translate("Monitor", "KV budget"), _gib(p.kv_budget_bytes)),
            (translate("Monitor", "Activations + other"), _gib(p.activation_bytes + p.other_bytes)),
            (translate("Monitor", "Tokens that fit"), f"{p.max_tokens:,}"),
            (translate("Monitor", "Sequences at context"), f"{p.max_sequences_at_context:,} × {p.context:,}"),
        ]
        table = "".join(f"<tr><td>{html.escape(k)}</td><td><b>{html.escape(v)}</b></td></tr>" for k, v in rows)
        notes = "".join(f"<li>{html.escape(translate_service(a))}</li>" for a in [p.rule, *p.assumptions])
        warns = "".join(f'<li style="color:{colour("error")}">{html.escape(translate_service(w))}</li>' for w in p.warnings)
        legend = " ".join(f'<span style="color:{c}">■</span> {html.escape(n)}' for n, c in zip(
            (translate("Monitor", "weights"), translate("Monitor", "KV cache"),
             translate("Monitor", "activations + other"), translate("Monitor", "free")), [c for _, c in SEGMENTS], strict=True))
        self.summary.setText(f'<b style="color:{headline}">{html.escape(verdict)}</b>'
                             f"<table cellspacing=6>{table}</table>{legend}<ul>{warns}{notes}</ul>")
        self._draw_bar(p)
        self._draw_curve(p)

    def _draw_bar(self, p: Plan) -> None:
        self.bar.clear()
        sizes = [p.weight_bytes_per_gpu, p.kv_budget_bytes, p.activation_bytes + p.other_bytes, max(0, p.free_bytes)]
        x0 = 0.0
        for (name, fill), size in zip(SEGMENTS, sizes, strict=True):
            width = size / GIB
            self.bar.addItem(pg.BarGraphItem(x0=[x0], y=[0], width=[width], height=0.6, brush=fill, name=name))
            x0 += width
        self.bar.addItem(pg.InfiniteLine(pos=p.gpu_mem_bytes / GIB, angle=90, pen=pg.mkPen(colour("text"), width=1)))
        self.bar.setXRange(0, max(x0, p.gpu_mem_bytes / GIB) * 1.02, padding=0)

    def _draw_curve(self, p: Plan) -> None:
        assert self.shape is not None
        self.curve.clear()
        top = max(p.context * 2, self.shape.max_positions or 0, 8192)
        contexts = [int(top * i / 64) for i in range(1, 65)]
        for i, (policy, values) in enumerate(kv_curve(self.shape, contexts, tp=p.tp).items()):
            self.curve.plot(contexts, [v / GIB for v in values], name=policy, pen=pg.mkPen(PALETTE[i], width=2))
        self.curve.addItem(pg.InfiniteLine(
            pos=p.kv_budget_bytes / GIB, angle=0, pen=pg.mkPen(colour("error"), width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
            label=translate("Monitor", "KV budget: fits below"), labelOpts={"position": 0.1, "color": colour("error")}))
