"""Where the database lives by default: the user's data folder (DESIGN §4), overridable for tests and scripts.

`ZHUQI_DATA_DIR` replaces the folder (tests, portable setups, the GUI's test runs); `--db` on the command
line replaces the whole path. Nothing here creates folders: open_store() does that when it opens a file.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "zhuqi-desk"
DB_FILENAME = "zhuqi.db"
ENV_VAR = "ZHUQI_DATA_DIR"


def data_dir() -> Path:
    """The folder holding the database and its backups (platformdirs user data dir unless overridden)."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    """The database file used when no --db is given."""
    return data_dir() / DB_FILENAME


def location_warning(db_path: Path) -> str | None:
    """A Chinese warning when the database sits on a removable or network drive (DESIGN §4: never there), else None.

    Such drives vanish mid-write (a pulled USB stick, a dropped share) and network file systems break SQLite's
    locking; the data belongs on the PC's own disk. Detection is best effort: an unknown answer gives no warning.
    """
    try:
        kind = _drive_kind(Path(db_path).resolve())
    except OSError:
        return None
    if kind is None:
        return None
    return (f"数据库文件位于{kind}上：{db_path}\n"
            "拔出U盘或网络中断时正在写入的数据可能损坏。建议把数据库放在本机硬盘上"
            "（不带 --db 启动时使用默认位置），U盘只用来传递同步文件。")


def _drive_kind(path: Path) -> str | None:
    if os.name == "nt":
        import ctypes

        root = path.anchor or str(path)
        kind = ctypes.windll.kernel32.GetDriveTypeW(ctypes.c_wchar_p(root))  # type: ignore[attr-defined]
        return {2: "可移动磁盘（U盘）", 4: "网络驱动器"}.get(kind)
    mounts = Path("/proc/self/mountinfo")
    if not mounts.exists():
        return None
    best: tuple[int, str, str] | None = None
    for line in mounts.read_text(encoding="utf-8", errors="replace").splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 2:
            continue
        mount_point = fields[4].replace("\\040", " ")
        inside = path == Path(mount_point) or Path(mount_point) in path.parents
        if inside and (best is None or len(mount_point) > best[0]):
            best = (len(mount_point), tail[0], tail[1])
    if best is None:
        return None
    _, fstype, source = best
    if fstype in NETWORK_FS:
        return "网络驱动器"
    device = Path(source).name
    if source.startswith("/dev/") and device:
        base = device.rstrip("0123456789")
        base = base[:-1] if base.endswith("p") and base[:-1].startswith(("nvme", "mmcblk")) else base
        flag = Path("/sys/block") / base / "removable"
        try:
            if flag.read_text().strip() == "1":
                return "可移动磁盘（U盘）"
        except OSError:
            return None
    return None


NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "sshfs", "fuse.sshfs", "9p", "afs", "ncpfs", "davfs"}
