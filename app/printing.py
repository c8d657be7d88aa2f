"""PrintService: every printed form as PDF bytes, and PDF files written atomically. Prints are audited.

Forms live in app/pdf/; this module loads the records through the other services (so a printed form
shows exactly what the screens show) and records in 操作记录 that personal data left the system on paper.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import AppError, NotFoundError, PrintCancelled
from app.files import write_file_atomic
from app.problems import ProblemFilter
from app.stats import Period
from app.visits import VisitFilter

if TYPE_CHECKING:  # reportlab loads on the first print, not when the app starts
    from app.pdf.document import FormDocument, Progress
    from app.services import Services

__all__ = ["PrintCancelled", "PrintService", "write_atomic"]

LEDGER_ROWS_PER_PAGE = 16  # landscape A4 with two-line cells, measured on the city demo


class PrintService:
    """Each method returns the finished PDF; `progress(done, total)` returning False cancels (PrintCancelled)."""

    def __init__(self, services: Services):
        self.s = services
        self.ctx = services.ctx
        self.visits = services.visits

    def _operator(self) -> str:
        return self.ctx.installation.operator if self.ctx.initialised else ""

    def _audit_print(self, table: str, ids: list[str], what: str) -> None:
        """DESIGN §7: prints of personal data are logged, one entry per record printed."""
        with self.ctx.writing() as w:
            for rid in ids:
                w.record_access(f"打印{what}", table, rid, ["contact_name", "contact_phone"])

    def _document(self, **kw) -> FormDocument:
        from app.pdf.document import FormDocument

        return FormDocument(printed_by=self._operator(), **kw)

    # -- 走访记录表 -------------------------------------------------------------------------------------
    def visit_ids(self, f: VisitFilter) -> list[str]:
        """Visits of a filter (e.g. "all in a period") in date order, for a batch print."""
        return list(reversed(self.visits.list_ids(f, "visit_date", True)))

    def visit_records(self, visit_ids: list[str], progress: Progress | None = None) -> bytes:
        """One PDF with a 走访记录表 per visit (each starting on a new page, numbered on its own)."""
        from app.pdf.visit_form import visit_story

        if not visit_ids:
            raise NotFoundError("没有可打印的走访记录：请先选择走访记录或调整筛选条件。")
        doc = self._document(progress=progress, total_hint=len(visit_ids))
        story: list = []
        for vid in visit_ids:
            visit_story(story, self.visits.get(vid), doc.body_width)
        pdf = doc.build(story)
        self._audit_print("visits", visit_ids, "走访记录表")
        return pdf

    # -- problems --------------------------------------------------------------------------------------
    def assignment_sheet(self, problem_id: str) -> bytes:
        """问题交办单 to the lead unit (and assisting units) of an assigned problem."""
        from app.pdf.problem_forms import assignment_story

        doc = self._document()
        story: list = []
        assignment_story(story, self.s, problem_id, doc.body_width)
        pdf = doc.build(story)
        self._audit_print("problems", [problem_id], "问题交办单")
        return pdf

    def supervision_sheet(self, problem_id: str) -> bytes:
        """督办单 for an overdue problem."""
        return self.supervision_sheets([problem_id])

    def supervision_sheets(self, problem_ids: list[str], progress: Progress | None = None) -> bytes:
        """督办单 of several problems (batch 督办 from the 统计 dashboard); each story starts its own page."""
        from app.pdf.problem_forms import supervision_story

        if not problem_ids:
            raise NotFoundError("没有要打印督办单的问题。")
        doc = self._document(progress=progress, total_hint=len(problem_ids))
        story: list = []
        for pid in problem_ids:
            supervision_story(story, self.s, pid, doc.body_width)
        pdf = doc.build(story)
        self._audit_print("problems", list(problem_ids), "督办单")
        return pdf

    def ledger(self, f: ProblemFilter, title: str = "问题台账", progress: Progress | None = None) -> bytes:
        """问题台账: the filtered problem list on landscape pages, header row repeated, totals at the end."""
        from app.pdf.ledger_form import ledger_story

        doc = self._document(orientation="landscape", progress=progress, progress_per_page=True)
        story: list = []
        ids = ledger_story(story, self.s, f, title, doc.body_width)
        doc.total_hint = max(1, len(ids) // LEDGER_ROWS_PER_PAGE)  # pages, roughly, for the progress bar
        return doc.build(story)

    # -- enterprises and statistics ----------------------------------------------------------------------
    def enterprise_file(self, enterprise_id: str) -> bytes:
        """企业服务档案: base data, 包联 cadres, every visit and problem with its outcome."""
        from app.pdf.enterprise_form import enterprise_story

        doc = self._document()
        story: list = []
        enterprise_story(story, self.s, enterprise_id, doc.body_width)
        pdf = doc.build(story)
        self._audit_print("enterprises", [enterprise_id], "企业服务档案")
        return pdf

    def stats_report(self, period: Period, unit_id: str | None = None) -> bytes:
        """统计报表 for a period: the 口径 figures with definitions and cut-off, tables and a chart."""
        from app.pdf.report_form import report_story

        doc = self._document()
        story: list = []
        report_story(story, self.s, period, unit_id, doc.body_width)
        return doc.build(story)


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write a file so that it is either complete or absent (app/files.py), creating its folder."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AppError(f"无法写入文件夹 {path.parent}：{exc.strerror or exc}", file=str(path)) from exc
    return write_file_atomic(path, data)
