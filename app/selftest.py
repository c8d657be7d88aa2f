"""`--self-test` for an installed copy: resources, database, demo data, a PDF and a sync round trip in a temp folder.

Pure Python (no Qt): main.py runs these steps followed by the Qt ones of ui/selftest.py through `run()`, which
prints one line per step ("ok  数据库与迁移 / database and migrations (0.04 s)") and stops at the first failure
with a Chinese + English message naming the step (exit code 1). Nothing outside the temporary folder is touched:
the data folder (keys, backups, logs) is pointed into it for the duration.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from app.datadir import ENV_VAR


class SelfTestError(Exception):
    """A check inside a step did not hold (the message says which, in Chinese)."""


@dataclass
class Context:
    """What the steps share: the temporary folder and the installations made in it."""

    folder: Path
    station: object | None = None  # app.services.Services of a 金水区 cadre station
    hub: object | None = None  # and of the 金水区 district hub it joins
    extra: dict = field(default_factory=dict)  # room for later steps (the Qt ones keep their QApplication here)

    def close(self) -> None:
        for services in (self.station, self.hub):
            if services is not None:
                with contextlib.suppress(Exception):
                    services.close()


@dataclass(frozen=True)
class Step:
    label: str  # Chinese, shown first
    name: str  # English
    run: Callable[[Context], None]

    @property
    def title(self) -> str:
        return f"{self.label} / {self.name}"


def check(condition: object, message: str) -> None:
    if not condition:
        raise SelfTestError(message)


# ------------------------------------------------------------------------------------------------
# Steps
# ------------------------------------------------------------------------------------------------

RESOURCE_FILES = (
    ("fonts", "wqy-microhei.ttc"),
    ("style.qss",),
    ("icons", "arrow-down.svg"),
    ("reference", "units.json"),
    ("reference", "vocabulary.json"),
    ("calendar", "cn_workdays.json"),
)


def step_resources(ctx: Context) -> None:
    """Bundled files are where resource_path() says, and the pinyin dictionary (search initials) loads."""
    from app.paths import resource_path
    from app.textsearch import initials

    missing = [str(resource_path(*parts)) for parts in RESOURCE_FILES if not resource_path(*parts).is_file()]
    check(not missing, f"缺少内置资源文件：{'、'.join(missing)}")
    pinyin = initials("郑州宇通")
    check(pinyin == "zzyt", f"拼音首字母不正确（pypinyin 数据缺失？）：郑州宇通 -> “{pinyin}”，应为 zzyt")


def step_database(ctx: Context) -> None:
    """Two new databases (station and district hub) built by the real migrations, then initialised."""
    from app.services import Services
    from db.store import latest_version

    latest = latest_version()
    check(latest >= 1, "找不到数据库迁移脚本（db.migrations 未打包？）")
    for attr, role, unit, operator in (("station", "station", "金水区", "王磊"), ("hub", "district", "金水区", "钱区")):
        folder = ctx.folder / attr
        folder.mkdir()
        services = Services.open(folder / f"{attr}.db")
        setattr(ctx, attr, services)
        version = services.store.scalar("PRAGMA user_version")
        check(version == latest, f"数据库结构版本为 {version}，应为 {latest}")
        services.initialise(role=role, unit_name=unit, operator=operator)
        integrity = services.store.scalar("PRAGMA integrity_check")
        check(integrity == "ok", f"数据库完整性检查未通过：{integrity}")


def step_enrol(ctx: Context) -> None:
    """The hub's invite → the station joins → the hub enrols the station's request (sync keys, signatures)."""
    station, hub = ctx.station, ctx.hub
    invite = hub.sync.make_invite(ctx.folder / "hub")
    request, _fingerprint = station.sync.join(invite, ctx.folder / "station")
    status = hub.sync.enroll(hub.sync.read_request(request))
    check(status == "enrolled", f"汇总端登记干部端的结果为“{status}”，应为 enrolled")


def step_demo(ctx: Context) -> None:
    """Small demo data written through the services (enterprises, visits, problems)."""
    from app import demo

    counts = demo.generate(ctx.station, size="small", seed=1)
    for key in ("enterprises", "visits", "problems"):
        check(counts.get(key, 0) > 0, f"演示数据中没有{key}")


def step_pdf(ctx: Context) -> None:
    """The print service's 走访记录表 (the form `print visit` makes): a PDF with pages that PDFium can render."""
    import pypdfium2 as pdfium

    from app.cli import pdf_page_count
    from app.printing import write_atomic
    from app.visits import VisitFilter

    printing = ctx.station.printing
    ids = printing.visit_ids(VisitFilter())[:3]
    check(ids, "没有可打印的走访记录")
    pdf = printing.visit_records(ids)
    check(pdf.startswith(b"%PDF"), "生成的文件不是 PDF")
    pages = pdf_page_count(pdf)
    check(pages >= len(ids), f"PDF 只有 {pages} 页，应至少 {len(ids)} 页")
    path = write_atomic(ctx.folder / "走访记录表.pdf", pdf)
    check(path.read_bytes() == pdf, f"写出的 PDF 文件内容不一致：{path}")
    doc = pdfium.PdfDocument(pdf)
    try:
        check(len(doc) == pages, f"PDFium 读到 {len(doc)} 页，应为 {pages} 页")
        page = doc[0]
        bitmap = page.render(scale=0.25)
        check(bitmap.width > 0 and bitmap.height > 0, "PDFium 无法渲染第 1 页")
        bitmap.close()
        page.close()
    finally:
        doc.close()
    try:
        import _rl_accel  # noqa: F401 - ReportLab's C accelerator (declared dependency; 3x faster PDFs)
    except ImportError as exc:
        raise SelfTestError(f"ReportLab 加速模块 _rl_accel 无法加载：{exc}") from exc


def step_sync(ctx: Context) -> None:
    """The station exports a signed, encrypted package; the hub verifies and imports it and holds its records."""
    station, hub = ctx.station, ctx.hub
    out = ctx.folder / "station" / "out"
    out.mkdir()
    results = station.sync.export(out)
    check(len(results) == 1, f"导出了 {len(results)} 个同步包，应为 1 个")
    package = results[0].path
    check(package.is_file() and package.stat().st_size > 0, f"同步包不存在或为空：{package}")
    [result] = hub.sync.import_files([package])
    check(result.status == "imported", f"汇总端导入同步包的结果为“{result.status}”：{result.message}")
    origin = station.installation.id
    for table in ("enterprises", "visits", "problems"):
        here = station.store.scalar(f"SELECT count(*) FROM {table} WHERE origin = ?", (origin,))  # noqa: S608
        there = hub.store.scalar(f"SELECT count(*) FROM {table} WHERE origin = ?", (origin,))  # noqa: S608
        check(here > 0 and there == here, f"汇总端有干部端的 {table} {there} 条，干部端有 {here} 条")


def core_steps() -> list[Step]:
    """The Qt-free steps, in order (built on each call, so a test can replace a step function)."""
    mod = sys.modules[__name__]
    return [
        Step("内置资源", "bundled resources", mod.step_resources),
        Step("数据库与迁移", "database and migrations", mod.step_database),
        Step("同步登记", "sync enrolment", mod.step_enrol),
        Step("演示数据", "demo data", mod.step_demo),
        Step("生成PDF", "PDF printing", mod.step_pdf),
        Step("同步包导出导入", "sync package export/import", mod.step_sync),
    ]


# ------------------------------------------------------------------------------------------------
# Runner
# ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _data_dir(folder: Path) -> Iterator[None]:
    before = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = before


def _say(stream: TextIO | None, text: str) -> None:
    """Print, tolerating the missing console of a windowed Windows exe and legacy code pages."""
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        try:
            print(text, file=stream, flush=True)
        except UnicodeEncodeError:
            print(text.encode("ascii", "replace").decode("ascii"), file=stream, flush=True)


def run(steps: Sequence[Step] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the steps in a temporary folder; 0 when all pass, 1 at the first failure (reported on `err`)."""
    from app import APP_NAME, __version__

    steps = core_steps() if steps is None else list(steps)
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    started = time.perf_counter()
    frozen = "安装版" if getattr(sys, "frozen", False) else "源码"
    _say(out, f"{APP_NAME} {__version__} 自检（{frozen}）/ self-test")
    with tempfile.TemporaryDirectory(prefix="zhuqi-selftest-", ignore_cleanup_errors=True) as tmp:
        ctx = Context(Path(tmp))
        try:
            with _data_dir(ctx.folder / "userdata"):
                for step in steps:
                    t0 = time.perf_counter()
                    try:
                        step.run(ctx)
                    except Exception as exc:
                        _say(out, f"FAIL {step.title} ({time.perf_counter() - t0:.2f} s)")
                        detail = str(exc) or type(exc).__name__
                        _say(err, f"自检失败：步骤“{step.label}”出错：{detail}")
                        _say(err, f'Self-test failed at step "{step.name}": {type(exc).__name__}: {detail}')
                        if not isinstance(exc, SelfTestError):
                            _say(err, "".join(traceback.format_exception(exc, limit=-6)).rstrip())
                        return 1
                    _say(out, f"ok  {step.title} ({time.perf_counter() - t0:.2f} s)")
        finally:
            ctx.close()
    _say(out, f"自检通过 / self-test passed ({time.perf_counter() - started:.1f} s)")
    return 0
