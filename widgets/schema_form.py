"""A form built from a backend's settings schema (services/quant/backends/base.py `Setting`)."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from widgets.forms import SPIN_WIDTH
from widgets.i18n import translate

# Labels of the settings the backends declare, for lupdate (context "Settings")
LABELS = {
    "bits": QT_TRANSLATE_NOOP("Settings", "Weight bits"),
    "group_size": QT_TRANSLATE_NOOP("Settings", "Group size"),
    "zero_point": QT_TRANSLATE_NOOP("Settings", "zero point (asymmetric)"),
    "version": QT_TRANSLATE_NOOP("Settings", "Kernel layout"),
    "actorder": QT_TRANSLATE_NOOP("Settings", "Activation order (GPTQ)"),
    "dampening_frac": QT_TRANSLATE_NOOP("Settings", "Dampening (GPTQ)"),
    "smoothing_strength": QT_TRANSLATE_NOOP("Settings", "Smoothing strength (W8A8)"),
    "gpu": QT_TRANSLATE_NOOP("Settings", "GPU"),
    "gpu_mem": QT_TRANSLATE_NOOP("Settings", "GPU memory (GiB)"),
    "context": QT_TRANSLATE_NOOP("Settings", "Context (tokens)"),
    "max_seqs": QT_TRANSLATE_NOOP("Settings", "Sequences at once"),
    "kv": QT_TRANSLATE_NOOP("Settings", "KV cache"),
    "tp": QT_TRANSLATE_NOOP("Settings", "Tensor parallel (GPUs)"),
    "port": QT_TRANSLATE_NOOP("Settings", "Port"),
    "served_name": QT_TRANSLATE_NOOP("Settings", "Served model name"),
    "engine": QT_TRANSLATE_NOOP("Settings", "Engine"),
    "gguf_type": QT_TRANSLATE_NOOP("Settings", "GGUF type"),
    "llama_quantize": QT_TRANSLATE_NOOP("Settings", "llama-quantize"),
    "die_num": QT_TRANSLATE_NOOP("Settings", "NPU dies"),
    "prefill": QT_TRANSLATE_NOOP("Settings", "Prefill length"),
    "max_kv": QT_TRANSLATE_NOOP("Settings", "Max KV length"),
    "image_tag": QT_TRANSLATE_NOOP("Settings", "Image tag"),
    "die_remap": QT_TRANSLATE_NOOP("Settings", "LM die remap (16)"),
    "vm_die_remap": QT_TRANSLATE_NOOP("Settings", "VM die remap (16)"),
    "compile_threads": QT_TRANSLATE_NOOP("Settings", "Compile threads"),
    "gguf_verify": QT_TRANSLATE_NOOP("Settings", "compare logits with the source after writing"),
    "registry": QT_TRANSLATE_NOOP("Settings", "Registry"),
    "precision": QT_TRANSLATE_NOOP("Settings", "Precision"),
}


class SchemaForm:
    """One row per Setting in `form`, from row `at` on; `values()` gives {name: value}."""

    def __init__(self, form: QFormLayout, at: int, on_change: Callable[[], None]):
        self._form, self._at = form, at
        self._on_change = on_change
        self.fields: dict[str, QWidget] = {}

    def _add(self, label: str | None, w: QWidget) -> None:
        row = self._at + len(self.fields)
        if label is None:
            self._form.insertRow(row, w)
        else:
            self._form.insertRow(row, label, w)

    def set_schema(self, schema) -> None:
        for _ in self.fields:
            self._form.removeRow(self._at)
        self.fields = {}
        for st in schema:
            label = translate("Settings", LABELS[st.name]) if st.name in LABELS else st.name
            if st.type is bool:
                w = QCheckBox(label)
                w.setChecked(bool(st.default))
                w.toggled.connect(self._on_change)
                self._add(None, w)
            elif st.choices:
                w = QComboBox()
                w.addItems([str(c) for c in st.choices])
                w.setCurrentText(str(st.default))
                w.currentIndexChanged.connect(self._on_change)
                self._add(label, w)
            elif st.type is str:
                w = QLineEdit("" if st.default is None else str(st.default))
                w.setPlaceholderText(translate("Settings", "default"))
                w.textChanged.connect(self._on_change)
                self._add(label, w)
            elif st.type is float:
                w = QDoubleSpinBox()
                w.setMaximumWidth(SPIN_WIDTH)  # a number does not need the form's whole width
                lo, hi = st.bounds or (0.0, 1.0)
                w.setDecimals(3 if hi <= 1 else 1)
                w.setRange(float(lo), float(hi))
                w.setSingleStep(0.01 if hi <= 1 else 1.0)
                if st.default is None:  # the lowest value stands for "not set"
                    w.setSpecialValueText(translate("Settings", "auto"))
                w.setValue(float(lo if st.default is None else st.default))
                w.valueChanged.connect(self._on_change)
                self._add(label, w)
            else:
                w = QSpinBox()
                w.setMaximumWidth(SPIN_WIDTH)
                lo, hi = st.bounds or (1, 1 << 20)
                if st.default is None:  # one below the lowest value stands for "auto"
                    lo -= 1
                    w.setSpecialValueText(translate("Settings", "auto"))
                w.setRange(int(lo), int(hi))
                w.setValue(int(lo if st.default is None else st.default))
                w.valueChanged.connect(self._on_change)
                self._add(label, w)
            w.setToolTip(st.help)
            w.setProperty("settingType", st.type.__name__)
            self.fields[st.name] = w

    def values(self) -> dict:
        out: dict = {}
        for name, w in self.fields.items():
            if isinstance(w, QCheckBox):
                out[name] = w.isChecked()
            elif isinstance(w, QComboBox):
                out[name] = int(w.currentText()) if w.property("settingType") == "int" else w.currentText()
            elif isinstance(w, QLineEdit):
                if w.text().strip():
                    out[name] = w.text().strip()
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)) and w.specialValueText() and w.value() == w.minimum():
                continue  # "auto"
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                out[name] = w.value()
        return out

    def set_value(self, name: str, value) -> None:
        w = self.fields[name]
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QLineEdit):
            w.setText("" if value is None else str(value))
        elif isinstance(w, QComboBox):
            w.setCurrentText(str(value))
        elif isinstance(w, QDoubleSpinBox):
            w.setValue(float(value))
        elif isinstance(w, QSpinBox):
            w.setValue(int(value))
