"""The Targets panel: pick a target, its settings checked as you type (with the memory plan beside the
engine flags), Build as a job, then the command to copy, the folder and the verify result."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QCompleter,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.workers import run_in_background
from services.jobs import protocol as p
from services.jobs.spec import JobSpec
from services.settings import default_output_dir
from services.targets.gpus import gpu_names
from services.targets.preflight import ExportCheck, check_export
from services.targets.registry import TARGETS
from widgets.forms import row, tab_chain
from widgets.i18n import translate
from widgets.jobtext import error_text, status_text
from widgets.livecheck import LiveCheck, checks_html
from widgets.panel import Panel
from widgets.schema_form import SchemaForm
from widgets.service_text import translate_service as tr
from widgets.theme import status_colour

GIB = 1024**3
SUMMARIES = {  # the targets' one-liners, for lupdate
    "vllm": QT_TRANSLATE_NOOP("Targets", "an OpenAI-compatible server: vllm serve with flags sized for your GPU"),
    "lmdeploy": QT_TRANSLATE_NOOP("Targets", "lmdeploy serve api_server and lmdeploy chat (TurboMind or PyTorch "
                                             "engine)"),
    "transformers": QT_TRANSLATE_NOOP("Targets", "load it in your own Python: a verified load_example.py"),
    "gguf": QT_TRANSLATE_NOOP("Targets", "one .gguf file for llama.cpp, Ollama and LM Studio, with a Modelfile"),
    "edge10": QT_TRANSLATE_NOOP("Targets", "the Edge10 / TyLLM NPU: checkpoint conversion and AOT compile in the "
                                           "vendor's Docker images"),
    "qserve": QT_TRANSLATE_NOOP("Targets", "QServe W4A8KV4: scripts for DeepCompressor's QoQ, OmniServe's converter "
                                           "and generation (Linux, CUDA)"),
}


def summary(name: str) -> str:
    return translate("Targets", SUMMARIES[name]) if name in SUMMARIES else TARGETS[name].summary


def prerequisites_of_all() -> dict[str, list[dict]]:
    """Each target's prerequisite checks (some start a process, e.g. docker: run in a worker)."""
    return {name: [c.to_dict() for c in t.prerequisites()] for name, t in TARGETS.items()}


class TargetsPanel(Panel):
    PANEL_ID = "targets"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Export and compile for vLLM, LMDeploy, transformers, GGUF and the Edge10 "
                                          "NPU toolchain.")

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(context, parent)
        self._service = None
        self.report: ExportCheck | None = None
        self.job_id: str | None = None
        self.prereqs: dict[str, list[dict]] = {}
        self._suggestion = ""  # the output folder QuantDesk proposed (the user's own choice is kept)
        self._live = LiveCheck(self, self._check_work, self._show_checks, lambda msg: ExportCheck(errors=[msg]),
                               "targets-check")

        columns = QHBoxLayout()
        self._layout.addLayout(columns, 1)
        self.list = QListWidget()
        self.list.setMaximumWidth(220)
        self.list.setMinimumWidth(120)
        for name, t in TARGETS.items():
            item = QListWidgetItem(t.title)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(summary(name))
            self.list.addItem(item)
        self.list.currentRowChanged.connect(self._target_changed)
        columns.addWidget(self.list)
        scroll = QScrollArea()  # the form scrolls on a small window instead of widening it
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        right = QVBoxLayout(body)
        right.setContentsMargins(0, 0, 0, 0)
        scroll.setWidget(body)
        columns.addWidget(scroll, 1)

        box = QGroupBox(translate("Targets", "Input and output"))
        form = QFormLayout(box)
        self.model_dir = QLineEdit()
        self.model_dir.setPlaceholderText(translate("Targets", "Folder of the model to export (quantized or not)"))
        self.model_dir.textChanged.connect(self._model_changed)
        self._browse = browse = QPushButton(translate("Targets", "Browse…"))
        browse.clicked.connect(self._pick_model)
        form.addRow(translate("Targets", "Model"), row(self.model_dir, browse))
        self.out_dir = QLineEdit()
        self.out_dir.textChanged.connect(self.schedule_check)
        self._out_browse = out_browse = QPushButton(translate("Targets", "Browse…"))
        out_browse.clicked.connect(self._pick_out)
        form.addRow(translate("Targets", "Output folder"), row(self.out_dir, out_browse))
        self.overwrite = QCheckBox(translate("Targets", "replace an earlier QuantDesk export in that folder"))
        self.overwrite.toggled.connect(self.schedule_check)
        form.addRow(self.overwrite)
        right.addWidget(box)

        self.settings_box = QGroupBox(translate("Targets", "Settings"))
        self.settings_form = QFormLayout(self.settings_box)
        self.schema_form = SchemaForm(self.settings_form, 0, self.schedule_check)
        right.addWidget(self.settings_box)

        self.availability = QLabel()
        self.availability.setWordWrap(True)
        self.availability.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right.addWidget(self.availability)
        self.checks = QLabel()
        self.checks.setWordWrap(True)
        self.checks.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right.addWidget(self.checks)
        self.plan = QLabel()
        self.plan.setWordWrap(True)
        self.plan.setObjectName("targetPlan")
        right.addWidget(self.plan)

        build_row = QHBoxLayout()
        self.build_button = QPushButton(translate("Targets", "Build"))
        self.build_button.setEnabled(False)
        self.build_button.clicked.connect(self.build)
        self.progress = QProgressBar()
        build_row.addWidget(self.build_button)
        build_row.addWidget(self.progress, 1)
        right.addLayout(build_row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        right.addWidget(self.status)

        result = QGroupBox(translate("Targets", "Result"))
        rf = QVBoxLayout(result)
        self.command = QLineEdit()
        self.command.setReadOnly(True)
        self.command.setPlaceholderText(translate("Targets", "The command appears here once checked."))
        self.copy_button = QPushButton(translate("Targets", "Copy"))
        self.copy_button.clicked.connect(self.copy_command)
        self.open_button = QPushButton(translate("Targets", "Open folder"))
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_folder)
        rf.addLayout(row(self.command, self.copy_button, self.open_button))
        self.verify = QLabel()
        self.verify.setWordWrap(True)
        rf.addWidget(self.verify)
        right.addWidget(result)
        right.addStretch(1)

        self.list.setCurrentRow(0)
        run_in_background(prerequisites_of_all, on_result=self._show_prereqs,
                          on_error=lambda msg, tb: self.availability.setText(html.escape(tr(msg))),
                          name="targets-prerequisites")

    # -- choosing
    def target_name(self) -> str:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else "vllm"

    def select_target(self, name: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.list.setCurrentRow(i)

    def _target_changed(self, *_) -> None:
        self.schema_form.set_schema(TARGETS[self.target_name()].schema)
        gpu = self.schema_form.fields.get("gpu")
        if isinstance(gpu, QLineEdit):
            gpu.setCompleter(QCompleter(gpu_names(), gpu))
            gpu.setPlaceholderText(translate("Targets", "detected, or e.g. 4090, A100 40GB"))
        self.settings_box.setVisible(bool(self.schema_form.fields))
        self._tab_order()
        self._suggest_out()
        self._show_availability()
        self.schedule_check()

    def _tab_order(self) -> None:
        """Tab follows the screen: the target's settings (built when it is picked) before Build and the Result."""
        tab_chain(self.list, self.model_dir, self._browse, self.out_dir, self._out_browse, self.overwrite,
                  *self.schema_form.fields.values(), self.build_button, self.command, self.copy_button,
                  self.open_button)

    def open_with(self, model: str | None = None, target: str | None = None, **_) -> None:
        """From another panel: a model (a finished job's output) to export."""
        if target:
            self.select_target(target)
        if model:
            self.model_dir.setText(model)

    def _model_changed(self) -> None:
        self._suggest_out()
        self.schedule_check()

    def _suggest_out(self) -> None:
        """Name the output after the model and target, unless the user picked a folder."""
        model, current = self.model_dir.text().strip(), self.out_dir.text().strip()
        if not model or (current and current != self._suggestion):
            return
        name = f"{Path(model).name}-{self.target_name()}"
        self._suggestion = str(default_output_dir(self.context.settings.current) / "exports" / name)
        self.out_dir.setText(self._suggestion)

    def _pick_model(self) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("Targets", "Model folder"), self.model_dir.text())
        if path:
            self.model_dir.setText(path)

    def _pick_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("Targets", "Output folder"))
        if path:
            self.out_dir.setText(path)

    # -- availability
    def _show_prereqs(self, prereqs: dict[str, list[dict]]) -> None:
        self.prereqs = prereqs
        for i in range(self.list.count()):
            item = self.list.item(i)
            target = TARGETS[item.data(Qt.ItemDataRole.UserRole)]
            missing = any(c["status"] == "fail" for c in prereqs.get(target.name, []))
            if not missing:
                state = "  ✓ " + translate("Targets", "ready")
            elif target.scripts_without_prerequisites:
                state = "  ⚠ " + translate("Targets", "scripts only")
            else:
                state = "  ⚠ " + translate("Targets", "prerequisites missing")
            item.setText(target.title + state)
        self._show_availability()

    def _show_availability(self) -> None:
        checks = self.prereqs.get(self.target_name(), [])
        lines = [f"<b>{html.escape(summary(self.target_name()))}</b>"]
        for c in checks:
            fix = c.get("fix") or {}
            text = (f'<span style="color:{status_colour(c["status"])}">{html.escape(tr(c["title"]))}: '
                    f'{html.escape(tr(c["summary"]))}')
            if c["status"] in ("fail", "warn") and fix:
                text += " · " + html.escape(translate("Targets", "Fix: %1").replace("%1", tr(fix.get("label", ""))))
                if fix.get("command"):
                    text += f" <code>{html.escape(fix['command'])}</code>"
            lines.append(text + "</span>")
        self.availability.setText("<br>".join(lines))

    # -- checks
    def params(self) -> dict:
        return self.schema_form.values()

    def schedule_check(self, *_) -> None:
        self.build_button.setEnabled(False)
        self._live.schedule()

    def check(self) -> None:
        self._live.run_now()

    def _check_work(self):
        model, out = self.model_dir.text().strip(), self.out_dir.text().strip()
        if not model or not out:
            self.checks.setText(translate("Targets", "Pick a model folder and an output folder."))
            return None
        return check_export, (model, out, self.target_name(), self.params()), {"overwrite": self.overwrite.isChecked()}

    def _show_checks(self, report: ExportCheck) -> None:
        self.report = report
        self.checks.setText(checks_html(report.errors, report.warnings, report.notes,
                                        translate("Targets", "Ready to build.")))
        if self.job_id is None:
            self.command.setText(report.info.get("command") or "")
        self._show_plan(report.info.get("sizing"))
        self.build_button.setEnabled(report.ok and self.job_id is None)

    def _show_plan(self, sizing: dict | None) -> None:
        plan = (sizing or {}).get("plan")
        if not plan:
            self.plan.setText("")
            return
        fraction = sizing.get("fraction")
        flag = "--gpu-memory-utilization" if sizing["engine"] == "vllm" else "--cache-max-entry-count"
        self.plan.setText(translate("Targets", "Memory plan per GPU: weights %1 GiB, KV cache %2 GiB (%3 tokens, "
                                               "%4 sequences at full context), activations and other %5 GiB of "
                                               "%6 GiB. %7 %8")
                          .replace("%1", f"{plan['weight_bytes_per_gpu'] / GIB:.2f}")
                          .replace("%2", f"{plan['kv_budget_bytes'] / GIB:.2f}").replace("%3", str(plan["max_tokens"]))
                          .replace("%4", str(plan["max_sequences_at_context"]))
                          .replace("%5", f"{(plan['activation_bytes'] + plan['other_bytes']) / GIB:.2f}")
                          .replace("%6", f"{plan['gpu_mem_bytes'] / GIB:.1f}").replace("%7", flag)
                          .replace("%8", f"{fraction:g}" if fraction else "—"))

    # -- the job
    @property
    def service(self):
        if self._service is None:
            self._service = self.context.jobs()
            self._service.event.connect(self._on_job_event)
        return self._service

    def build(self) -> str | None:
        if not (self.report and self.report.ok):
            return None
        spec = JobSpec(kind="export", model=self.model_dir.text().strip(), out=self.out_dir.text().strip(),
                       params={**self.report.params, "overwrite": self.overwrite.isChecked()})
        rec = self.service.submit(spec)
        self.job_id = rec.id
        self.build_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.verify.setText("")
        self.progress.setRange(0, 0)
        self.status.setText(translate("Targets", "Job %1 queued.").replace("%1", rec.id))
        return rec.id

    def _on_job_event(self, job_id: str, event: p.Event) -> None:
        if job_id != self.job_id:
            return
        if isinstance(event, p.Stage):
            self.status.setText(f"{tr(event.name)}: {tr(event.message)}")
        elif isinstance(event, p.Progress) and event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            self.status.setText(tr(event.message))
        elif isinstance(event, p.Status) and event.status in ("succeeded", "failed", "cancelled", "interrupted"):
            rec = self.service.store.get(job_id)
            self.job_id = None
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if rec.status == "succeeded" else 0)
            if rec.status == "succeeded" and rec.result:
                r = rec.result
                self.command.setText(r.get("command") or "")
                self.open_button.setEnabled(True)
                self.status.setText(translate("Targets", "Done: %1").replace("%1", r.get("out", "")))
                v = r.get("verify") or {}
                self.verify.setText(translate("Targets", "Verify: passed. %1").replace("%1", html.escape(
                    ", ".join(f"{k}={v[k]}" for k in v if k not in ("ok", "problems")))))
                # no check now: it would call the folder just built "exists, not empty"; the next edit checks again
                self.checks.setText(translate("Targets", "Built. Change a setting or the output folder to build "
                                                         "again."))
                self.build_button.setEnabled(False)
                return
            self.status.setText(translate("Targets", "Failed: %1").replace(
                "%1", error_text(rec.error) if rec.error else status_text(rec.status)))
            self.schedule_check()

    # -- result
    def copy_command(self) -> None:
        if self.command.text():
            QGuiApplication.clipboard().setText(self.command.text())

    def open_folder(self) -> None:
        out = self.out_dir.text().strip()
        if out and Path(out).is_dir():
            QDesktopServices.openUrl(QUrl.fromLocalFile(out))

    def shutdown(self) -> None:
        self._live.stop()
