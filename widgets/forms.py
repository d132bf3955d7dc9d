"""Small builders shared by the panels' forms: spin boxes, read-only tables, text-source pickers."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QWidget,
)

from app.settingsstore import SettingsStore
from services.datasets.catalog import CATALOG
from widgets.i18n import translate

TEXT_FILES = "Text (*.txt *.md *.jsonl *.json *.csv *.parquet);;All (*)"
MAX_RECENT = 10


def row(*widgets: QWidget) -> QHBoxLayout:
    """Widgets side by side; line edits and combo boxes take the spare width."""
    layout = QHBoxLayout()
    for w in widgets:
        layout.addWidget(w, 1 if isinstance(w, QLineEdit | QComboBox) else 0)
    return layout


SPIN_WIDTH = 180


def spin(lo: int, hi: int, value: int, on_change: Callable | None = None, step: int | None = None) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    s.setMaximumWidth(SPIN_WIDTH)  # a number does not need the form's whole width
    if step:
        s.setSingleStep(step)
    if on_change:
        s.valueChanged.connect(on_change)
    return s


def dspin(lo: float, hi: float, value: float, on_change: Callable | None = None, step: float | None = None,
          suffix: str = "") -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    s.setMaximumWidth(SPIN_WIDTH)
    if step:
        s.setSingleStep(step)
    if suffix:
        s.setSuffix(suffix)
    if on_change:
        s.valueChanged.connect(on_change)
    return s


def readonly_table(headers: list[str], stretch: int) -> QTableWidget:
    """A table of whole-row, single selection, compact rows; column `stretch` takes the spare width."""
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    header = t.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    t.verticalHeader().setVisible(False)
    rows = t.verticalHeader()  # compact rows: a 17-check report fits at 1200x800
    rows.setMinimumSectionSize(1)
    rows.setDefaultSectionSize(t.fontMetrics().height() + 8)
    t.setTabKeyNavigation(False)  # Tab leaves the table; the arrows move inside it
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return t


def source_combo(settings: SettingsStore, default: str = "") -> QComboBox:
    """An editable list of the user's recent text sources and the named datasets."""
    c = QComboBox()
    c.setEditable(True)
    for r in settings.current.recent.get("datasets", []):
        c.addItem(r)
    for name, d in CATALOG.items():
        c.addItem(name)
        c.setItemData(c.count() - 1, d.hub_id + (f" — {d.note}" if d.note else ""), 3)  # tooltip
    c.setCurrentText(default)
    return c


def pick_text_file(parent: QWidget, combo: QComboBox, title: str | None = None) -> None:
    path, _ = QFileDialog.getOpenFileName(parent, title or translate("Forms", "Text file"), "", TEXT_FILES)
    if path:
        combo.setCurrentText(path)


def remember_source(settings: SettingsStore, source: str) -> None:
    """Put `source` first in the user's recent text sources."""

    def put_first(s) -> None:
        recent = [r for r in s.recent.get("datasets", []) if r != source]
        s.recent["datasets"] = [source, *recent][:MAX_RECENT]

    settings.update(put_first)
