"""The Environment panel: every check in one table, details and the fix on selection."""
from __future__ import annotations

import html
import os
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.workers import run_in_background
from services.envcheck.context import CheckContext
from services.envcheck.model import CheckResult, Report
from services.envcheck.vcvars import load_msvc_env
from services.paths import user_dirs
from services.settings import default_output_dir
from widgets.forms import readonly_table, reason_label, show_reason
from widgets.i18n import translate
from widgets.panel import Panel
from widgets.service_text import translate_service as tr
from widgets.theme import status_colour


def _real_probe():
    from services.envcheck.probe import Probe

    return Probe()


STATUS_MARKS = {"ok": "✔", "warn": "▲", "fail": "✖", "skip": "–"}  # coloured by theme.status_colour


def status_text(status: str) -> str:
    return {"ok": translate("Environment", "OK"), "warn": translate("Environment", "Warning"),
            "fail": translate("Environment", "Failed"), "skip": translate("Environment", "Skipped")}[status]


class EnvironmentPanel(Panel):
    PANEL_ID = "environment"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Checks of CUDA, the driver, MSVC x64, ninja, the Windows SDK and "
                                          "flash-attn, with one-click fixes.")

    def __init__(self, context: AppContext, probe_factory: Callable | None = None, parent: QWidget | None = None):
        super().__init__(context, parent)
        self.probe_factory = probe_factory or _real_probe
        self.report: Report | None = None
        self.worker = None

        bar = QHBoxLayout()
        self.rerun = QPushButton(translate("Environment", "Re-run checks"))
        self.rerun.clicked.connect(self.run_checks)
        self.copy_report = QPushButton(translate("Environment", "Copy report"))
        self.copy_report.setToolTip(translate("Environment", "Copy the report as Markdown for a support request"))
        self.copy_report.clicked.connect(self._copy_report)
        self.launcher = QPushButton(translate("Environment", "Write launcher…"))
        self.launcher.setToolTip(translate("Environment", "A .cmd and .ps1 that set up MSVC x64, activate this "
                                                          "environment and start a command"))
        self.launcher.clicked.connect(self._write_launcher)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.status = QLabel()
        self.status.setWordWrap(True)  # a long message wraps instead of widening the window
        for w in (self.rerun, self.copy_report, self.launcher, self.progress):
            bar.addWidget(w)
        bar.addWidget(self.status, 1)
        self._layout.addLayout(bar)

        self.table = readonly_table([translate("Environment", "Status"), translate("Environment", "Check"),
                                     translate("Environment", "Result")], stretch=2)
        self.table.itemSelectionChanged.connect(self._show_selected)

        detail_box = QWidget()
        detail = QVBoxLayout(detail_box)
        detail.setContentsMargins(0, 0, 0, 0)
        self.details = QTextBrowser()
        detail.addWidget(self.details, 1)
        fix_row = QHBoxLayout()
        self.fix_button = QPushButton(translate("Environment", "Fix"))
        self.fix_button.clicked.connect(self._run_fix)
        self.copy_command = QPushButton(translate("Environment", "Copy command"))
        self.copy_command.clicked.connect(self._copy_command)
        self.fix_reason = reason_label()  # why Fix / Copy command are greyed out: a keyboard user cannot hover them
        fix_row.addWidget(self.fix_button)
        fix_row.addWidget(self.copy_command)
        fix_row.addWidget(self.fix_reason, 1)
        fix_row.addStretch(0)
        detail.addLayout(fix_row)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(detail_box)
        split.setSizes([440, 140])
        self._layout.addWidget(split, 1)
        self._show_selected()
        QTimer.singleShot(0, self, self.run_checks)  # once the window is up; dropped if the panel is gone

    # -- running
    def check_context(self) -> CheckContext:
        return CheckContext(output_dir=str(default_output_dir(self.context.settings.current)),
                            msvc_env=load_msvc_env(user_dirs().config))

    def run_checks(self) -> None:
        if self.worker is not None:
            return
        self.rerun.setEnabled(False)
        self.status.setText(translate("Environment", "Checking…"))
        factory, ctx = self.probe_factory, self.check_context()

        def check_all(progress, cancelled):
            from services.envcheck.runner import run_checks

            return run_checks(factory(), ctx, progress, cancelled)

        self.worker = run_in_background(check_all,
                                        on_result=self._done, on_error=self._failed, on_progress=self._progress,
                                        on_cancelled=self._finished, name="environment-checks")

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.status.setText(translate("Environment", "Checking: %1").replace("%1", tr(message)))

    def _finished(self) -> None:
        self.worker = None
        self.rerun.setEnabled(True)

    def _failed(self, message: str, tb: str) -> None:
        self._finished()
        self.status.setText(translate("Environment", "The checks failed: %1").replace("%1", tr(message)))

    def _done(self, report: Report) -> None:
        self._finished()
        self.report = report
        counts = report.counts()
        self.status.setText(translate("Environment", "ok %1 · warning %2 · failed %3 · skipped %4")
                            .replace("%1", str(counts["ok"])).replace("%2", str(counts["warn"]))
                            .replace("%3", str(counts["fail"])).replace("%4", str(counts["skip"])))
        self.table.setRowCount(len(report.checks))
        for row, c in enumerate(report.checks):
            status = QTableWidgetItem(f"{STATUS_MARKS[c.status]} {status_text(c.status)}")
            status.setForeground(QColor(status_colour(c.status)))
            status.setData(Qt.ItemDataRole.UserRole, c.id)
            self.table.setItem(row, 0, status)
            self.table.setItem(row, 1, QTableWidgetItem(tr(c.title)))
            self.table.setItem(row, 2, QTableWidgetItem(tr(c.summary)))
        worst = next((i for i, c in enumerate(report.checks) if c.status == "fail"), None)
        if worst is None:
            worst = next((i for i, c in enumerate(report.checks) if c.status == "warn"), 0)
        self.table.selectRow(worst)

    # -- selection and fixes
    def selected(self) -> CheckResult | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or self.report is None:
            return None
        return self.report.checks[rows[0].row()]

    def _show_selected(self) -> None:
        c = self.selected()
        fix = c.fix if c and c.status in ("warn", "fail") else None
        runnable = bool(fix and fix.kind in ("action", "env", "job"))
        self.fix_button.setEnabled(runnable)
        self.copy_command.setEnabled(bool(fix and fix.command))
        # a greyed-out button says why: in its tooltip, and in a line beside it for the keyboard
        fix_why = ("" if runnable else translate("Environment", "Nothing to fix here") if not fix
                   else translate("Environment", "QuantDesk cannot do this fix itself: follow the steps above")
                   + (translate("Environment", " (Copy command copies the command)") if fix.command else ""))
        copy_why = "" if fix and fix.command else translate("Environment", "This fix has no command")
        self.fix_button.setToolTip(fix_why)
        self.copy_command.setToolTip(copy_why)
        if not fix:
            shown = fix_why  # one reason for both buttons
        elif not runnable and not fix.command:
            shown = translate("Environment", "QuantDesk cannot do this fix itself and it has no command: follow the "
                                             "steps above")
        else:
            shown = fix_why or copy_why
        show_reason(self.fix_reason, shown)
        if c is None:
            self.details.setHtml("")
            return
        parts = [f"<h3>{html.escape(tr(c.title))}</h3><p>{html.escape(tr(c.summary))}</p>"]
        if c.details:
            lines = [tr(line) for line in c.details.split("\n")]  # each line is its own message
            parts.append("<p>" + html.escape("\n".join(lines)).replace("\n", "<br>") + "</p>")
        if fix:
            parts.append(f"<p><b>{html.escape(translate('Environment', 'Fix'))}:</b> {html.escape(tr(fix.label))}</p>")
            if fix.command:
                parts.append(f"<pre>{html.escape(fix.command)}</pre>")
            for k, v in fix.env.items():
                parts.append(f"<pre>{html.escape(k)}={html.escape(v)}</pre>")
        self.details.setHtml("".join(parts))

    def _run_fix(self) -> None:
        c = self.selected()
        if not c or not c.fix:
            return
        if c.fix.kind == "job":
            self.start_fix_job(c.fix)
            return
        self.fix_button.setEnabled(False)
        self.status.setText(translate("Environment", "Fixing: %1").replace("%1", tr(c.fix.label)))
        fix, config, factory = c.fix, user_dirs().config, self.probe_factory

        def apply_fix():
            from services.envcheck.actions import run_fix

            return run_fix(fix, config, factory())

        run_in_background(apply_fix, on_result=self._fixed,
                          on_error=lambda msg, tb: self.status.setText(
                              translate("Environment", "The fix failed: %1").replace("%1", tr(msg))),
                          name="environment-fix")

    def start_fix_job(self, fix) -> str:
        """A long fix (the ML runtime, an engine) runs as a job: its progress and Cancel are in the Jobs panel."""
        from services.envcheck.actions import job_for_fix

        spec = job_for_fix(fix, self.probe_factory())
        self.context.jobs().submit(spec)
        self.status.setText(translate("Environment", "Started as job %1: follow it in the Jobs panel").replace(
            "%1", spec.id))
        self.context.open_panel("jobs")
        return spec.id

    def _fixed(self, outcome: str) -> None:
        self.status.setText(tr(outcome))
        self.run_checks()

    def _copy_command(self) -> None:
        c = self.selected()
        if c and c.fix and c.fix.command:
            QGuiApplication.clipboard().setText(c.fix.command)

    def _copy_report(self) -> None:
        if self.report:
            QGuiApplication.clipboard().setText(self.report.to_markdown())
            self.status.setText(translate("Environment", "Report copied as Markdown."))

    def _write_launcher(self) -> None:
        command, ok = QInputDialog.getText(self, translate("Environment", "Write launcher"),
                                           translate("Environment", "Command to start:"), text="quantdesk")
        if not ok or not command.strip():
            return
        folder = QFileDialog.getExistingDirectory(self, translate("Environment", "Folder for the launcher"))
        if not folder:
            return
        self.write_launcher(Path(folder), command.strip())

    def write_launcher(self, folder: Path, command: str) -> tuple[Path, Path]:
        from services.envcheck.launcher import LauncherSpec, write_launchers

        msvc = load_msvc_env(user_dirs().config) or {}
        conda = os.environ.get("CONDA_PREFIX")
        spec = LauncherSpec(command=command, python_prefix=conda or sys.prefix, vcvars=msvc.get("vcvars"),
                            conda_root=os.environ.get("CONDA_ROOT") or (str(Path(conda).parents[1]) if conda else None))
        cmd, ps1 = write_launchers(folder, "quantdesk-launch", spec)
        self.status.setText(translate("Environment", "Wrote %1 and %2").replace("%1", str(cmd)).replace("%2", str(ps1)))
        return cmd, ps1

    def retheme(self) -> None:
        if self.report is not None and self.worker is None:
            selected = self.selected()
            self._done(self.report)  # the status column's colours
            if selected is not None:
                rows = [i for i, c in enumerate(self.report.checks) if c.id == selected.id]
                if rows:
                    self.table.selectRow(rows[0])

    def shutdown(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
