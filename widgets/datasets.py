"""The Datasets panel: pick a calibration source, preview it, see its statistics and samples."""
from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QWidget,
)

from app.context import AppContext
from app.workers import run_in_background
from services.childproc import run_quantdesk
from widgets import charts
from widgets.forms import pick_text_file, remember_source, row, source_combo, spin
from widgets.i18n import translate
from widgets.panel import Panel
from widgets.service_text import translate_service
from widgets.theme import colour


class DatasetsPanel(Panel):
    PANEL_ID = "datasets"
    SUMMARY = QT_TRANSLATE_NOOP("Panels", "Calibration text from hub names, local files and folders, with preview "
                                          "and token statistics.")

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(context, parent)
        self.worker = None
        self.result: dict | None = None

        src = QHBoxLayout()
        self.source = source_combo(context.settings)
        self.source.setMinimumWidth(420)
        self.source.lineEdit().setPlaceholderText(translate("Datasets", "A dataset name, a file or a folder"))
        pick_file = QPushButton(translate("Datasets", "File…"))
        pick_file.clicked.connect(self._pick_file)
        pick_dir = QPushButton(translate("Datasets", "Folder…"))
        pick_dir.clicked.connect(self._pick_folder)
        src.addWidget(QLabel(translate("Datasets", "Source")))
        src.addWidget(self.source, 1)
        src.addWidget(pick_file)
        src.addWidget(pick_dir)
        self._layout.addLayout(src)

        opts = QGridLayout()
        self.field = QLineEdit()
        self.field.setPlaceholderText(translate("Datasets", "auto"))
        self.text_split = QComboBox()
        self.text_split.addItem(translate("Datasets", "blank-line blocks"), "blocks")
        self.text_split.addItem(translate("Datasets", "lines"), "lines")
        self.tokenizer = QLineEdit()
        self.tokenizer.setPlaceholderText(translate("Datasets", "Model folder (for token statistics)"))
        pick_tok = QPushButton(translate("Datasets", "Browse…"))
        pick_tok.clicked.connect(self._pick_tokenizer)
        self.samples = spin(1, 100000, 128)
        self.seqlen = spin(8, 131072, 512)
        self.mode = QComboBox()
        self.mode.addItem(translate("Datasets", "concatenate and cut into blocks"), "concat")
        self.mode.addItem(translate("Datasets", "one text per sample, truncated"), "truncate")
        self.seed = spin(0, 2**31 - 1, 42)
        self.min_chars = spin(1, 1_000_000, 1)
        rows = [
            (translate("Datasets", "Field / column"), self.field, translate("Datasets", "Text files split into"), self.text_split),
            (translate("Datasets", "Samples"), self.samples, translate("Datasets", "Sequence length"), self.seqlen),
            (translate("Datasets", "Mode"), self.mode, translate("Datasets", "Seed"), self.seed),
            (translate("Datasets", "Minimum characters"), self.min_chars, None, None),
        ]
        for r, (l1, w1, l2, w2) in enumerate(rows):
            opts.addWidget(QLabel(l1), r, 0)
            opts.addWidget(w1, r, 1)
            if l2:
                opts.addWidget(QLabel(l2), r, 2)
                opts.addWidget(w2, r, 3)
        tok = row(self.tokenizer, pick_tok)
        opts.addWidget(QLabel(translate("Datasets", "Tokenizer")), len(rows), 0)
        opts.addLayout(tok, len(rows), 1, 1, 3)
        self._layout.addLayout(opts)

        run_row = QHBoxLayout()
        self.preview_button = QPushButton(translate("Datasets", "Preview"))
        self.preview_button.setDefault(True)
        self.preview_button.clicked.connect(self.start_preview)
        self.cancel_button = QPushButton(translate("Datasets", "Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(240)
        self.status = QLabel()
        self.status.setWordWrap(True)
        for w in (self.preview_button, self.cancel_button, self.progress):
            run_row.addWidget(w)
        run_row.addWidget(self.status, 1)
        self._layout.addLayout(run_row)
        self.warnings = QLabel()  # what decides whether this source will do: above the fold, not under the table
        self.warnings.setObjectName("datasetWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setVisible(False)
        self._layout.addWidget(self.warnings)

        top = QSplitter()
        self.stats = QLabel(translate("Datasets", "Pick a source and press Preview."))
        self.stats.setWordWrap(True)
        self.stats.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        stats_scroll = QScrollArea()
        stats_scroll.setWidgetResizable(True)
        stats_scroll.setWidget(self.stats)
        top.addWidget(stats_scroll)
        self.histogram = charts.plot(translate("Datasets", "Tokens per text"), translate("Datasets", "tokens"),
                                     translate("Datasets", "texts"))
        top.addWidget(self.histogram)
        top.setSizes([460, 480])
        self.texts = QPlainTextEdit()
        self.texts.setReadOnly(True)
        self.texts.setPlaceholderText(translate("Datasets", "The first texts appear here."))
        results = QSplitter(Qt.Orientation.Vertical)
        results.addWidget(top)
        results.addWidget(self.texts)
        results.setSizes([300, 200])
        self._layout.addWidget(results, 1)

    def _pick_file(self) -> None:
        pick_text_file(self, self.source, translate("Datasets", "Calibration file"))

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("Datasets", "Calibration folder"))
        if path:
            self.source.setCurrentText(path)

    def _pick_tokenizer(self) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("Datasets", "Model or tokenizer folder"))
        if path:
            self.tokenizer.setText(path)

    def args(self) -> list[str]:
        """The `quantdesk datasets preview` arguments for the current settings."""
        a = ["datasets", "preview", self.source.currentText().strip(), "--samples", str(self.samples.value()),
             "--seqlen", str(self.seqlen.value()), "--mode", self.mode.currentData(), "--seed", str(self.seed.value()),
             "--split", self.text_split.currentData(), "--min-chars", str(self.min_chars.value())]
        if self.field.text().strip():
            a += ["--field", self.field.text().strip()]
        if self.tokenizer.text().strip():
            a += ["--tokenizer", self.tokenizer.text().strip()]
        return a

    def start_preview(self) -> None:
        if self.worker is not None:
            return
        if not self.source.currentText().strip():
            self.status.setText(translate("Datasets", "Type a dataset name or pick a file or folder first."))
            return
        self.preview_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self._clear(translate("Datasets", "Reading…"))
        self.status.setText(translate("Datasets", "Reading…"))
        self.worker = run_in_background(run_quantdesk, self.args(), on_result=self._done, on_error=self._failed,
                                        on_progress=self._progress, on_cancelled=self._cancelled,
                                        name="dataset-preview")

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def _progress(self, done: int, total: int, message: str) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.status.setText(translate_service(message))

    def _idle(self) -> None:
        self.worker = None
        self.preview_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 1)

    def _cancelled(self) -> None:
        self._idle()
        self.progress.setValue(0)
        self.status.setText(translate("Datasets", "Cancelled."))

    def _clear(self, note: str) -> None:
        """Forget the previous preview: its statistics must not stand beside another source's error."""
        self.result = None
        self.stats.setText(note)
        self.histogram.clear()
        self.texts.clear()
        self.warnings.setVisible(False)

    def _failed(self, message: str, tb: str) -> None:
        self._idle()
        self.progress.setValue(0)
        self.status.setText(f'<span style="color:{colour("error")}">{html.escape(translate_service(message))}</span>')
        self._clear(translate("Datasets", "No statistics: this source could not be read."))

    def _done(self, doc: dict) -> None:
        self._idle()
        self.progress.setValue(1)
        self.result = doc
        remember_source(self.context.settings, doc["source"])
        self.status.setText(translate("Datasets", "Read in %1 s.").replace("%1", f"{doc['seconds']:.1f}"))
        rows = [
            (translate("Datasets", "Texts"), f"{doc['texts']:,}"),
            (translate("Datasets", "Characters"), f"{doc['chars']:,}"),
            (translate("Datasets", "Encoding"), doc["encoding"] + (f" · {doc['field']}" if doc["field"] else "")),
            (translate("Datasets", "CJK share"), f"{doc['cjk_share']:.1%}"),
        ]
        tok = doc.get("tokens")
        if tok:
            q = tok["quantiles"]
            rows += [
                (translate("Datasets", "Tokens"), f"{tok['total']:,}"),
                (translate("Datasets", "Tokens per text"), f"p10 {q['p10']} · p50 {q['p50']} · p90 {q['p90']} · max {q['p100']}"),
                (translate("Datasets", "Shorter than the sequence length"), f"{tok['shorter_than_seqlen']:.0%}"),
                (translate("Datasets", "Samples available"), f"{doc['samples_available']:,}"),
                (translate("Datasets", "Token hash"), doc["token_hash"][:16]),
            ]
        else:
            rows.append((translate("Datasets", "Tokens"), translate("Datasets", "pick a tokenizer for token statistics")))
        table = "".join(f"<tr><td>{html.escape(k)}</td><td><b>{html.escape(v)}</b></td></tr>" for k, v in rows)
        warns = "".join(f'<li style="color:{colour("warn")}">{html.escape(translate_service(w))}</li>' for w in doc["warnings"])
        self.warnings.setText(f'<ul style="margin:0">{warns}</ul>')
        self.warnings.setVisible(bool(doc["warnings"]))
        self.stats.setText(f"<table cellspacing=4>{table}</table>")
        self.texts.setPlainText("\n\n―――\n\n".join(doc["first_texts"]))
        self.histogram.clear()
        if tok and tok["histogram"]["counts"]:
            edges, counts = tok["histogram"]["edges"], tok["histogram"]["counts"]
            width = edges[1] - edges[0]
            self.histogram.addItem(pg.BarGraphItem(x0=edges[:-1], height=counts, width=width * 0.9, brush=colour("accent")))
            self.histogram.addItem(pg.InfiniteLine(pos=self.seqlen.value(), angle=90,
                                                   pen=pg.mkPen(colour("error"), style=pg.QtCore.Qt.PenStyle.DashLine),
                                                   label=translate("Datasets", "sequence length"),
                                                   labelOpts={"position": 0.9, "color": colour("error")}))

    def shutdown(self) -> None:
        self.cancel()
