"""Translation helper: write `translate("Context", "text")` with literals so lupdate finds them."""
from PySide6.QtCore import QCoreApplication

translate = QCoreApplication.translate
