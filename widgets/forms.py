"""Small builders shared by the panels' forms: spin boxes, read-only tables, text-source pickers, scrolling
forms, the reason beside a greyed-out button and the Tab order."""
from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollArea,
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
COMBO_CHARS = 14  # a combo box of long items (paths, job outputs) is this many characters wide, not the longest item


def narrow_combo(c: QComboBox, chars: int = COMBO_CHARS) -> QComboBox:
    """`c` no longer widens the window to its longest item: it takes the width its layout gives it (at least
    `chars` characters) and elides the rest."""
    c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    c.setMinimumContentsLength(chars)
    return c


class FormScroll(QScrollArea):
    """A frameless vertical scroll area around a form: a long form scrolls on a small window instead of making
    the window taller. It is as wide as the form needs (no horizontal scrolling), so the window's minimum width
    still comes from the form's own."""

    def __init__(self, body: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no empty Tab stop: Tab goes to the fields (it scrolls to them)
        self.setWidget(body)

    def _width(self) -> int:
        body = self.widget()
        return (body.minimumSizeHint().width() if body else 0) + self.verticalScrollBar().sizeHint().width()

    def minimumSizeHint(self) -> QSize:
        return QSize(self._width(), super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(max(self._width(), super().sizeHint().width()), super().sizeHint().height())


def scrolling(body: QWidget) -> FormScroll:
    return FormScroll(body)


def reason_label() -> QLabel:
    """A small muted line beside a button that says why the button is greyed out (a keyboard user cannot hover a
    disabled button to read its tooltip). Hidden while there is nothing to say."""
    label = QLabel()
    label.setObjectName("reason")
    label.setWordWrap(True)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.9)
    label.setFont(font)
    label.setVisible(False)
    return label


def show_reason(label: QLabel, text: str) -> None:
    """Show `text` (plain) in `label` in the theme's muted colour, or hide the label when `text` is empty."""
    from widgets.theme import colour

    label.setText(f'<span style="color:{colour("muted")}">{html.escape(text)}</span>' if text else "")
    label.setToolTip(text)
    label.setVisible(bool(text))


def tab_chain(*widgets: QWidget | None) -> None:
    """Tab moves through `widgets` in this order (the order they are on screen); None entries are skipped."""
    chain = [w for w in widgets if w is not None]
    for a, b in zip(chain, chain[1:], strict=False):
        QWidget.setTabOrder(a, b)


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
    c = narrow_combo(QComboBox())
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
