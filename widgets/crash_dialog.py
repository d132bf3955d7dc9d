"""The dialog shown for an unhandled error or a hard crash found from the last run."""
from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from widgets.i18n import translate


class CrashDialog(QDialog):
    def __init__(self, title: str, details: str, recent_log: str = "", parent: QWidget | None = None,
                 intro: str | None = None):
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle(translate("CrashDialog", "QuantDesk hit an error"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(intro or translate("CrashDialog",
            "Something went wrong. Your jobs and settings are safe; the details below are also in "
            "the log file. Copy them into a support request.")))
        head = QLabel(title)
        head.setWordWrap(True)
        head.setObjectName("crashTitle")
        layout.addWidget(head)
        text = details
        if recent_log:
            text += "\n\n" + translate("CrashDialog", "Recent log:") + "\n" + recent_log
        self.text = QPlainTextEdit(text)
        self.text.setReadOnly(True)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton(translate("CrashDialog", "Copy"), QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(720, 480)
