"""What Ctrl+P prints on each screen: builds the PDF jobs (off the GUI thread) that PrintJobs previews.

Each job reads through its own database connection (`services.reader()`), because it runs in a
worker thread; the forms themselves live in app/pdf and are reached through services.printing.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from app.services import Services
from ui.print_jobs import PrintJobs

Build = Callable[[Services, Callable[[int, int], bool]], bytes]


def pdf_job(services: Services, build: Build) -> Callable[[Callable[[int, int], bool]], bytes]:
    """Wrap a form builder so it runs on a worker thread's own connection."""

    def make(progress: Callable[[int, int], bool]) -> bytes:
        svc = services.reader()
        try:
            return build(svc, progress)
        finally:
            services.close_reader(svc)

    return make


def choose(parent: QWidget, options: list[tuple[str, Callable[[], None]]]) -> None:
    """A small menu at the mouse pointer when one screen can print several forms."""
    if len(options) == 1:
        options[0][1]()
        return
    menu = QMenu(parent)
    for label, run in options:
        menu.addAction(label).triggered.connect(lambda _=False, r=run: r())
    menu.exec(QCursor.pos())


def nothing_selected(parent: QWidget, what: str) -> None:
    QMessageBox.information(parent, "打印", f"请先在列表中选择要打印的{what}。")


def print_visits(parent: QWidget, services: Services, jobs: PrintJobs, selected: list[str], listed: list[str]) -> None:
    """走访记录表: the selected visits, or every visit in the current list (a batch)."""

    def run(ids: list[str], title: str) -> None:
        name = f"{title}.pdf" if len(ids) > 1 else f"走访记录表_{services.visits.get(ids[0])['record_no']}.pdf"
        jobs.preview(title, pdf_job(services, lambda s, p: s.printing.visit_records(ids, p)), suggested_name=name)

    options = []
    if selected:
        options.append((f"打印所选走访记录（{len(selected)} 条）", lambda: run(selected, "走访记录表")))
    if listed and listed != selected:
        ordered = list(reversed(listed))  # the list shows newest first; a batch reads oldest first
        options.append((f"打印列表中全部走访记录（{len(listed)} 条）", lambda: run(ordered, "走访记录表（批量）")))
    if not options:
        nothing_selected(parent, "走访记录")
        return
    choose(parent, options)


def print_problems(parent: QWidget, services: Services, jobs: PrintJobs, pid: str | None, ledger_filter,
                   ledger_title: str, listed: int) -> None:
    """问题交办单 / 督办单 for the selected problem, or the 问题台账 of the current list."""
    options = []
    if pid:
        p = services.problems.get(pid)
        no = p["record_no"]
        if p.get("assigned_on") and p["status"] != "待交办":
            options.append((f"问题交办单（{no}）", lambda: jobs.preview(
                "问题交办单", pdf_job(services, lambda s, _p: s.printing.assignment_sheet(pid)),
                suggested_name=f"问题交办单_{no}.pdf")))
        if p["status"] in ("已交办", "办理中") and (p["overdue"] or p["supervise_count"]):
            options.append((f"督办单（{no}）", lambda: jobs.preview(
                "督办单", pdf_job(services, lambda s, _p: s.printing.supervision_sheet(pid)),
                suggested_name=f"督办单_{no}.pdf")))
    if listed:
        options.append((f"问题台账（当前列表 {listed} 件）", lambda: jobs.preview(
            ledger_title, pdf_job(services, lambda s, prog: s.printing.ledger(ledger_filter, ledger_title, prog)),
            suggested_name=f"{ledger_title}.pdf")))
    if not options:
        nothing_selected(parent, "问题")
        return
    choose(parent, options)


def print_enterprise(parent: QWidget, services: Services, jobs: PrintJobs, ent_id: str | None) -> None:
    """企业服务档案 of the selected enterprise."""
    if not ent_id:
        nothing_selected(parent, "企业")
        return
    name = services.enterprises.get(ent_id)["name"]
    jobs.preview("企业服务档案", pdf_job(services, lambda s, _p: s.printing.enterprise_file(ent_id)),
                 suggested_name=f"企业服务档案_{name}.pdf")


def print_report(services: Services, jobs: PrintJobs, period, unit_id: str | None) -> None:
    """统计报表 for the period and unit the 统计 screen shows."""
    jobs.preview("统计报表", pdf_job(services, lambda s, _p: s.printing.stats_report(period, unit_id)),
                 suggested_name=f"统计报表_{period.cutoff.isoformat()}.pdf")


def print_supervision(services: Services, jobs: PrintJobs, problem_ids: list[str]) -> None:
    """督办单 of the problems just supervised in a batch (统计 → 逾期督办), one per page."""
    ids = list(problem_ids)
    jobs.preview("督办单", pdf_job(services, lambda s, prog: s.printing.supervision_sheets(ids, prog)),
                 suggested_name=f"督办单_{len(ids)}件.pdf")
