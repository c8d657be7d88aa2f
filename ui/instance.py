"""One window per database: a second launch on the same file brings the first window forward instead.

A QLockFile beside the database says who has it open (a crashed owner's lock is stale and taken over: Qt checks
whether its process still runs). The owner also listens on a local socket — a named pipe on Windows, a Unix
socket elsewhere, never the network — named after the database path, where a second launch asks it to come
forward.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

_ACTIVATE = b"activate\n"


def _server_name(db_path: Path) -> str:
    key = str(db_path.resolve()).casefold().encode("utf-8")
    return "zhuqi-desk-" + hashlib.sha256(key).hexdigest()[:24]


class InstanceLock(QObject):
    """Held by the process that has the database open; `activate_requested` fires when another launch asks."""

    activate_requested = Signal()

    def __init__(self, db_path: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.db_path = Path(db_path)
        self._lock = QLockFile(str(self.db_path) + ".lock")
        self._lock.setStaleLockTime(0)  # never stale by age: only when its process is gone
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """True if this process now owns the database; False if another running instance does."""
        if not self._lock.tryLock(0):
            if self._lock.error() == QLockFile.LockError.LockFailedError:
                return False
            # PermissionError/UnknownError: the folder is read-only or odd. The database open reports that clearly.
            log.warning("cannot create lock file beside %s: %s", self.db_path, self._lock.error())
            return True
        server = QLocalServer(self)
        name = _server_name(self.db_path)
        QLocalServer.removeServer(name)  # a socket file left by a crashed owner (Unix)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if server.listen(name):
            server.newConnection.connect(self._on_connection)
            self._server = server
        else:
            log.warning("single-instance server did not start: %s", server.errorString())
        return True

    def owner_pid(self) -> int | None:
        info = self._lock.getLockInfo()  # PySide6 returns (pid, hostname, appname), or a falsy value
        return info[0] if info and info[0] else None

    def _on_connection(self) -> None:
        while self._server is not None and self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            # The request is one short line: wait for it here rather than keep per-socket slots alive.
            arrived = bool(sock.bytesAvailable()) or sock.waitForReadyRead(1000)
            if arrived and bytes(sock.readAll().data()).startswith(_ACTIVATE.strip()):
                self.activate_requested.emit()
            sock.abort()
            sock.deleteLater()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._lock.unlock()


def ask_owner_to_activate(db_path: Path, timeout_ms: int = 1500) -> bool:
    """Ask the instance that has `db_path` open to bring its window forward. True if it answered."""
    sock = QLocalSocket()
    sock.connectToServer(_server_name(Path(db_path)))
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write(_ACTIVATE)
    ok = sock.waitForBytesWritten(timeout_ms)
    sock.disconnectFromServer()
    return ok
