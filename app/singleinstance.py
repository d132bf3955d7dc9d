"""One workbench window per user: a second launch asks the first to come to the front, then exits.

The first instance holds a lock file in the user data dir and listens on a local socket (a named
pipe on Windows) whose name is a hash of that dir, so paths with spaces or Chinese are fine and two
QUANTDESK_HOMEs never meet. A crashed first instance leaves a stale lock (Qt sees its process is
gone) and a stale socket, which the next holder of the lock removes.
"""
from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger("quantdesk.instance")

RAISE = b"raise\n"


def server_name(data_dir: Path) -> str:
    """The local server name for `data_dir` (short and ASCII on every platform)."""
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode("utf-8")).hexdigest()[:24]
    return f"quantdesk-{digest}"


class SingleInstance(QObject):
    """`claim()` decides who runs; the first instance emits `raiseRequested` when a second launches."""

    raiseRequested = Signal()

    def __init__(self, data_dir: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.name = server_name(data_dir)
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        self._lock = QLockFile(str(Path(data_dir) / "gui.lock"))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
        self.server: QLocalServer | None = None

    def claim(self, wait_s: float = 3.0) -> bool:
        """True: this is the first instance (now listening). False: another one was asked to raise."""
        if self._lock.tryLock(0):
            self._listen()
            return True
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:  # the first may be between taking the lock and listening
            if self._send(RAISE):
                return False
            time.sleep(0.1)
        log.warning("another QuantDesk holds %s but does not answer; opening a window anyway", self._lock.fileName())
        return True

    def _listen(self) -> None:
        QLocalServer.removeServer(self.name)  # a crashed instance's socket; we hold the lock now
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._on_connection)
        if not self.server.listen(self.name):
            log.warning("single-instance server %s failed: %s", self.name, self.server.errorString())

    def _send(self, message: bytes) -> bool:
        sock = QLocalSocket()
        sock.connectToServer(self.name)
        if not sock.waitForConnected(500):
            return False
        sock.write(message)
        ok = sock.waitForBytesWritten(1000)
        sock.disconnectFromServer()
        return ok

    def _on_connection(self) -> None:
        while self.server is not None and self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():
                self._read(sock)

    def _read(self, sock: QLocalSocket) -> None:
        while sock.canReadLine():
            if bytes(sock.readLine().data()) == RAISE:
                log.info("a second launch asked this window to come to the front")
                self.raiseRequested.emit()

    def release(self) -> None:
        """Stop listening and drop the lock (at quit)."""
        if self.server is not None:
            self.server.close()
            self.server = None
        self._lock.unlock()
