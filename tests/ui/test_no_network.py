"""DESIGN §7: the app works fully offline and makes no network calls — checked over a whole GUI session.

The session, in this process and through the real widgets: the main window of a station that has joined its district
hub, demo data loaded from the 工具 menu's action, every screen of the navigation opened (with the first record of
each list shown), the visit form opened and cancelled, the print preview of a visit, the 数据同步 screen with an
export into a folder, and the hub importing that package. Background work runs on the real task runner (thread pool).

Two independent checks:

(a) Python: an audit hook (sys.addaudithook; hooks cannot be removed, so it records only while `_events` is a list,
    i.e. inside the session) records socket creation, connect, bind, sendto, name lookups, urllib requests and
    http.client connections from any thread. Only Unix-domain sockets are allowed.
(b) Native (Qt or any C code, which no audit hook sees), Linux only: a QTimer polls the process's open files in
    /proc/self/fd during the session (and once at its end) and looks every new socket up in the kernel's tables.
    Sockets in /proc/self/net/{tcp,tcp6,udp,udp6,raw,raw6,udplite,udplite6} are internet sockets and fail the test;
    Unix-domain sockets (/proc/self/net/unix) are allowed — Qt may use them for local IPC (e.g. the one-window-per-
    database lock); any other socket (netlink, or an internet socket never bound or connected, which is in no table
    yet) fails too. Skipped where /proc is not available.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

import ui.print_menu as print_menu
from app.enterprises import EnterpriseFilter
from app.services import Services
from ui.dialogs.visit_dialog import VisitDialog
from ui.main_window import PAGES, MainWindow
from ui.tasks import TaskRunner

WATCHED = frozenset({
    "socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname",
    "socket.gethostbyname_ex", "socket.gethostbyaddr", "socket.getnameinfo", "socket.sendto", "socket.sendmsg",
    "urllib.Request", "http.client.connect", "http.client.send", "ftplib.connect", "smtplib.connect",
    "poplib.connect", "imaplib.open", "nntplib.connect", "telnetlib.Telnet.open", "webbrowser.open",
})
PROC = Path("/proc/self")
NET_TABLES = ("tcp", "tcp6", "udp", "udp6", "raw", "raw6", "udplite", "udplite6")

_events: list[tuple] | None = None  # the audit hook records into this list while a session is being watched


def _audit(event: str, args: tuple) -> None:
    if _events is None or event not in WATCHED:
        return
    sock = args[0] if args and isinstance(args[0], socket.socket) else None
    family = args[1] if event == "socket.__new__" else getattr(sock, "family", None)
    _events.append((event, family, repr(args[1:])[:200]))


sys.addaudithook(_audit)  # once, when pytest imports this module


def _net_table(name: str, inode_column: int) -> dict[int, str]:
    """inode -> the table's line, for one of /proc/self/net's socket tables."""
    try:
        lines = (PROC / "net" / name).read_text().splitlines()[1:]
    except OSError:
        return {}
    out = {}
    for line in lines:
        cols = line.split()
        if len(cols) > inode_column and cols[inode_column].isdigit():
            out[int(cols[inode_column])] = f"{name}: {line.strip()}"
    return out


class SocketWatch:
    """Polls /proc/self/fd for sockets and classifies every new one once, while it is still open."""

    def __init__(self):
        self.baseline = set(self.open_sockets())
        self.kinds: dict[int, str] = {}  # inode -> "unix" or a description of a forbidden socket
        self.polls = 0
        self.timer_polls = 0

    @staticmethod
    def open_sockets() -> list[int]:
        inodes = []
        for fd in os.listdir(PROC / "fd"):
            try:
                target = os.readlink(PROC / "fd" / fd)
            except OSError:  # closed meanwhile
                continue
            if target.startswith("socket:["):
                inodes.append(int(target[len("socket:["):-1]))
        return inodes

    def tick(self) -> None:
        self.timer_polls += 1
        self.poll()

    def poll(self) -> None:
        self.polls += 1
        new = [i for i in self.open_sockets() if i not in self.baseline and i not in self.kinds]
        if not new:
            return
        internet = {}
        for table in NET_TABLES:
            internet.update(_net_table(table, 9))
        unix = _net_table("unix", 6)
        for inode in new:
            if inode in internet:
                self.kinds[inode] = internet[inode]
            elif inode in unix:
                self.kinds[inode] = "unix"
            else:
                self.kinds[inode] = "a socket that is not Unix-domain (netlink, packet, or unbound internet)"

    def forbidden(self) -> dict[int, str]:
        return {i: kind for i, kind in self.kinds.items() if kind != "unix"}


@pytest.fixture
def watched(qapp):
    """While the test runs, the audit hook records into a list and (on Linux) a QTimer polls the open sockets
    whenever the event loop runs; `poll` polls at once (the test calls it after each step as well)."""
    global _events
    watch = SocketWatch() if (PROC / "net" / "tcp").exists() else None
    timer = QTimer()
    if watch is not None:
        timer.timeout.connect(watch.tick)
        timer.start(5)
    _events = []
    try:
        yield {"events": _events, "sockets": watch, "poll": watch.poll if watch else lambda: None}
    finally:
        _events = None
        timer.stop()


def click_nav(qtbot, window: MainWindow, row: int) -> None:
    rect = window.nav.visualItemRect(window.nav.item(row))
    qtbot.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.center()))
    assert window.stack.currentIndex() == row


def test_a_full_gui_session_opens_no_network_socket(qtbot, watched, services, ui_settings, tmp_path, monkeypatch):
    poll = watched["poll"]
    monkeypatch.setenv("ZHUQI_DATA_DIR", str(tmp_path / "userdata"))
    usb = tmp_path / "usb"
    usb.mkdir()
    # The station joins a district hub (the hub's side in this process too).
    hub = Services.open(tmp_path / "hub" / "hub.db")
    try:
        hub.initialise(role="district", unit_name="金水区", operator="钱区", cadre_role=None)
        request, _ = services.sync.join(hub.sync.make_invite(usb), usb)
        hub.sync.enroll(hub.sync.read_request(request))
        poll()

        tasks = TaskRunner()
        window = MainWindow(services, ui_settings, tasks)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        poll()

        window.findChild(QAction, "act_demo").trigger()  # 工具 → 加载演示数据…
        assert tasks.wait_idle(60_000)
        assert services.enterprises.count(EnterpriseFilter()) > 0
        poll()

        for row, (key, _label) in enumerate(PAGES):
            click_nav(qtbot, window, row)
            view = window.pages[key]
            table = getattr(view, "table", None)
            if table is not None and table.model().rowCount():
                table.selectRow(0)  # its detail pane shows the first record
            assert tasks.wait_idle(30_000)
            poll()

        # The visit form: opened with Ctrl+N and cancelled.
        window.show_page("visits")
        qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        dialog = window.visits.findChild(VisitDialog)
        assert dialog is not None and dialog.isVisible()
        poll()
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.visits.dialog is None)

        # The print preview of the selected visit (Ctrl+P, then "打印所选…" in the menu it offers).
        window.visits.table.selectRow(0)
        monkeypatch.setattr(print_menu, "choose", lambda parent, options: next(
            run for label, run in options if "所选" in label)())
        qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
        assert tasks.wait_idle(60_000)
        assert window.print_jobs.dialogs and window.print_jobs.dialogs[-1].pages.count >= 1
        poll()
        window.print_jobs.close_all()

        # 数据同步: export a package into the folder (the USB stick), and the hub imports it.
        click_nav(qtbot, window, [k for k, _ in PAGES].index("sync"))
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(usb))
        qtbot.mouseClick(window.sync_view.export_button, Qt.MouseButton.LeftButton)
        assert tasks.wait_idle(60_000)
        [package] = usb.glob("*.zqpkg")
        poll()
        [result] = hub.sync.import_files([package])
        assert result.status == "imported", result.message
        poll()
        window.close()
        assert tasks.wait_idle(30_000)
    finally:
        hub.close()

    events = watched["events"]
    assert not [e for e in events if e[1] != socket.AF_UNIX], f"Python-level network activity: {events}"
    watch = watched["sockets"]
    if watch is None:
        pytest.skip("no /proc/self/net: the native socket check (b) runs on Linux only; (a) passed")
    assert watch.timer_polls > 0, "the polling QTimer never ran"
    assert not watch.forbidden(), f"sockets other than Unix-domain ones were open: {watch.forbidden()}"
