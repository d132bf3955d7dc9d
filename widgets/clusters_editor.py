"""Settings > Clusters: the Ray clusters jobs can run on; each is saved as soon as the user saves it."""
from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.workers import run_in_background
from services.clusters.config import Cluster, ClusterError, Clusters, Storage, load_clusters, save_clusters
from widgets.i18n import translate
from widgets.theme import colour


def parse_storage(text: str) -> list[Storage]:
    """One folder per line: `REMOTE = LOCAL`, or `REMOTE =` when it is not mounted here, or `REMOTE` alone
    when this machine names it the same."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        remote, sep, local = line.partition("=")
        out.append(Storage(remote.strip(), local.strip() if sep else remote.strip()))
    return out


def storage_text(storage: list[Storage]) -> str:
    return "\n".join(s.remote if s.local == s.remote else f"{s.remote} = {s.local}" for s in storage)


def check_resources(cluster: Cluster) -> str:
    from services.clusters.executor import RayExecutor
    from services.clusters.resources import ClusterResources

    return ClusterResources.from_answer(RayExecutor(cluster, timeout_s=20).call("resources")).summary()


class ClustersEditor(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("clustersEditor")
        try:
            self.clusters = load_clusters()
            problem = ""
        except ClusterError as exc:
            self.clusters, problem = Clusters(), str(exc)
        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._show)
        left.addWidget(self.list, 1)
        new = QPushButton(translate("Clusters", "New cluster"))
        new.clicked.connect(self.new)
        left.addWidget(new)
        layout.addLayout(left, 1)

        right = QVBoxLayout()
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText("lab-gpu")
        self.address = QLineEdit()
        self.address.setPlaceholderText("http://10.0.0.5:8265")
        self.header = QLineEdit()
        self.header.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.header.setPlaceholderText("Authorization: Bearer …")
        self.storage = QPlainTextEdit()
        self.storage.setPlaceholderText("/mnt/shared = Z:\\shared")
        self.storage.setMaximumHeight(72)
        self.python = QLineEdit("python")
        self.default = QCheckBox(translate("Clusters", "default cluster"))
        form.addRow(translate("Clusters", "Name"), self.name)
        form.addRow(translate("Clusters", "Ray dashboard"), self.address)
        form.addRow(translate("Clusters", "Auth header"), self.header)
        form.addRow(translate("Clusters", "Shared storage"), self.storage)
        form.addRow(translate("Clusters", "Python on the nodes"), self.python)
        form.addRow(self.default)
        right.addLayout(form)
        hint = QLabel(translate("Clusters", "Shared storage: one folder per line, as the cluster's nodes name it, "
                                            "then = and where it is mounted on this machine (nothing after = when "
                                            "it is not). Jobs read models from there; outputs stay there."))
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color:{colour('muted')}")
        right.addWidget(hint)
        buttons = QHBoxLayout()
        self.save_button = QPushButton(translate("Clusters", "Save"))
        self.save_button.clicked.connect(self.save)
        self.remove_button = QPushButton(translate("Clusters", "Remove"))
        self.remove_button.clicked.connect(self.remove)
        self.check_button = QPushButton(translate("Clusters", "Check"))
        self.check_button.setToolTip(translate("Clusters", "Ask the cluster for its nodes, GPUs and memory"))
        self.check_button.clicked.connect(self.check)
        for b in (self.save_button, self.remove_button, self.check_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        right.addLayout(buttons)
        self.status = QLabel(html.escape(problem))
        self.status.setWordWrap(True)
        right.addWidget(self.status)
        right.addStretch(1)
        layout.addLayout(right, 2)
        self._fill()

    def _fill(self, select: str | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for c in self.clusters.clusters:
            self.list.addItem(c.name + ("  ★" if c.name == self.clusters.default else ""))
        self.list.blockSignals(False)
        names = self.clusters.names()
        self.list.setCurrentRow(names.index(select) if select in names else (0 if names else -1))
        if not names:
            self.new()

    def _show(self, index: int) -> None:
        if not 0 <= index < len(self.clusters.clusters):
            return
        c = self.clusters.clusters[index]
        self.name.setText(c.name)
        self.address.setText(c.address)
        self.header.setText("; ".join(f"{k}: {v}" for k, v in c.headers.items()))
        self.storage.setPlainText(storage_text(c.storage))
        self.python.setText(c.python)
        self.default.setChecked(c.name == self.clusters.default)
        self.remove_button.setEnabled(True)

    def new(self) -> None:
        self.list.clearSelection()
        for w in (self.name, self.address, self.header):
            w.clear()
        self.storage.clear()
        self.python.setText("python")
        self.default.setChecked(not self.clusters.clusters)
        self.remove_button.setEnabled(False)

    def cluster(self) -> Cluster:
        headers = {}
        for part in filter(None, (h.strip() for h in self.header.text().split(";"))):
            name, _, value = part.partition(":")
            headers[name.strip()] = value.strip()
        old = next((c for c in self.clusters.clusters if c.name == self.name.text().strip()), None)
        return Cluster(self.name.text().strip(), self.address.text().strip().rstrip("/"), headers,
                       parse_storage(self.storage.toPlainText()), self.python.text().strip() or "python",
                       old.pip if old else [], old.env if old else {})

    def _say(self, text: str, ok: bool) -> None:
        self.status.setText(f'<span style="color:{colour("ok" if ok else "error")}">{html.escape(text, quote=False)}</span>')

    def save(self) -> bool:
        c = self.cluster()
        try:
            self.clusters.put(c, make_default=self.default.isChecked())
            save_clusters(self.clusters)
        except (ClusterError, OSError) as exc:
            self._say(str(exc), False)
            return False
        self._fill(select=c.name)
        self._say(translate("Clusters", "Saved %1.").replace("%1", c.name), True)
        return True

    def remove(self) -> None:
        name = self.name.text().strip()
        try:
            self.clusters.remove(name)
            save_clusters(self.clusters)
        except (ClusterError, OSError) as exc:
            self._say(str(exc), False)
            return
        self._fill()
        self._say(translate("Clusters", "Removed %1; the records of its jobs stay.").replace("%1", name), True)

    def check(self) -> None:
        c = self.cluster()
        if problems := c.problems():
            self._say("; ".join(problems), False)
            return
        self.check_button.setEnabled(False)
        self._say(translate("Clusters", "Asking %1…").replace("%1", c.address), True)

        def done(summary: str) -> None:
            self.check_button.setEnabled(True)
            self._say(summary, True)

        def failed(msg: str, tb: str) -> None:
            self.check_button.setEnabled(True)
            self._say(msg, False)

        run_in_background(check_resources, c, on_result=done, on_error=failed, name="cluster-check")
