"""Qt half of `--self-test` (app/selftest.py has the rest) and the first-paint probe of the bundle benchmark.

Both exist for the installed (PyInstaller) copy: the steps prove Qt, its plugins, the bundled font, the style
sheet's SVG icons and Qt's Chinese translation made it into the bundle; the probe lets bench/bench_bundle.py
time a start from process spawn to the main window's first paint.
"""

from __future__ import annotations

import os
import sys
import time

from app.selftest import Context, SelfTestError, Step, check

QT_TRANSLATION = "qtbase_zh_CN"  # Qt's own strings (standard dialogs, context menus) in Chinese
SAMPLE_TEXT = "助企工作台 走访记录 企业问题 统计报表"
FIRST_PAINT_ENV = "ZHUQI_EXIT_AFTER_FIRST_PAINT"


def use_offscreen_without_display() -> None:
    """No platform asked for and no X11/Wayland display (CI, SSH): render offscreen instead of aborting."""
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def step_qt(ctx: Context) -> None:
    """QApplication starts; the bundled font, the style sheet (SVG plugin), printing and translations load."""
    use_offscreen_without_display()
    from PySide6.QtCore import QLibraryInfo, QTranslator
    from PySide6.QtGui import QFontDatabase, QImageReader
    from PySide6.QtPrintSupport import QPrinter  # the print dialog and preview need QtPrintSupport
    from PySide6.QtWidgets import QApplication

    from ui.fonts import register_bundled_font
    from ui.style import apply_style

    app = QApplication.instance() or QApplication(sys.argv[:1])
    ctx.extra["qt_app"] = app
    family = register_bundled_font(app)
    check(family in QFontDatabase.families(), f"内置字体 {family} 未出现在 Qt 字体列表中")
    check("WenQuanYi" in family, f"内置字体族名为“{family}”，应为 WenQuanYi Micro Hei")
    check(app.font().family() == family, f"程序默认字体为“{app.font().family()}”，不是内置字体 {family}")
    apply_style(app)
    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    check("svg" in formats, f"Qt 缺少 SVG 图像插件（样式表的箭头图标用到）；现有格式：{'、'.join(sorted(formats))}")
    QPrinter()  # constructing one proves QtPrintSupport and its plugin load; no printer is needed
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    check(QTranslator().load(QT_TRANSLATION, folder), f"找不到 Qt 中文翻译 {QT_TRANSLATION}.qm（{folder}）")


def step_ui_modules(ctx: Context) -> None:
    """Every module of the GUI imports (a Qt module or library left out of the bundle fails here, not at a click)."""
    import importlib
    import pkgutil

    import ui

    names = sorted(m.name for m in pkgutil.walk_packages(ui.__path__, "ui."))
    check(len(names) >= 10, f"只找到 {len(names)} 个界面模块（安装包不完整？）")
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise SelfTestError(f"界面模块 {name} 无法加载：{exc}") from exc


def step_render(ctx: Context) -> None:
    """A label with Chinese text paints with real glyphs of the bundled font (not boxes, not blank)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QFontMetrics
    from PySide6.QtWidgets import QLabel

    label = QLabel(SAMPLE_TEXT)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet("QLabel { background: white; color: black; padding: 6px; }")
    metrics = QFontMetrics(label.font())
    missing = [ch for ch in SAMPLE_TEXT if not ch.isspace() and not metrics.inFontUcs4(ord(ch))]
    check(not missing, f"字体 {label.font().family()} 缺少字形：{''.join(missing)}")
    label.adjustSize()
    image = label.grab().toImage()
    check(not image.isNull() and image.width() > 100, f"无法绘制界面（截图 {image.width()}×{image.height()}）")
    white = QColor(Qt.GlobalColor.white).rgb()
    inked = sum(
        1 for y in range(0, image.height(), 2) for x in range(0, image.width(), 2) if image.pixel(x, y) != white
    )
    check(inked > 50, f"中文文字没有画出来（只有 {inked} 个非白色采样点）")
    label.deleteLater()


def qt_steps() -> list[Step]:
    mod = sys.modules[__name__]
    return [
        Step("界面库与内置字体", "Qt, bundled font and plugins", mod.step_qt),
        Step("界面模块", "GUI modules", mod.step_ui_modules),
        Step("中文界面绘制", "Chinese widget rendering", mod.step_render),
    ]


def exit_after_first_paint(app, started: float) -> None:
    """Benchmark hook: print "first-paint <seconds>" and quit once the main window has painted for the first time.

    `started` is a time.perf_counter() value from the start of main.py; the benchmark itself times from process
    spawn to this line. Installed by main.py only when ZHUQI_EXIT_AFTER_FIRST_PAINT=1. An application-wide filter
    costs ~2 µs per event in Python (~60 ms over the ~28,000 events of building the main window), so it only
    waits for the main window's first event (within the first 20 or so) and then watches that window alone: it
    receives the first Paint of the frame.
    """
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QMainWindow

    class _Probe(QObject):
        found = False

        def eventFilter(self, watched, event):
            if not self.found:
                if isinstance(watched, QMainWindow):
                    self.found = True
                    app.removeEventFilter(self)
                    watched.installEventFilter(self)
            elif event.type() == QEvent.Type.Paint:  # only the window's own events come here now
                watched.removeEventFilter(self)
                QTimer.singleShot(0, self.report)  # once this whole frame is painted, not at its first widget
            return False

        def report(self):
            if sys.stdout is not None:  # None in a windowed Windows exe
                print(f"first-paint {time.perf_counter() - started:.3f}", flush=True)
            app.quit()

    probe = _Probe(app)
    app.installEventFilter(probe)
