"""The bundled CJK TrueType font for reportlab: registered once, embedded and subset in every PDF."""

from __future__ import annotations

import threading

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from app.paths import resource_path

FONT = "ZhuqiSans"  # WenQuanYi Micro Hei: CJK, Latin letters, digits and full-width punctuation
_lock = threading.Lock()
_registered = False


def register_fonts() -> str:
    """Register the bundled font with reportlab (idempotent, thread-safe); returns its name."""
    global _registered
    with _lock:
        if not _registered:
            path = resource_path("fonts", "wqy-microhei.ttc")
            # subfontIndex 0 is the proportional face; reportlab embeds only the glyphs used (subset).
            pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
            _registered = True
    return FONT


def missing_glyphs(text: str) -> set[str]:
    """Characters of `text` the bundled font has no glyph for (they would print as blanks)."""
    register_fonts()
    cmap = pdfmetrics.getFont(FONT).face.charToGlyph
    return {ch for ch in set(text) if not ch.isspace() and ord(ch) not in cmap}
