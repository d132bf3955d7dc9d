"""Help → Export logs…: a preview of what the support bundle holds (already redacted), then the zip."""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.workers import run_in_background
from services.support.bundle import plan_bundle, write_bundle
from widgets.forms import readonly_table, spin
from widgets.i18n import translate


class SupportDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(translate("Support", "Export logs"))
        self.resize(760, 520)
        self.plan = self.redactor = None
        self.written: Path | None = None
        self._generation = 0  # a preview that was superseded is ignored when it arrives
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(translate("Support", "A zip for a problem report: app logs, recent jobs, the "
                                                     "environment report, settings and versions. Tokens, keys, "
                                                     "passwords, e-mail addresses and your user and machine names "
                                                     "are replaced before anything is written.")))
        options = QHBoxLayout()
        self.jobs = spin(0, 500, 10, self.preview)
        self.doctor = QCheckBox(translate("Support", "include the environment report"))
        self.doctor.setChecked(True)
        self.doctor.toggled.connect(self.preview)
        options.addWidget(QLabel(translate("Support", "Newest jobs")))
        options.addWidget(self.jobs)
        options.addWidget(self.doctor)
        options.addStretch(1)
        layout.addLayout(options)
        self.table = readonly_table([translate("Support", "File"), translate("Support", "Kind"),
                                     translate("Support", "Size")], stretch=0)
        layout.addWidget(self.table, 1)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        buttons = QHBoxLayout()
        self.save_button = QPushButton(translate("Support", "Save zip…"))
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save)
        close = QPushButton(translate("Support", "Close"))
        close.clicked.connect(self.reject)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.preview()

    def preview(self, *_) -> None:
        self.save_button.setEnabled(False)
        self.summary.setText(translate("Support", "Collecting…"))
        self._generation += 1
        generation = self._generation
        run_in_background(_plan, self.jobs.value(), self.doctor.isChecked(),
                          on_result=lambda r: self._show(r) if generation == self._generation else None,
                          on_error=lambda msg, tb: self.summary.setText(msg), name="support-preview")

    def _show(self, result) -> None:
        self.plan, self.redactor = result
        self.table.setRowCount(len(self.plan.entries))
        for i, e in enumerate(self.plan.entries):
            for col, text in enumerate((e.name, e.kind, f"{len(e.text.encode('utf-8')) / 1024:.1f} KiB")):
                self.table.setItem(i, col, QTableWidgetItem(text))
        counts = ", ".join(f"{v} × {k}" for k, v in self.redactor.counts.items()) or translate("Support", "none")
        text = translate("Support", "%1 files, %2 MB. Redacted: %3.").replace("%1", str(len(self.plan.entries))) \
            .replace("%2", f"{self.plan.size() / 1e6:.1f}").replace("%3", counts)
        if self.plan.dropped:
            text += " " + translate("Support", "%1 old logs left out to stay under the size cap.") \
                .replace("%1", str(len(self.plan.dropped)))
        self.summary.setText(text)
        self.save_button.setEnabled(True)

    def save(self, path: str | None = None) -> None:
        if path is None:
            default = Path.home() / f"quantdesk-support-{time.strftime('%Y%m%d-%H%M%S')}.zip"
            path, _ = QFileDialog.getSaveFileName(self, translate("Support", "Save support bundle"), str(default),
                                                  "Zip (*.zip)")
        if not path or self.plan is None:
            return
        if not path.lower().endswith(".zip"):
            path += ".zip"
        self.save_button.setEnabled(False)
        run_in_background(write_bundle, Path(path), self.plan, self.redactor, on_result=self._saved,
                          on_error=lambda msg, tb: self.summary.setText(msg), name="support-write")

    def _saved(self, out: Path) -> None:
        self.written = out
        self.save_button.setEnabled(True)
        self.summary.setText(translate("Support", "Saved %1").replace("%1", str(out)))


def _plan(jobs: int, doctor: bool):
    return plan_bundle(last_jobs=jobs, doctor=doctor)
