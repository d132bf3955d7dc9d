"""The "Run on" choice of the job panels: this machine, or one of the clusters in Settings > Clusters."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QWidget

from widgets.i18n import translate


class RunOnCombo(QComboBox):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("runOn")
        self.setToolTip(translate("RunOn", "Where the job runs. Clusters are set up in Settings > Clusters; a "
                                           "cluster's job reads the model from its shared storage and its output "
                                           "stays there until you fetch it."))
        self.refresh()

    def refresh(self) -> None:
        """Reload the clusters (kept: the current choice, when it still exists)."""
        from services.clusters.config import ClusterError, load_clusters

        current = self.cluster()
        self.blockSignals(True)
        self.clear()
        self.addItem(translate("RunOn", "This machine"), "")
        try:
            clusters = load_clusters()
        except ClusterError:
            clusters = None
        for name in clusters.names() if clusters else []:
            self.addItem(translate("RunOn", "Cluster %1").replace("%1", name), name)
        index = self.findData(current or "")
        self.setCurrentIndex(max(0, index))
        self.blockSignals(False)

    def cluster(self) -> str | None:
        return self.currentData() or None
