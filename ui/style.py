"""apply_style(app): the app's look (Fusion plus resources/style.qss), for main.py and screenshots."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QApplication

from app.paths import resource_path

log = logging.getLogger(__name__)

STYLE_SHEET = ("style.qss",)


def load_style_sheet() -> str:
    """Text of resources/style.qss ("" when missing, so the app still starts with Qt's defaults)."""
    path = resource_path(*STYLE_SHEET)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        log.warning("Style sheet %s not found; using Qt's default look", path)
        return ""
    # Qt resolves url() against the working directory: give it the bundled icons' absolute path.
    return text.replace("@ICONS@", resource_path("icons").as_posix())


def apply_style(app: QApplication) -> None:
    """Use the Fusion style (same on every OS) and the bundled style sheet."""
    app.setStyle("Fusion")
    app.setStyleSheet(load_style_sheet())
