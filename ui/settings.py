"""The typed registry of user settings (keys, defaults) over an INI QSettings, and PreserveGeometry for windows.

Values are stored as plain text (numbers, true/false, base64 for bytes, JSON for lists): never a
pickled or Qt-typed value, so the file stays readable and portable between versions.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from PySide6.QtCore import QByteArray, QObject, QSettings, QStandardPaths, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import QDialog, QMainWindow, QSplitter, QWidget

log = logging.getLogger(__name__)

T = TypeVar("T")

SETTINGS_FILE_NAME = "settings.ini"


@dataclass(frozen=True)
class Key(Generic[T]):
    """One setting: its name in the INI file (group/name), its default and the Python type of its value."""

    name: str
    default: T
    type: type
    doc: str = ""


REGISTRY: dict[str, Key[Any]] = {}


def _key(name: str, default: T, doc: str = "") -> Key[T]:
    key = Key(name, default, type(default), doc)
    REGISTRY[name] = key
    return key


def geometry_key(window_name: str) -> Key[bytes]:
    """Saved geometry of the window or dialog called `window_name` (its objectName or class name)."""
    return Key(f"geometry/{window_name}", b"", bytes, "窗口位置和大小")


def state_key(window_name: str) -> Key[bytes]:
    """Saved QMainWindow state (toolbars, docks) of `window_name`."""
    return Key(f"state/{window_name}", b"", bytes, "工具栏和停靠窗口布局")


def splitter_key(window_name: str, splitter_name: str) -> Key[bytes]:
    """Saved state of the QSplitter called `splitter_name` inside `window_name`."""
    return Key(f"splitter/{window_name}/{splitter_name}", b"", bytes, "分隔条位置")


# --- The registry -------------------------------------------------------------------------------
WINDOW_GEOMETRY: Key[bytes] = geometry_key("MainWindow")
WINDOW_STATE: Key[bytes] = state_key("MainWindow")
REGISTRY[WINDOW_GEOMETRY.name] = WINDOW_GEOMETRY
REGISTRY[WINDOW_STATE.name] = WINDOW_STATE
LAST_EXPORT_DIR: Key[str] = _key("paths/last_export_dir", "", "上次导出到的文件夹")
LAST_IMPORT_DIR: Key[str] = _key("paths/last_import_dir", "", "上次导入时打开的文件夹")
NOT_VISITED_DAYS: Key[int] = _key("warnings/not_visited_days", 30, "超过多少天未走访即提示“未走访”")
DUE_SOON_WORKDAYS: Key[int] = _key("warnings/due_soon_workdays", 3, "距办理期限不足多少个工作日即提示“即将到期”")


def default_settings_path() -> Path:
    """settings.ini in the per-user app data folder (QStandardPaths.AppDataLocation)."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(folder) / SETTINGS_FILE_NAME


def _encode(key: Key[Any], value: Any) -> str:
    if key.type is bool:
        return "true" if value else "false"
    if key.type is bytes:
        return base64.b64encode(bytes(value)).decode("ascii")
    if key.type is list:
        return json.dumps(list(value), ensure_ascii=False)
    return str(value)


def _decode(key: Key[T], raw: object) -> T:
    text = str(raw)
    if key.type is bool:
        if text.lower() in ("true", "1", "yes"):
            return cast(T, True)
        if text.lower() in ("false", "0", "no"):
            return cast(T, False)
        raise ValueError(text)
    if key.type is int:
        return cast(T, int(text))
    if key.type is float:
        return cast(T, float(text))
    if key.type is bytes:
        return cast(T, base64.b64decode(text.encode("ascii"), validate=True))
    if key.type is list:
        value = json.loads(text)
        if not isinstance(value, list):
            raise ValueError(text)
        return cast(T, value)
    return cast(T, text)


class Settings(QObject):
    """User settings in one INI file; read and write them only through `Key`s of the registry."""

    changed = Signal(str)
    """A setting was set or reset; carries its key name."""

    def __init__(self, path: Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.path = Path(path) if path is not None else default_settings_path()
        self._qsettings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def get(self, key: Key[T]) -> T:
        """The stored value, or the key's default when unset or unreadable."""
        raw = self._qsettings.value(key.name)
        if raw is None:
            return copy.copy(key.default)  # a list default must not be shared with the caller
        try:
            return _decode(key, raw)
        except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
            log.warning("Ignoring unreadable setting %s=%r", key.name, raw)
            return copy.copy(key.default)

    def set(self, key: Key[T], value: T) -> None:
        """Store `value` (checked against the key's type) and emit `changed`."""
        expected = key.type
        ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
        if expected is bytes:
            ok = isinstance(value, (bytes, bytearray, QByteArray))
        if expected is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            raise TypeError(f"setting {key.name} takes {expected.__name__}, not {type(value).__name__}")
        if isinstance(value, QByteArray):
            value = cast(T, value.data())
        self._qsettings.setValue(key.name, _encode(key, value))
        self.changed.emit(key.name)

    def reset(self, key: Key[Any]) -> None:
        """Forget the stored value so the default applies again."""
        self._qsettings.remove(key.name)
        self.changed.emit(key.name)

    def contains(self, key: Key[Any]) -> bool:
        """True when a value is stored for `key`."""
        return self._qsettings.contains(key.name)

    def sync(self) -> None:
        """Write pending changes to disk now (Qt also does so on its own and at exit)."""
        self._qsettings.sync()


class PreserveGeometry:
    """Mixin for QMainWindow / QDialog subclasses that restores geometry on first show and saves it on close.

        class ProblemDialog(PreserveGeometry, QDialog):
            def __init__(self, settings, parent=None):
                super().__init__(parent)
                ...build widgets, give splitters an objectName...
                self.init_geometry(settings)

    Saves the window geometry, a QMainWindow's state and the state of every QSplitter that has an
    objectName. The settings name is the window's objectName, or its class name.
    """

    _geometry_settings: Settings | None = None
    _geometry_name: str = ""
    _geometry_restored: bool = False

    def init_geometry(self, settings: Settings, name: str | None = None) -> None:
        """Attach the settings to use; call at the end of __init__ (restoring waits for the first show)."""
        widget = cast(QWidget, self)
        self._geometry_settings = settings
        self._geometry_name = name or widget.objectName() or type(self).__name__
        self._geometry_restored = False

    def _named_splitters(self) -> list[QSplitter]:
        return [s for s in cast(QWidget, self).findChildren(QSplitter) if s.objectName()]

    def restore_geometry(self) -> None:
        """Apply the saved geometry, window state and splitter states (done on first show automatically)."""
        settings = self._geometry_settings
        if settings is None:
            return
        self._geometry_restored = True
        widget = cast(QWidget, self)
        geometry = settings.get(geometry_key(self._geometry_name))
        if geometry:
            widget.restoreGeometry(QByteArray(geometry))
        if isinstance(widget, QMainWindow):
            state = settings.get(state_key(self._geometry_name))
            if state:
                widget.restoreState(QByteArray(state))
        for splitter in self._named_splitters():
            state = settings.get(splitter_key(self._geometry_name, splitter.objectName()))
            if state:
                splitter.restoreState(QByteArray(state))

    def save_geometry(self) -> None:
        """Store the current geometry, window state and splitter states."""
        settings = self._geometry_settings
        if settings is None:
            return
        widget = cast(QWidget, self)
        settings.set(geometry_key(self._geometry_name), widget.saveGeometry().data())
        if isinstance(widget, QMainWindow):
            settings.set(state_key(self._geometry_name), widget.saveState().data())
        for splitter in self._named_splitters():
            settings.set(splitter_key(self._geometry_name, splitter.objectName()), splitter.saveState().data())

    def showEvent(self, event: QShowEvent) -> None:
        if not self._geometry_restored:
            self.restore_geometry()
        super().showEvent(event)  # type: ignore[misc]

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_geometry()
        super().closeEvent(event)  # type: ignore[misc]

    def done(self, result: int) -> None:
        """QDialog accept/reject end here without a closeEvent: save first."""
        if isinstance(self, QDialog):
            self.save_geometry()
        super().done(result)  # type: ignore[misc]
