"""The Settings dialog: language, theme, default output folder, job concurrency; the clusters in their own tab."""
from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from services.settings import Settings, default_output_dir
from widgets.forms import row
from widgets.i18n import translate

LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}
THEME_NAMES = {"system": QT_TRANSLATE_NOOP("SettingsDialog", "Follow the system"),
               "light": QT_TRANSLATE_NOOP("SettingsDialog", "Light"), "dark": QT_TRANSLATE_NOOP("SettingsDialog", "Dark")}


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(translate("SettingsDialog", "Settings"))
        outer = QVBoxLayout(self)
        self.tabs = QTabWidget()
        outer.addWidget(self.tabs)
        general = QWidget()
        form = QFormLayout(general)
        self.tabs.addTab(general, translate("SettingsDialog", "General"))
        from widgets.clusters_editor import ClustersEditor

        self.clusters = ClustersEditor()
        self.tabs.addTab(self.clusters, translate("SettingsDialog", "Clusters"))

        self.language = QComboBox()
        for code, name in LANGUAGE_NAMES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.language)))
        form.addRow(translate("SettingsDialog", "Language"), self.language)

        self.theme = QComboBox()
        for code, name in THEME_NAMES.items():
            self.theme.addItem(translate("SettingsDialog", name), code)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.theme.setToolTip(translate("SettingsDialog", "Applies at once; \"Follow the system\" also follows "
                                                          "a change of the desktop's light or dark mode"))
        form.addRow(translate("SettingsDialog", "Theme"), self.theme)

        self.output_dir = QLineEdit(str(default_output_dir(settings)))
        browse = QPushButton(translate("SettingsDialog", "Browse…"))
        browse.clicked.connect(self._browse)
        form.addRow(translate("SettingsDialog", "Default output folder"), row(self.output_dir, browse))

        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 16)
        self.concurrency.setValue(settings.job_concurrency)
        self.concurrency.setMaximumWidth(120)
        self.concurrency.setToolTip(translate("SettingsDialog", "How many jobs run at once. One is safest on a single GPU."))
        form.addRow(translate("SettingsDialog", "Jobs at once"), self.concurrency)

        from app.i18n import running_language

        self.running = running_language()
        self.restart_requested = False
        self.running_note = QLabel(translate("SettingsDialog", "This window runs in %1 (chosen when it started).")
                                   .replace("%1", LANGUAGE_NAMES.get(self.running, self.running)))
        self.running_note.setVisible(self.running != settings.language)
        form.addRow(self.running_note)
        self.restart_note = QLabel(translate("SettingsDialog", "A new language applies when QuantDesk restarts."))
        self.restart_button = QPushButton(translate("SettingsDialog", "Save and restart now"))
        self.restart_button.clicked.connect(self._restart)
        self.restart_row = row(self.restart_note, self.restart_button)
        form.addRow(self.restart_row)
        self.language.currentIndexChanged.connect(self._language_changed)
        self._language_changed()

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)

    def _language_changed(self, *_) -> None:
        differs = self.language.currentData() != self.running
        self.restart_note.setVisible(differs)
        self.restart_button.setVisible(differs)

    def _restart(self) -> None:
        self.restart_requested = True
        self.accept()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, translate("SettingsDialog", "Default output folder"), self.output_dir.text())
        if folder:
            self.output_dir.setText(folder)

    def apply_to(self, settings: Settings) -> None:
        """Write the dialog's fields into `settings` (the others, e.g. recent lists, stay as they are)."""
        settings.language = self.language.currentData()
        settings.theme = self.theme.currentData()
        settings.output_dir = self.output_dir.text().strip()
        settings.job_concurrency = self.concurrency.value()
