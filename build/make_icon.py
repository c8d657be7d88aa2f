"""Paint the app icon (a red rounded square with a white 助 in the bundled font) into resources/icons/.

Writes app.png (256 px, for Linux desktops and the window icon) and app.ico (16 to 256 px, for the Windows exe).
Each size is painted on its own so small sizes get hinted glyphs, not a blurred 256 px image. Qt's ICO writer
stores a single image, so the multi-size .ico is assembled here from PNG images (Windows Vista and later read
PNG-compressed icon entries of any size). Run it after changing the design; the outputs are committed:

    .venv/bin/python build/make_icon.py
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
FONT = ROOT / "resources" / "fonts" / "wqy-microhei.ttc"
SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)
RED = "#c8102e"
RED_DARK = "#a50d26"
CHARACTER = "助"


def paint(size: int):
    """One icon image of size × size pixels (QImage, ARGB32)."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter, QPainterPath

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    margin = max(0.5, size * 0.04)
    square = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    radius = square.width() * 0.2
    gradient = QLinearGradient(QPointF(0, square.top()), QPointF(0, square.bottom()))
    gradient.setColorAt(0.0, QColor(RED))
    gradient.setColorAt(1.0, QColor(RED_DARK))
    path = QPainterPath()
    path.addRoundedRect(square, radius, radius)
    p.fillPath(path, gradient)

    font = QFont(_family())
    font.setPixelSize(round(square.height() * (0.74 if size <= 24 else 0.66)))
    font.setBold(size >= 32)
    font.setHintingPreference(QFont.HintingPreference.PreferFullHinting)
    p.setFont(font)
    p.setPen(QColor("white"))
    p.drawText(square, Qt.AlignmentFlag.AlignCenter, CHARACTER)
    p.end()
    return image


_FAMILY: list[str] = []


def _family() -> str:
    if not _FAMILY:
        from PySide6.QtGui import QFontDatabase

        font_id = QFontDatabase.addApplicationFont(str(FONT))
        families = QFontDatabase.applicationFontFamilies(font_id)
        if not families:
            raise SystemExit(f"cannot load {FONT}")
        _FAMILY.append(next((f for f in families if "mono" not in f.lower()), families[0]))
    return _FAMILY[0]


def png_bytes(image) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise SystemExit("Qt could not encode a PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICO file holding one PNG-compressed entry per size (ICONDIR + ICONDIRENTRY table + images)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = [], []
    for size in sizes:
        blob = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries.append(struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset))
        blobs.append(blob)
        offset += len(blob)
    return header + b"".join(entries) + b"".join(blobs)


def main() -> int:
    if not os.environ.get("QT_QPA_PLATFORM") and not (os.environ.get("DISPLAY") or sys.platform in ("win32", "darwin")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QGuiApplication, QImageReader

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - fonts need an application
    pngs = {size: png_bytes(paint(size)) for size in SIZES}
    ICONS.mkdir(parents=True, exist_ok=True)
    (ICONS / "app.png").write_bytes(pngs[256])
    (ICONS / "app.ico").write_bytes(ico_bytes(pngs))
    reader = QImageReader(str(ICONS / "app.ico"))
    count = reader.imageCount()
    print(f"wrote {ICONS / 'app.png'} (256 px) and {ICONS / 'app.ico'} ({count} sizes: {', '.join(map(str, SIZES))})")
    return 0 if count == len(SIZES) else 1


if __name__ == "__main__":
    sys.exit(main())
