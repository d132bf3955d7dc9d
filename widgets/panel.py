"""The base of every panel in the main window's navigation."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.context import AppContext
from widgets.i18n import translate
from widgets.registry import BY_ID


class Panel(QWidget):
    """A page of the main window. Subclasses set PANEL_ID and SUMMARY (QT_TRANSLATE_NOOP).

    `context` carries the job service, the sampler and the settings; panels take them from it only.
    """

    PANEL_ID = ""
    SUMMARY = ""

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.setObjectName(f"panel-{self.PANEL_ID}")
        self._layout = QVBoxLayout(self)
        heading = QLabel(BY_ID[self.PANEL_ID].title)
        heading.setObjectName("panelHeading")
        self._layout.addWidget(heading)
        if self.SUMMARY:
            summary = QLabel(translate("Panels", self.SUMMARY))
            summary.setWordWrap(True)
            summary.setObjectName("panelSummary")
            self._layout.addWidget(summary)

    def open_with(self, **kwargs) -> None:
        """Another panel sent the user here with these arguments (e.g. model=...)."""

    def shown(self) -> None:
        """Called each time the panel becomes the visible one (refresh cheap state here)."""

    def shutdown(self) -> None:
        """Called when the window closes: stop timers, let go of resources."""

    def retheme(self) -> None:
        """The theme changed (light/dark): redraw what holds colours of its own (status words, rich text)."""


class PlannedPanel(Panel):
    """A panel whose capability is not built yet: it says so plainly and lists what is coming."""

    PLANNED = ""

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(context, parent)
        self.note = QLabel(translate("Panels", "Not built yet in this version.") + "\n\n"
                           + translate("Panels", self.PLANNED))
        self.note.setObjectName("plannedNote")
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._layout.addWidget(self.note)
        self._layout.addStretch(1)


class BrokenPanel(Panel):
    """Stands in for a panel whose construction failed, so the rest of the window keeps working."""

    def __init__(self, context: AppContext, panel_id: str, error: str, parent: QWidget | None = None):
        self.PANEL_ID = panel_id  # before Panel.__init__, which titles the page by it
        super().__init__(context, parent)
        self.note = QLabel(translate("Panels", "This panel failed to open. The details are in the log; "
                                               "please include them in a support request.") + "\n\n" + error)
        self.note.setWordWrap(True)
        self.note.setObjectName("plannedNote")
        self._layout.addWidget(self.note)
        self._layout.addStretch(1)
