"""The Jobs panel: queue and history from the store, progress, live log, cancel, re-run, delete."""
from __future__ import annotations

import html
import time
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from services.jobs import protocol as p
from services.jobs.store import JobRecord
from services.settings import default_output_dir
from widgets.compare import ComparisonWindow
from widgets.forms import readonly_table
from widgets.i18n import translate
from widgets.jobtext import duration_text, error_text, eta_text, filtered, kind_text, size_text, status_text
from widgets.panel import Panel
from widgets.serve import ChatBox, report_html
from widgets.service_text import translate_service
from widgets.theme import colour, status_colour

SERVABLE_TARGETS = ("gguf", "vllm", "lmdeploy")


def unique_out(out: str) -> str:
    """`out`, or `out-2`, `out-3`... when it exists already (a re-run must not overwrite)."""
    p, n = Path(out), 2
    candidate = p
    while candidate.exists():
        candidate = p.with_name(f"{p.name}-{n}")
        n += 1
    return str(candidate)


class JobsPanel(Panel):
    PANEL_ID = "jobs"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "The job queue and history.")
    POLL_MS = 1500

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(context, parent)
        self.service = context.jobs()
        self.records: list[JobRecord] = []
        self._log_pos = 0
        self._log_job: str | None = None

        self.table = readonly_table([
            translate("Jobs", "Job"), translate("Jobs", "Kind"), translate("Jobs", "Model"), translate("Jobs", "Status"),
            translate("Jobs", "Progress"), translate("Jobs", "ETA"), translate("Jobs", "Duration"),
            translate("Jobs", "Created")], stretch=2)
        self.table.itemSelectionChanged.connect(self._selected_changed)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setObjectName("storeNotice")
        self.notice.setStyleSheet(f"color:{colour('warn')}")
        self.notice.setVisible(bool(self.service.notice))
        if self.service.notice:
            self.notice.setText(translate("Jobs", "The job history file was damaged and has been set aside; the "
                                                  "list starts empty. Job folders, logs and outputs are untouched.")
                                + "\n" + self.service.notice)
        self._layout.addWidget(self.notice)

        detail = QWidget()
        box = QVBoxLayout(detail)
        box.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton(translate("Jobs", "Cancel"))
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.open_button = QPushButton(translate("Jobs", "Open output folder"))
        self.open_button.clicked.connect(self.open_output)
        self.rerun_button = QPushButton(translate("Jobs", "Re-run"))
        self.rerun_button.setToolTip(translate("Jobs", "Run again with the same settings (into a new folder)"))
        self.rerun_button.clicked.connect(self.rerun_selected)
        self.edit_button = QPushButton(translate("Jobs", "Edit and re-run…"))
        self.edit_button.setToolTip(translate("Jobs", "Open this job's settings in its panel, change them, start again"))
        self.edit_button.clicked.connect(self.edit_selected)
        self.edit_button.setVisible(False)
        self.delete_button = QPushButton(translate("Jobs", "Delete record"))
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button = QPushButton(translate("Jobs", "Export…"))
        self.export_button.setToolTip(translate("Jobs", "Export this model for a serving engine, GGUF or an NPU"))
        self.export_button.clicked.connect(self.export_selected)
        self.compare_button = QPushButton(translate("Jobs", "Show comparison"))
        self.compare_button.setToolTip(translate("Jobs", "This job is part of a method comparison"))
        self.compare_button.clicked.connect(self.show_comparison)
        self.compare_button.setVisible(False)
        self.serve_button = QPushButton(translate("Jobs", "Serve and test"))
        self.serve_button.setToolTip(translate("Jobs", "Start the real engine on this export, ask it the test "
                                                       "prompts, compare with the source, and keep it running for "
                                                       "your questions"))
        self.serve_button.clicked.connect(self.serve_selected)
        self.serve_button.setVisible(False)
        self.fetch_button = QPushButton(translate("Jobs", "Fetch…"))
        self.fetch_button.setToolTip(translate("Jobs", "Copy this job's output from the cluster to this machine"))
        self.fetch_button.clicked.connect(self.fetch_selected)
        self.fetch_button.setVisible(False)
        self.follow_button = QPushButton(translate("Jobs", "Follow again"))
        self.follow_button.setToolTip(translate("Jobs", "Contact with the cluster was lost while this job ran: "
                                                        "follow it again (it may have gone on there)"))
        self.follow_button.clicked.connect(self.follow_selected)
        self.follow_button.setVisible(False)
        self.progress = QProgressBar()
        # the next steps of a finished job, as the Quantize panel offers them
        self.evaluate_button = QPushButton(translate("Jobs", "Evaluate this…"))
        self.evaluate_button.setToolTip(translate("Jobs", "Compare the output with its source: perplexity and answers"))
        self.evaluate_button.clicked.connect(self.evaluate_selected)
        self.plan_button = QPushButton(translate("Jobs", "Plan memory…"))
        self.plan_button.clicked.connect(self.plan_selected)
        self.results_button = QPushButton(translate("Jobs", "Show results"))
        self.results_button.setToolTip(translate("Jobs", "Open this evaluation in the Evaluate panel"))
        self.results_button.clicked.connect(self.results_selected)
        for b in (self.evaluate_button, self.plan_button, self.results_button):
            b.setVisible(False)
        for w in (self.cancel_button, self.follow_button, self.open_button, self.fetch_button, self.evaluate_button,
                  self.plan_button, self.results_button, self.export_button, self.serve_button,
                  self.rerun_button, self.edit_button, self.delete_button, self.compare_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
        self.raw_log = QCheckBox(translate("Jobs", "Raw log"))
        self.raw_log.setToolTip(translate("Jobs", "Show the log as written, with progress bars and library warnings"))
        self.raw_log.toggled.connect(self._reload_log)
        box.addLayout(buttons)
        progress_row = QHBoxLayout()  # the button row is already the panel's widest
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.raw_log)
        box.addLayout(progress_row)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                             | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()  # a serve report with its answers is long: the job list keeps its room
        scroll.setWidget(self.summary)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the summary's text takes the focus, not its frame
        scroll.setMaximumHeight(220)
        box.addWidget(scroll, 1)
        self.chat = ChatBox()
        self.chat.setVisible(False)
        box.addWidget(self.chat, 1)
        self.log_tail = QPlainTextEdit()
        self.log_tail.setReadOnly(True)
        self.log_tail.setMaximumBlockCount(3000)
        self.log_tail.setObjectName("logView")
        self.log_tail.setPlaceholderText(translate("Jobs", "The selected job's log appears here, live."))
        box.addWidget(self.log_tail, 1)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(detail)
        split.setSizes([260, 300])
        self._layout.addWidget(split, 1)

        self.service.event.connect(self._on_event)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._poll)
        self.timer.start(self.POLL_MS)
        self.refresh()

    # -- data
    def refresh(self) -> None:
        """Reload the job list from the store (it also holds jobs started from the command line)."""
        selected = self.selected_id()
        self.records = self.service.store.list()
        self.table.setRowCount(len(self.records))
        for row, r in enumerate(self.records):
            progress = f"{r.done}/{r.total} {translate_service(r.unit)}".strip() if r.total else ""
            kind = kind_text(r.kind) if r.known_kind else translate("Jobs", "%1 (newer version)").replace("%1", r.kind)
            if r.spec.remote:
                kind = f"{kind} @ {r.spec.executor.partition(':')[2]}"
            end = r.finished if r.finished else (time.time() if r.status == "running" else None)
            values = (r.id, kind, Path(r.model).name if r.model != "-" else "-", status_text(r.status), progress,
                      eta_text(r.eta_s) if r.status == "running" else "",
                      duration_text(end - r.started) if r.started and end else "",
                      time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)))
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 3:
                    item.setForeground(QColor(status_colour(r.status)))
                self.table.setItem(row, col, item)
        if selected:
            self.select(selected)
        elif self.records and not self.table.selectedItems():
            self.table.selectRow(0)
        self._show_details()

    def open_with(self, job: str | None = None, **_) -> None:
        """Another panel (the Overview's "Show job") sent the user to this job."""
        if job:
            self.refresh()
            self.select(job)

    def select(self, job_id: str) -> None:
        for row, r in enumerate(self.records):
            if r.id == job_id:
                self.table.selectRow(row)
                return

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.records[rows[0].row()].id if rows and rows[0].row() < len(self.records) else None

    def selected(self) -> JobRecord | None:
        job_id = self.selected_id()
        return self.service.store.get(job_id) if job_id else None

    # -- events
    def _on_event(self, job_id: str, event: p.Event) -> None:
        if isinstance(event, (p.Status, p.Progress, p.Result, p.Error)):
            self.refresh()
        if job_id == self._log_job:
            self._tail_log()

    def _poll(self) -> None:
        rec = self.selected()
        if rec and rec.status in ("running", "queued"):
            self.refresh()
        self._tail_log()

    def _selected_changed(self) -> None:
        rec = self.selected()
        if rec is None or rec.id != self._log_job:
            self._log_job, self._log_pos = (rec.id if rec else None), 0
            self.log_tail.clear()
        self._show_details()
        self._tail_log()

    def _show_details(self) -> None:
        rec = self.selected()
        active = bool(rec and rec.status in ("queued", "running"))
        self.cancel_button.setEnabled(active)
        self.delete_button.setEnabled(bool(rec and rec.status != "running"))
        self.rerun_button.setEnabled(bool(rec and not active and rec.known_kind))
        self.edit_button.setVisible(bool(rec and rec.kind in EDITABLE))
        self.edit_button.setEnabled(bool(rec and not active))
        remote = bool(rec and rec.spec.remote)
        out_ready = bool(rec and rec.status == "succeeded" and rec.out and not remote and Path(rec.out).exists())
        self.open_button.setEnabled(out_ready or bool(remote and rec and rec.status == "succeeded" and local_view(rec)))
        self.fetch_button.setVisible(remote and bool(rec and rec.out))
        self.follow_button.setVisible(bool(rec and remote and rec.status == "running" and unfollowed(rec)
                                           and rec.id not in self.service.manager.running()))
        self.fetch_button.setEnabled(bool(rec and rec.status == "succeeded"))
        self.export_button.setVisible(bool(rec and rec.kind == "quantize"))
        self.export_button.setEnabled(out_ready)
        for b in (self.evaluate_button, self.plan_button):
            b.setVisible(bool(rec and rec.kind == "quantize" and out_ready))
        self.results_button.setVisible(bool(rec and rec.kind == "eval" and rec.status == "succeeded" and not remote))
        self.serve_button.setVisible(bool(rec and rec.kind == "export"
                                          and rec.spec.params.get("target") in SERVABLE_TARGETS))
        self.serve_button.setEnabled(out_ready)
        serving = bool(rec and rec.kind == "serve")
        self.cancel_button.setText(translate("Jobs", "Stop server") if serving else translate("Jobs", "Cancel"))
        self.compare_button.setVisible(bool(rec and rec.spec.group))
        url = self.server_url(rec) if rec and serving and rec.status == "running" else None
        self.chat.setVisible(bool(url))
        if url and rec:
            self.chat.set_server(url, "", str(rec.spec.params.get("engine") or ""))
        if rec is None:
            self.summary.setText(translate("Jobs", "No jobs yet. Start one from the Quantize panel."))
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            return
        self.progress.setRange(0, max(rec.total, 1))
        self.progress.setValue(rec.total if rec.status == "succeeded" else rec.done)
        self.progress.setFormat(f"{translate_service(rec.message)}  %p%" if rec.message else "%p%")
        lines = [f"<b>{html.escape(rec.id)}</b> · {html.escape(status_text(rec.status))}",
                 html.escape(rec.model) + (f" → {html.escape(rec.out)}" if rec.out else "")]
        if remote:
            lines.append(html.escape(translate("Jobs", "Runs on cluster %1; its paths are the cluster's, and the output "
                                                       "stays there until you fetch it.")
                                     .replace("%1", rec.spec.executor.partition(":")[2])))
        if rec.error:
            lines.append(f'<span style="color:{colour("error")}">{html.escape(error_text(rec.error))}</span>')
        if rec.result and rec.result.get("output_bytes"):
            r = rec.result
            lines.append(translate("Jobs", "%1 → %2 (%3× smaller) in %4 s; logits finite: %5")
                         .replace("%1", size_text(r["input_bytes"])).replace("%2", size_text(r["output_bytes"]))
                         .replace("%3", str(r.get("ratio"))).replace("%4", str(r.get("duration_s")))
                         .replace("%5", {True: translate("Jobs", "yes"), False: translate("Jobs", "NO")}.get(
                             r.get("check", {}).get("logits_finite"), translate("Jobs", "not checked"))))
        if rec.kind == "serve" and rec.result:
            lines.append(report_html(rec.result))
        self.summary.setText("<br>".join(lines))

    def server_url(self, rec: JobRecord) -> str | None:
        """A running serve job's URL, once its engine answered."""
        urls = [e.get("path") for e in self.service.store.events(rec.id)
                if e.get("type") == "artifact" and e.get("kind") == "server"]
        return str(urls[-1]) if urls else None

    def _tail_log(self) -> None:
        rec = self.selected()
        if rec is None or not rec.log_path:
            return
        try:
            with open(rec.log_path, encoding="utf-8", errors="replace") as f:
                f.seek(self._log_pos)
                chunk = f.read(1 << 20)
                self._log_pos = f.tell()
        except OSError:
            return
        if chunk and not self.raw_log.isChecked():
            chunk = filtered(chunk)
        if chunk:
            self.log_tail.moveCursor(self.log_tail.textCursor().MoveOperation.End)
            self.log_tail.insertPlainText(chunk)
            self.log_tail.ensureCursorVisible()

    def _reload_log(self) -> None:
        self._log_pos = 0
        self.log_tail.clear()
        self._tail_log()

    # -- actions
    def cancel_selected(self) -> None:
        rec = self.selected()
        if rec:
            self.service.cancel(rec.id)
            self.refresh()

    def open_output(self) -> None:
        rec = self.selected()
        if rec and rec.out:
            QDesktopServices.openUrl(QUrl.fromLocalFile(local_view(rec) if rec.spec.remote else rec.out))

    def follow_selected(self) -> None:
        """Follow the selected cluster job again (off the UI thread: it asks the cluster)."""
        import threading

        rec = self.selected()
        if rec is not None:
            threading.Thread(target=self.service.manager.reattach, kwargs={"only": [rec.id]}, name="follow-again",
                             daemon=True).start()

    def fetch_selected(self, folder: str | None = None) -> str | None:
        """Copy the selected cluster job's output into `folder` (asked for when not given), as a fetch job."""
        from PySide6.QtWidgets import QFileDialog

        from services.clusters.fetch import fetch_spec

        rec = self.selected()
        if rec is None or not rec.out:
            return None
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, translate("Jobs", "Fetch into folder"),
                                                      str(default_output_dir(self.context.settings.current)))
        if not folder:
            return None
        name = rec.out.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        try:
            spec = fetch_spec(rec, unique_out(str(Path(folder) / name)))
        except ValueError as exc:
            self.summary.setText(f'<span style="color:{colour("error")}">{html.escape(str(exc))}</span>')
            return None
        self.service.submit(spec)
        self.refresh()
        self.select(spec.id)
        return spec.id

    def rerun_selected(self) -> str | None:
        rec = self.selected()
        if rec is None:
            return None
        spec = rec.spec.rerun()
        if spec.out:
            spec.out = unique_out(spec.out)
        self.service.submit(spec)
        self.refresh()
        self.select(spec.id)
        return spec.id

    def edit_selected(self) -> bool:
        """Open the selected job's panel with its settings (a new output name), to change and start again."""
        rec = self.selected()
        return bool(rec and rec.kind in EDITABLE and self.context.open_panel(EDITABLE[rec.kind], spec=rec.spec))

    def delete_selected(self) -> None:
        rec = self.selected()
        if rec and rec.status != "running":
            self.service.manager.delete(rec.id)  # a queued one is cancelled first; its files go too
            self.refresh()

    def evaluate_selected(self) -> bool:
        """Evaluate the selected quantize job's output against its source, in the Evaluate panel."""
        rec = self.selected()
        return bool(rec and rec.out and self.context.open_panel("evaluate", candidate=rec.out, baseline=rec.model))

    def plan_selected(self) -> bool:
        rec = self.selected()
        return bool(rec and rec.out and self.context.open_panel("monitor", model=rec.out))

    def results_selected(self) -> bool:
        rec = self.selected()
        return bool(rec and self.context.open_panel("evaluate", job=rec.id))

    def export_selected(self) -> bool:
        """Open the Targets panel on the selected quantize job's output."""
        rec = self.selected()
        return bool(rec and rec.out and self.context.open_panel("targets", model=rec.out))

    def serve_selected(self) -> str | None:
        """Serve the selected export with its engine: the smoke test, then serving until Stop."""
        from PySide6.QtWidgets import QMessageBox

        from services.jobs.spec import JobSpec
        from services.serving.launch import ServeError, plan_serve

        rec = self.selected()
        if rec is None or not rec.out:
            return None
        try:
            plan = plan_serve(rec.out)
        except ServeError as exc:
            if exc.missing_engine:
                return self.offer_engine_install(exc.missing_engine, str(exc))
            QMessageBox.warning(self, translate("Jobs", "Cannot serve this export"), str(exc))
            return None
        spec = JobSpec(kind="serve", model=rec.out, params={
            "engine": plan.engine, "smoke": True, "keep_running": True, "parallel": 4, "max_tokens": 64})
        self.service.submit(spec)
        self.refresh()
        self.select(spec.id)
        return spec.id

    def offer_engine_install(self, engine: str, reason: str) -> str | None:
        """Ask to install the missing engine; the install runs as a job (progress and Cancel here)."""
        from PySide6.QtWidgets import QMessageBox

        from services.jobs.spec import JobSpec
        from services.serving.engines import get_engine

        e = get_engine(engine)
        answer = QMessageBox.question(
            self, translate("Jobs", "Install %1?").replace("%1", e.title),
            reason + "\n\n" + translate("Jobs", "Install %1 now? It takes about %2 minutes and runs as a job; "
                                                "press Serve and test again when it has finished.")
            .replace("%1", e.title).replace("%2", str(e.minutes)))
        if answer != QMessageBox.StandardButton.Yes:
            return None
        spec = JobSpec(kind="engine", model="-", params={"engine": engine})
        self.service.submit(spec)
        self.refresh()
        self.select(spec.id)
        return spec.id

    def show_comparison(self) -> ComparisonWindow | None:
        rec = self.selected()
        if rec is None or not rec.spec.group:
            return None
        window = ComparisonWindow(self.context, rec.spec.group, self)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.show()
        return window

    def retheme(self) -> None:
        self.refresh()  # the status column's colours

    def shutdown(self) -> None:
        self.timer.stop()


EDITABLE = {"quantize": "quantize"}  # job kind -> the panel whose open_with(spec=...) loads its settings


def unfollowed(rec: JobRecord) -> bool:
    """No live QuantDesk process follows this job (its owner is gone or gave it up)."""
    from services.jobs.manager import token_alive

    return not rec.owner or not token_alive(rec.owner)


def local_view(rec: JobRecord) -> str | None:
    """Where a cluster job's output is mounted on this machine (Settings > Clusters), if it exists here."""
    from services.clusters.config import ClusterError, load_clusters
    from services.clusters.paths import to_local

    try:
        local = to_local(load_clusters().get(rec.spec.executor.partition(":")[2]), str(rec.out))
    except ClusterError:
        return None
    return local if local and Path(local).exists() else None
