"""The Quantize panel: model, calibration and AWQ settings, checked before Start; a job on Start."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, QTimer, Signal
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
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.workers import run_in_background
from services.jobs import protocol as p
from services.jobs.spec import JobSpec
from services.modelinfo import format_params, read_model_shape
from services.quant.backends import BACKENDS, get_backend, methods
from services.quant.compare import SHARED, ComparePlan
from services.quant.preflight import PreflightReport, preflight
from services.quant.settings import DEVICES, DTYPES, QuantSettings
from services.settings import default_output_dir
from widgets.compare import CompareDialog, ComparisonWindow
from widgets.forms import narrow_combo, pick_text_file, row, scrolling, source_combo, spin, tab_chain
from widgets.i18n import translate
from widgets.jobtext import error_text, eta_text
from widgets.livecheck import LiveCheck, checks_html
from widgets.panel import Panel
from widgets.run_on import RunOnCombo
from widgets.schema_form import SchemaForm
from widgets.service_text import translate_service
from widgets.theme import colour


class QuantizePanel(Panel):
    PANEL_ID = "quantize"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Quantization jobs (AWQ, GPTQ, W8A8, FP8) with per-layer progress.")
    jobStarted = Signal(str)

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(context, parent)
        self._service = None  # the job service, asked for at the first Start
        self.report: PreflightReport | None = None
        self.job_id: str | None = None
        self.finished_out: str | None = None
        self._live = LiveCheck(self, self._preflight_work, self._show_checks,
                               lambda msg: PreflightReport(errors=[msg]), "quantize-preflight")

        body = QWidget()  # the form scrolls on a small window instead of making it bigger
        columns = QHBoxLayout(body)
        columns.setContentsMargins(0, 0, 0, 0)
        left, right = QVBoxLayout(), QVBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        self._layout.addWidget(scrolling(body), 1)

        model_box = QGroupBox(translate("Quantize", "Model"))
        mf = QFormLayout(model_box)
        self.model_dir = QLineEdit()
        self.model_dir.setPlaceholderText(translate("Quantize", "Folder of the fp16/bf16 Hugging Face model"))
        self.model_dir.editingFinished.connect(self._model_changed)
        self._browse = browse = QPushButton(translate("Quantize", "Browse…"))
        browse.clicked.connect(self._pick_model)
        mf.addRow(translate("Quantize", "Folder"), row(self.model_dir, browse))
        self.model_info = QLabel(translate("Quantize", "No model selected."))
        self.model_info.setWordWrap(True)
        mf.addRow(self.model_info)
        self.out_dir = QLineEdit()
        self.out_dir.textChanged.connect(self.schedule_check)
        self._out_browse = out_browse = QPushButton(translate("Quantize", "Browse…"))
        out_browse.clicked.connect(self._pick_out)
        mf.addRow(translate("Quantize", "Output folder"), row(self.out_dir, out_browse))
        self.run_on = RunOnCombo()
        self.run_on.currentIndexChanged.connect(self.schedule_check)
        mf.addRow(translate("Quantize", "Run on"), self.run_on)
        left.addWidget(model_box)

        calib_box = QGroupBox(translate("Quantize", "Calibration"))
        cf = QFormLayout(calib_box)
        self.calib = source_combo(context.settings, "pileval")
        self.calib.currentTextChanged.connect(self.schedule_check)
        self._calib_browse = calib_browse = QPushButton(translate("Quantize", "File…"))
        calib_browse.clicked.connect(self._pick_calib)
        cf.addRow(translate("Quantize", "Source"), row(self.calib, calib_browse))
        self.samples = spin(1, 4096, 128, self.schedule_check)
        self.seqlen = spin(16, 32768, 512, self.schedule_check)
        self.seed = spin(0, 2**31 - 1, 42, self.schedule_check)
        cf.addRow(translate("Quantize", "Samples"), self.samples)
        cf.addRow(translate("Quantize", "Sequence length"), self.seqlen)
        self.calib_mode = narrow_combo(QComboBox())
        self.calib_mode.addItem(translate("Quantize", "concatenate and cut into blocks"), "concat")
        self.calib_mode.addItem(translate("Quantize", "one text per sample, truncated"), "truncate")
        cf.addRow(translate("Quantize", "Mode"), self.calib_mode)
        cf.addRow(translate("Quantize", "Seed"), self.seed)
        left.addWidget(calib_box)

        awq_box = QGroupBox(translate("Quantize", "Method"))
        af = QFormLayout(awq_box)
        self.method = self._combo(methods())
        self.backend = self._combo([])
        self.method.currentIndexChanged.connect(self._method_changed)
        self.backend.currentIndexChanged.connect(self._backend_changed)
        self.device = self._combo(DEVICES)
        self.dtype = self._combo(DTYPES)
        self.keep = QLineEdit()
        self.keep.setPlaceholderText(translate("Quantize", "e.g. mlp.down_proj (comma separated)"))
        self.trust = QCheckBox(translate("Quantize", "allow the model's own Python code (trust_remote_code)"))
        self.trust.toggled.connect(self.schedule_check)
        self.overwrite = QCheckBox(translate("Quantize", "replace an earlier QuantDesk output in that folder"))
        self.overwrite.toggled.connect(self.schedule_check)
        self.force = QCheckBox(translate("Quantize", "replace it even though it is not a QuantDesk output"))
        self.force.setVisible(False)
        self.force.toggled.connect(self._force_toggled)
        af.addRow(translate("Quantize", "Method"), self.method)
        af.addRow(translate("Quantize", "Backend"), self.backend)
        self.backend_form = SchemaForm(af, af.rowCount(), self.schedule_check)
        af.addRow(translate("Quantize", "Device"), self.device)
        af.addRow(translate("Quantize", "Compute dtype"), self.dtype)
        af.addRow(translate("Quantize", "Keep unquantized"), self.keep)
        af.addRow(self.trust)
        af.addRow(self.overwrite)
        af.addRow(self.force)
        right.addWidget(awq_box)

        self.checks = QLabel()
        self.checks.setWordWrap(True)
        right.addWidget(self.checks)
        self._fix_focus = False
        self.fixes = QGridLayout()  # one-click answers to what the check found (another calibration source), two a row
        right.addLayout(self.fixes)
        self.start_anyway = QCheckBox(translate("Quantize", "Start anyway"))
        self.start_anyway.setVisible(False)
        self.start_anyway.toggled.connect(self._update_start)
        self.start_anyway_note = QLabel(translate("Quantize", "I closed other programs, or accept that the job may "
                                                              "run out of memory."))
        self.start_anyway_note.setWordWrap(True)
        self.start_anyway_note.setContentsMargins(22, 0, 0, 0)  # under the box's text, not its indicator
        self.start_anyway_note.setVisible(False)
        self.start_anyway_note.setBuddy(self.start_anyway)
        # Start, its "start anyway" and the job's status stay in view below the scrolling form
        self._layout.addWidget(self.start_anyway)
        self._layout.addWidget(self.start_anyway_note)
        start_row = QHBoxLayout()
        self.start_button = QPushButton(translate("Quantize", "Start"))
        self.start_button.setEnabled(False)
        self.start_button.clicked.connect(self.start)
        self.progress = QProgressBar()
        self.job_status = QLabel()
        self.job_status.setWordWrap(True)  # a long error wraps instead of widening the window
        self.compare_button = QPushButton(translate("Quantize", "Compare methods…"))
        self.compare_button.setToolTip(translate("Quantize", "Quantize this model with several methods and compare "
                                                             "size, time, perplexity and answers"))
        self.compare_button.clicked.connect(self.compare_methods)
        start_row.addWidget(self.start_button)
        start_row.addWidget(self.compare_button)
        start_row.addWidget(self.progress, 1)
        self._layout.addLayout(start_row)
        self._layout.addWidget(self.job_status)
        self.export_button = QPushButton(translate("Quantize", "Export…"))
        self.export_button.setToolTip(translate("Quantize", "Export the finished model for a serving engine, GGUF "
                                                            "or an NPU"))
        self.export_button.setVisible(False)
        self.export_button.clicked.connect(self.export_output)
        # next steps once a job succeeded: the path model -> quantize -> evaluate -> plan -> export
        self.evaluate_button = QPushButton(translate("Quantize", "Evaluate this…"))
        self.evaluate_button.setToolTip(translate("Quantize", "Compare the output with its source: perplexity and "
                                                              "answers on held-out text"))
        self.evaluate_button.clicked.connect(self.evaluate_output)
        self.plan_button = QPushButton(translate("Quantize", "Plan memory…"))
        self.plan_button.setToolTip(translate("Quantize", "How much GPU memory the output needs, and how many "
                                                          "tokens of KV cache fit beside it"))
        self.plan_button.clicked.connect(self.plan_output)
        for b in (self.evaluate_button, self.plan_button):
            b.setVisible(False)
        compare_row = QHBoxLayout()  # the next steps, on their own line: the column stays narrow
        compare_row.addWidget(self.evaluate_button)
        compare_row.addWidget(self.plan_button)
        compare_row.addWidget(self.export_button)
        compare_row.addStretch(1)
        self._layout.addLayout(compare_row)
        right.addStretch(1)
        left.addStretch(1)
        self._method_changed()

    # -- method and backend
    def _method_changed(self, *_) -> None:
        method = self.method.currentText()
        self.backend.blockSignals(True)
        self.backend.clear()
        self.backend.addItems([b.name for b in BACKENDS.values() if method in b.methods])
        self.backend.blockSignals(False)
        self._backend_changed()

    def _backend_changed(self, *_) -> None:
        method = self.method.currentText()
        backend = get_backend(self.backend.currentText(), method)
        self.backend_form.set_schema([st for st in backend.schema if st.applies(method)])
        self._tab_order()
        self.schedule_check()

    def _tab_order(self) -> None:
        """Tab follows the screen: the left column, then the method and its backend's fields, the fix buttons,
        and only then Start and the next steps (fields and buttons built later would otherwise come last)."""
        fixes = [self.fixes.itemAt(i).widget() for i in range(self.fixes.count())]
        tab_chain(self.model_dir, self._browse, self.out_dir, self._out_browse, self.run_on, self.calib,
                  self._calib_browse, self.samples, self.seqlen, self.calib_mode, self.seed, self.method,
                  self.backend, *self.backend_form.fields.values(), self.device, self.dtype, self.keep, self.trust,
                  self.overwrite, self.force, *fixes, self.start_anyway, self.start_button, self.compare_button,
                  self.evaluate_button, self.plan_button, self.export_button)

    def _force_toggled(self, on: bool) -> None:
        if on and QMessageBox.question(self, translate("Quantize", "Replace a folder"), translate(
                "Quantize", "%1 was not made by QuantDesk. Replace everything in it when the job succeeds?")
                .replace("%1", self.out_dir.text())) != QMessageBox.StandardButton.Yes:
            self.force.setChecked(False)
            return
        self.schedule_check()

    # -- helpers
    def _combo(self, items) -> QComboBox:
        c = QComboBox()
        c.addItems(list(items))
        c.currentIndexChanged.connect(self.schedule_check)
        return c

    @property
    def service(self):
        if self._service is None:
            self._service = self.context.jobs()
            self._service.event.connect(self._on_job_event)
        return self._service

    def _pick_model(self) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("Quantize", "Model folder"), self.model_dir.text())
        if path:
            self.model_dir.setText(path)
            self._model_changed()

    def _pick_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("Quantize", "Output folder"))
        if path:
            self.out_dir.setText(path)

    def _pick_calib(self) -> None:
        pick_text_file(self, self.calib, translate("Quantize", "Calibration file"))

    # -- model and checks
    def open_with(self, model: str | None = None, keep: list[str] | None = None, spec: JobSpec | None = None,
                  **_) -> None:
        """From another panel: a model, and layers to keep unquantized (the Scan tab's advice), or a past
        job's settings to edit and run again (the Jobs panel's "Edit and re-run")."""
        if spec is not None:
            self.load_spec(spec)
            return
        if model:
            self.set_model(model)
        if keep is not None:
            self.keep.setText(", ".join(keep))
            self.schedule_check()

    def load_spec(self, spec: JobSpec) -> None:
        """The form as `spec` had it; the output name is a fresh one beside the old."""
        from widgets.jobs import unique_out

        p = spec.params
        self.method.setCurrentText(str(p.get("method", "awq")))
        self.backend.setCurrentText(str(p.get("backend", "")))
        for name in self.backend_form.fields:
            if name in p:
                self.backend_form.set_value(name, p[name])
        self.calib.setCurrentText(str(p.get("calib", "")))
        for box, key in ((self.samples, "samples"), (self.seqlen, "seqlen"), (self.seed, "seed")):
            if isinstance(p.get(key), int):
                box.setValue(p[key])
        self.calib_mode.setCurrentIndex(max(0, self.calib_mode.findData(p.get("calib_mode", "concat"))))
        self.device.setCurrentText(str(p.get("device", "auto")))
        self.dtype.setCurrentText(str(p.get("dtype", "float16")))
        self.keep.setText(", ".join(p.get("keep") or []))
        self.trust.setChecked(bool(p.get("trust_remote_code")))
        self.run_on.refresh()
        cluster = spec.executor.partition(":")[2] if spec.remote else ""
        self.run_on.setCurrentIndex(max(0, self.run_on.findData(cluster)))
        self.model_dir.setText(spec.model)
        self._model_changed()
        self.out_dir.setText(unique_out(spec.out) if spec.out and not spec.remote else (spec.out or ""))
        self.schedule_check()

    def set_model(self, folder: str) -> None:
        self.model_dir.setText(folder)
        self._model_changed()

    def suggest_out(self) -> None:
        """Name the output after the model and settings while the name is ours (empty or the last suggestion);
        a folder without config.json gets none (a mistyped path)."""
        folder = self.model_dir.text().strip()
        current = self.out_dir.text().strip()
        if current and current != getattr(self, "_suggested", None):
            return  # the user's own name
        if not folder or not (Path(folder) / "config.json").is_file():
            if current:
                self.out_dir.clear()
            self._suggested = None
            return
        v = self.backend_form.values()
        name = f"{Path(folder).name}-{self.method.currentText()}-w{v.get('bits', 4)}-g{v.get('group_size', 128)}"
        self._suggested = str(default_output_dir(self.context.settings.current) / name)
        self.out_dir.setText(self._suggested)

    def _model_changed(self) -> None:
        folder = self.model_dir.text().strip()
        if not folder:
            return
        self.suggest_out()
        if not (Path(folder) / "config.json").is_file():  # a mistyped path: said here, not as an error in the log
            self.model_info.setText(f'<span style="color:{colour("error")}">' + html.escape(
                translate("Quantize", "%1 holds no config.json: pick a Hugging Face model folder").replace(
                    "%1", folder)) + "</span>")
            self.schedule_check()
            return
        self.model_info.setText(translate("Quantize", "Reading config.json…"))
        run_in_background(read_model_shape, Path(folder), on_result=self._show_shape,
                          on_error=lambda msg, tb: self.model_info.setText(
                              f'<span style="color:{colour("error")}">{html.escape(translate_service(msg))}</span>'),
                          name="quantize-model-info")
        self.schedule_check()

    def _show_shape(self, shape) -> None:
        self.model_info.setText(translate("Quantize", "%1 · %2 parameters · %3 layers · hidden %4 · %5")
                                .replace("%1", shape.architecture).replace("%2", format_params(shape.parameter_count()))
                                .replace("%3", str(shape.layers)).replace("%4", str(shape.hidden))
                                .replace("%5", shape.dtype))

    def settings(self) -> QuantSettings:
        keep = [k.strip() for k in self.keep.text().split(",") if k.strip()]
        backend = get_backend(self.backend.currentText(), self.method.currentText())
        return backend.settings({
            "method": self.method.currentText(), "backend": backend.name, "calib": self.calib.currentText().strip(),
            "samples": self.samples.value(), "seqlen": self.seqlen.value(), "calib_mode": self.calib_mode.currentData(),
            "seed": self.seed.value(), "device": self.device.currentText(), "dtype": self.dtype.currentText(),
            "keep": keep, "trust_remote_code": self.trust.isChecked(), "overwrite": self.overwrite.isChecked(),
            "force": self.overwrite.isChecked() and self.force.isChecked(), **self.backend_form.values()})

    def schedule_check(self, *_) -> None:
        self.compare_button.setEnabled(self.run_on.cluster() is None)  # a comparison runs on this machine
        self.suggest_out()
        self.start_button.setEnabled(False)
        self._live.schedule()

    def check(self) -> None:
        """Run pre-flight in a worker and show its errors and warnings inline."""
        self._live.run_now()

    def _preflight_work(self):
        model, out = self.model_dir.text().strip(), self.out_dir.text().strip()
        if not model or not out:
            self.checks.setText(translate("Quantize", "Pick a model folder and an output folder."))
            return None
        if cluster := self.run_on.cluster():
            spec = JobSpec(kind="quantize", model=model, out=out, params=self.settings().to_dict())
            return remote_report, (cluster, spec), {}
        return preflight, (model, out, self.settings()), {}

    def showEvent(self, event) -> None:
        self.run_on.refresh()  # clusters may have changed in Settings
        super().showEvent(event)

    def _show_checks(self, report: PreflightReport) -> None:
        self.report = report
        if remote := report.info.get("remote_spec"):
            self.checks.setText(checks_html(report.errors, report.warnings, report.info.get("notes", []),
                                            translate("Quantize", "Ready to run on cluster %1; the output stays "
                                                                  "there (%2) until you fetch it")
                                            .replace("%1", remote.executor.partition(":")[2])
                                            .replace("%2", str(remote.out))))
            self.start_anyway.setVisible(False)
            self.start_anyway_note.setVisible(False)
            self._show_fixes(None)
            self.start_button.setEnabled(report.ok and self.job_id is None)
            return
        foreign = any("not an earlier QuantDesk output" in e for e in report.errors)
        self.force.setVisible(foreign or self.force.isChecked())
        info = report.info
        short = bool(info.get("memory_short"))
        ready = None if short else translate("Quantize", "Ready: about %1 GiB out, %2 GiB free on disk") \
            .replace("%1", f"{info.get('estimated_output_bytes', 0) / 2**30:.2f}") \
            .replace("%2", f"{info.get('free_disk_bytes', 0) / 2**30:.0f}")
        fixes = info.get("fixes", [])
        self.checks.setText(checks_html([gui_wording(e, fixes) for e in report.errors],
                                        [gui_wording(w, fixes) for w in report.warnings], info.get("notes", []), ready))
        self.start_anyway.setVisible(short and report.ok)
        self.start_anyway_note.setVisible(short and report.ok)
        if not short:
            self.start_anyway.setChecked(False)
        self._show_fixes(info.get("calib_fallbacks"), fixes)
        self._update_start()

    def _update_start(self, *_) -> None:
        r = self.report
        ok = bool(r and r.ok and (not r.info.get("memory_short") or self.start_anyway.isChecked()))
        self.start_button.setEnabled(ok and self.job_id is None)

    def _show_fixes(self, fallbacks: list[str] | None, fixes: list[dict] | tuple = ()) -> None:
        """One-click answers to what pre-flight found: another calibration source (a local file, a dataset in
        the cache), or the setting it suggests (group size, sequence length, samples)."""
        while self.fixes.count():
            item = self.fixes.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        buttons: list[QPushButton] = []
        if fallbacks is not None:
            pick = QPushButton(translate("Quantize", "Use a local file…"))
            pick.clicked.connect(self._pick_calib)
            buttons.append(pick)
            for name in fallbacks:
                use = QPushButton(translate("Quantize", "Use %1 (in the cache)").replace("%1", name))
                use.clicked.connect(lambda _=False, n=name: (setattr(self, "_fix_focus", self._fix_has_focus()),
                                                             self.calib.setCurrentText(n)))
                buttons.append(use)
        for fix in fixes:
            label = {"group_size": translate("Quantize", "Use group size %1"),
                     "seqlen": translate("Quantize", "Use sequence length %1"),
                     "samples": translate("Quantize", "Use %1 samples")}.get(fix["setting"])
            if label:
                b = QPushButton(label.replace("%1", str(fix["value"])))
                b.clicked.connect(lambda _=False, f=fix: self.apply_fix(f["setting"], f["value"]))
                buttons.append(b)
        for i, b in enumerate(buttons):
            self.fixes.addWidget(b, i // 2, i % 2)
        self._tab_order()
        if self._fix_focus:  # a fix used from the keyboard: the focus goes on, not back to the sidebar
            self._fix_focus = False
            QTimer.singleShot(0, self, lambda: self._focus_after_fix(buttons))  # once Start's state is known

    def _focus_after_fix(self, buttons: list[QPushButton]) -> None:
        target = next((w for w in (*buttons, self.start_anyway, self.start_button)
                       if w.isVisibleTo(self) and w.isEnabled()), self.samples)
        target.setFocus(Qt.FocusReason.TabFocusReason)

    def _fix_has_focus(self) -> bool:
        """A fix button has the keyboard focus (it was pressed with Space or Enter)."""
        from PySide6.QtWidgets import QApplication

        fw = QApplication.focusWidget()
        return fw is not None and any(self.fixes.itemAt(i).widget() is fw for i in range(self.fixes.count()))

    def apply_fix(self, setting: str, value) -> None:
        self._fix_focus = self._fix_has_focus()
        if setting == "seqlen":
            self.seqlen.setValue(int(value))
        elif setting == "samples":
            self.samples.setValue(int(value))
        else:
            self.backend_form.set_value(setting, value)
        self.schedule_check()

    # -- the job
    def start(self) -> str | None:
        if not (self.report and self.report.ok) or not self.start_button.isEnabled():
            return None
        spec = self.report.info.get("remote_spec") or JobSpec(
            kind="quantize", model=self.model_dir.text().strip(), out=self.out_dir.text().strip(),
            params=self.settings().to_dict())  # pre-flight made sure both are absolute
        service = self.service
        rec = service.submit(spec)
        self.job_id = rec.id
        self.start_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.job_status.setText(translate("Quantize", "Job %1 queued. Follow it here or in the Jobs panel.")
                                .replace("%1", rec.id))
        self.jobStarted.emit(rec.id)
        return rec.id

    def evaluate_output(self) -> bool:
        """Open Evaluate with the finished output as a candidate and its source as the baseline."""
        return bool(self.finished_out and self.context.open_panel(
            "evaluate", candidate=self.finished_out, baseline=getattr(self, "finished_source", None)))

    def plan_output(self) -> bool:
        """Open the memory planner on the finished output."""
        return bool(self.finished_out and self.context.open_panel("monitor", model=self.finished_out))

    def export_output(self) -> bool:
        return bool(self.finished_out and self.context.open_panel("targets", model=self.finished_out))

    def compare_methods(self) -> ComparisonWindow | None:
        """Set up a comparison in a dialog; on Start, run it as a job group and show its window."""
        model = self.model_dir.text().strip()
        if not model:
            self.checks.setText(translate("Quantize", "Pick a model folder first."))
            return None
        s = self.settings().to_dict()
        shared = {k: s[k] for k in SHARED if k in s}
        out = default_output_dir(self.context.settings.current) / f"{Path(model).name}-compare"
        dialog = CompareDialog(self.context, model, shared, str(out), self)
        if dialog.exec() != CompareDialog.DialogCode.Accepted or dialog.plan is None:
            return None
        return self.start_comparison(dialog.plan)

    def start_comparison(self, plan: ComparePlan) -> ComparisonWindow:
        self.service.submit_group(plan.members, plan.final, plan.group)
        window = ComparisonWindow(self.context, plan.group, self)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.show()
        return window

    def _on_job_event(self, job_id: str, event: p.Event) -> None:
        if job_id != self.job_id:
            return
        if isinstance(event, p.Stage):
            self.job_status.setText(f"{translate_service(event.name)}: {translate_service(event.message)}")
        elif isinstance(event, p.Progress) and event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            eta = eta_text(event.eta_s)
            self.job_status.setText(translate_service(event.message) + (
                " · " + translate("Quantize", "ETA %1").replace("%1", eta) if eta else ""))
        elif isinstance(event, p.Status) and event.status in ("succeeded", "failed", "cancelled", "interrupted"):
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if event.status == "succeeded" else 0)
            text = {"succeeded": translate("Quantize", "Done: %1"), "failed": translate("Quantize", "Failed: %1"),
                    "cancelled": translate("Quantize", "Cancelled: %1"),
                    "interrupted": translate("Quantize", "Failed: %1")}[event.status]
            detail = error_text(event.error) if event.error else self.out_dir.text()
            self.job_status.setText(text.replace("%1", detail))
            self.finished_out = self.out_dir.text() if event.status == "succeeded" else None
            self.finished_source = self.model_dir.text() if event.status == "succeeded" else None
            local = self.finished_out is not None and Path(self.finished_out).exists()  # not one left on a cluster
            for b in (self.export_button, self.evaluate_button, self.plan_button):
                b.setVisible(local)
            self.job_id = None
            self.schedule_check()

    def shutdown(self) -> None:
        self._live.stop()


def gui_wording(message: str, fixes: list[dict], language: str | None = None) -> str:
    """A pre-flight message in the interface's language without the command-line advice a fix button stands for
    ("use --group-size 64")."""
    if language is None:
        from app.i18n import running_language

        language = running_language()
    message = translate_service(message, language)
    for fix in fixes:
        cli = translate_service(fix.get("cli") or "", language)
        for sep in ("; ", ": ", ", ", "；", "：", "，"):
            if sep + cli in message:
                message = message.replace(sep + cli, "")
        message = message.replace(cli + ", ", "").replace(cli + "，", "").replace(cli, "")
    for flag, name in FLAG_NAMES.items():  # what is left names the panel's fields, not the CLI's flags
        if language == "en":
            message = message.replace(flag, name)
        elif flag in message and (shown := translate("Quantize", name)) != name:
            message = message.replace(flag, shown)  # a field the .ts translates; else the flag stays as it is
    return message.rstrip(" :;,；：，")


FLAG_NAMES = {"--samples": "Samples", "--seqlen": "Sequence length", "--group-size": "Group size",
              "--trust-remote-code": "allow the model's own Python code", "--overwrite": "replace an earlier output",
              "--force": "replace it even though it is not a QuantDesk output", "--calib": "Source",
              "--keep": "Keep unquantized", "--device": "Device"}


def remote_report(cluster: str, spec: JobSpec) -> PreflightReport:
    """Pre-flight of a quantize job on `cluster` (in a worker: it asks the cluster), as the panel shows it."""
    from services.clusters.preflight import check_on_cluster
    from services.quant.preflight import local_view_check

    plan = check_on_cluster(cluster, spec, local_view_check)
    return PreflightReport(errors=plan.errors, warnings=plan.warnings,
                           info={"notes": plan.notes, "remote_spec": plan.spec if plan.ok else None})
