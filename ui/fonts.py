"""Registers the bundled CJK font (WenQuanYi Micro Hei) as the application font, for main.py and tests."""

from __future__ import annotations

import logging

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from app.paths import resource_path

log = logging.getLogger(__name__)

FONT_FILE = ("fonts", "wqy-microhei.ttc")
DEFAULT_POINT_SIZE = 10

_registered_family: str | None = None


def register_bundled_font(app: QApplication, point_size: int = DEFAULT_POINT_SIZE) -> str:
    """Add the bundled font to Qt, make it the app's default font and return its family name.

    Safe to call more than once: the file is added to the font database only the first time.
    Raises RuntimeError when the font file is missing or Qt cannot read it.
    """
    global _registered_family
    if _registered_family is None or _registered_family not in QFontDatabase.families():
        path = resource_path(*FONT_FILE)
        if not path.is_file():
            raise RuntimeError(f"找不到内置字体文件：{path}（安装包不完整，请重新安装）")
        font_id = QFontDatabase.addApplicationFont(str(path))
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id != -1 else []
        if not families:
            raise RuntimeError(f"无法加载内置字体文件：{path}（文件可能已损坏，请重新安装）")
        # The collection holds "WenQuanYi Micro Hei" and its Mono face; the proportional one is first.
        _registered_family = next((f for f in families if "mono" not in f.lower()), families[0])
        log.info("Registered bundled font %s from %s", _registered_family, path)
    font = QFont(_registered_family, point_size)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    app.setFont(font)
    return _registered_family
