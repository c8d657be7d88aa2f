"""Printing benchmark: 走访记录表 batch (and the city 问题台账) in pages per second, against a bare
reportlab canvas drawing the same text on the same number of pages.

    .venv/bin/python bench/bench_print.py                     # small demo + cloned visits (about a minute)
    .venv/bin/python bench/bench_print.py --size city         # city demo: visits and the 11,000-row ledger
    .venv/bin/python bench/bench_print.py --db 全市.db         # a copy of an existing database

What is timed
  ours      PrintService.visit_records(first N visit ids): loading the visits, laying out the forms
            (tables, Chinese line breaking, headers with QR code, per-record "第 x 页 共 y 页"), the audit
            entries and the finished PDF bytes.
  baseline  reportlab's bare Canvas drawing, page for page, exactly the strings our PDF draws (same
            bundled font, same sizes, same number of strings and pages), without platypus, tables,
            rules or QR codes: roughly the cost of putting that text into a PDF at all.
  ratio     ours ÷ baseline in pages per second (goal ≥ 0.5: layout may cost as much again as the
            text itself, not more).

Each figure is the median of --runs runs (default 3). The database is never modified: a given --db is
copied to a temporary folder first (the prints add audit entries, missing visits are added there).
Results go to bench/results/print.json (git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import reportlab  # noqa: E402
from reportlab.lib.pagesizes import A4, landscape  # noqa: E402
from reportlab.pdfgen import canvas as pdfcanvas  # noqa: E402
from reportlab.pdfgen import textobject  # noqa: E402

from app import cli  # noqa: E402
from app.pdf import document  # noqa: E402
from app.pdf.fonts import FONT, register_fonts  # noqa: E402
from app.problems import ProblemFilter  # noqa: E402
from app.services import Services  # noqa: E402
from app.visits import Attendee, VisitFilter, VisitInput  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "print.json"
CITY_PROBLEMS = 5000  # a database with at least this many problems also gets the ledger benchmark


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the database --------------------------------------------------------------------------------------


def build_db(work: Path, args) -> Path:
    path = work / "bench.db"
    if args.db:
        src = sqlite3.connect(f"file:{Path(args.db).resolve()}?mode=ro", uri=True)
        dst = sqlite3.connect(path)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
        log(f"已复制数据库 {args.db} → {path}")
        return path
    log(f"生成演示数据（--size {args.size}）…")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(["demo", "--db", str(path), "--size", args.size, "--seed", str(args.seed)])
    if code != 0:
        raise SystemExit(f"demo failed with exit code {code}")
    return path


def top_up_visits(services: Services, wanted: int) -> int:
    """Add visits (copies of the existing ones, without their problems) until there are `wanted`.

    They go through VisitService.create like a cadre's save, all inside one transaction.
    """
    have = services.visits.count(VisitFilter())
    if have >= wanted:
        return 0
    sources = [services.visits.get(v) for v in services.visits.list_ids(VisitFilter())]
    if not sources:
        raise SystemExit("the database has no visits to copy")
    added = 0
    with services.store.transaction():
        while have + added < wanted:
            src = sources[added % len(sources)]
            ents = [e["id"] for e in src["enterprises"]]
            services.visits.create(
                VisitInput(
                    kind=src["kind"],
                    visit_date=src["visit_date"],
                    enterprise_ids=ents,
                    cadre_ids=[c["id"] for c in src["cadres"]],
                    summary=src["summary"],
                    attendees=[
                        Attendee(a["name"], a.get("title") or "", a.get("phone") or "", a.get("enterprise_id"))
                        for a in src["attendees"]
                        if not a.get("enterprise_id") or a["enterprise_id"] in ents
                    ],
                    policies=src.get("policies") or "",
                    follow_up=src.get("follow_up") or "",
                    location=src.get("location") or "",
                    start_time=src.get("start_time") or "",
                )
            )
            added += 1
    return added


# -- measuring -----------------------------------------------------------------------------------------


def median_time(fn, runs: int) -> tuple[float, list[float], object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def page_count(pdf: bytes) -> int:
    return cli.pdf_page_count(pdf)


class Recorder:
    """Records what the forms put on each page (one extra, untimed run): every string with its font size,
    and, for the same-page baseline, each QR code's modules, filled/stroked rectangles and line segments.

    Every text reportlab puts on a page, whether through Canvas.drawString & co. or a text object
    (the ledger draws a page's cells as one text object), goes through PDFTextObject._formatText.
    """

    def __init__(self):
        self.pages: dict[int, list[tuple[float, str]]] = {}
        self.shapes: dict[int, dict] = {}
        self._saved: list = []

    def _shape(self, canv) -> dict:
        return self.shapes.setdefault(canv.getPageNumber(), {"qr": [], "rects": 0, "segments": 0})

    def __enter__(self):
        recorder = self
        original_text = textobject.PDFTextObject._formatText
        original_rect = pdfcanvas.Canvas.rect
        original_path = pdfcanvas.Canvas.drawPath
        original_qr = document.draw_qr

        def text(tobj, t):
            if t:
                recorder.pages.setdefault(tobj._canvas.getPageNumber(), []).append((tobj._fontsize, t))
            return original_text(tobj, t)

        def rect(canv, *a, **k):
            recorder._shape(canv)["rects"] += 1
            return original_rect(canv, *a, **k)

        def path(canv, p, *a, **k):
            recorder._shape(canv)["segments"] += p.getCode().count(" l")
            return original_path(canv, p, *a, **k)

        def qr(canv, rows, *a, **k):
            recorder._shape(canv)["qr"].append(rows)
            recorder._in_qr = True
            try:
                return original_qr(canv, rows, *a, **k)
            finally:
                recorder._in_qr = False

        self._in_qr = False
        self._saved = [(textobject.PDFTextObject, "_formatText", original_text), (pdfcanvas.Canvas, "rect", original_rect),
                       (pdfcanvas.Canvas, "drawPath", original_path), (document, "draw_qr", original_qr)]
        textobject.PDFTextObject._formatText = text
        pdfcanvas.Canvas.rect = rect
        pdfcanvas.Canvas.drawPath = lambda canv, p, *a, **k: (original_path(canv, p, *a, **k) if recorder._in_qr
                                                              else path(canv, p, *a, **k))
        document.draw_qr = qr
        return self

    def __exit__(self, *exc):
        for owner, name, original in self._saved:
            setattr(owner, name, original)

    def page_list(self) -> list[list[tuple[float, str]]]:
        return [self.pages[k] for k in sorted(self.pages)]

    def shape_list(self) -> list[dict]:
        return [self.shapes.get(k, {"qr": [], "rects": 0, "segments": 0}) for k in sorted(self.pages)]


def baseline_pdf(pages: list[list[tuple[float, str]]], pagesize) -> bytes:
    """The same strings, sizes and page count on a bare canvas: no platypus, no tables, no QR codes."""
    buf = io.BytesIO()
    c = pdfcanvas.Canvas(buf, pagesize=pagesize, initialFontName=FONT)
    width, height = pagesize
    for strings in pages:
        y = height - 40
        for size, text in strings:
            c.setFont(FONT, size)
            c.drawString(40, y, text)
            y -= size * 1.2
            if y < 30:
                y = height - 40
        c.showPage()
    c.save()
    return buf.getvalue()


def same_page_pdf(pages: list[list[tuple[float, str]]], shapes: list[dict], pagesize) -> bytes:
    """The text baseline plus what else is on each page, with bare canvas calls: the same number of
    rules (as line segments) and boxes, and each QR code encoded and drawn with the same primitives
    the forms use. What remains between this and ours is layout, database reads and audit entries."""
    buf = io.BytesIO()
    c = pdfcanvas.Canvas(buf, pagesize=pagesize, initialFontName=FONT)
    width, height = pagesize
    for strings, shape in zip(pages, shapes, strict=True):
        y = height - 40
        for size, text in strings:
            c.setFont(FONT, size)
            c.drawString(40, y, text)
            y -= size * 1.2
            if y < 30:
                y = height - 40
        for i in range(shape["rects"]):
            c.rect(40 + i % 20, 40 + i % 30, 50, 12, stroke=0, fill=1)
        segments = [(40, 60 + i % 500, width - 40, 60 + i % 500) for i in range(shape["segments"])]
        if segments:
            c.lines(segments)
        for rows in shape["qr"]:
            # Encoding is part of making the page: re-encode the recorded modules' payload size with the
            # same encoder call the forms make (a fresh payload of the same length each time).
            document.qr_modules("ZQ:V:" + f"{len(rows):032d}")
            document.draw_qr(c, rows, width - 100, height - 100, 56)
        c.showPage()
    c.save()
    return buf.getvalue()


def measure(name: str, make_pdf, pagesize, runs: int) -> dict:
    """Time `make_pdf` (ours) and the bare-canvas baseline of the same pages."""
    with Recorder() as rec:
        pdf = make_pdf()
    pages = rec.page_list()
    shapes = rec.shape_list()
    n_pages = page_count(pdf)
    if len(pages) != n_pages:
        log(f"  注意：记录到 {len(pages)} 页的文字，PDF 有 {n_pages} 页")
    strings = sum(len(p) for p in pages)
    chars = sum(len(t) for p in pages for _s, t in p)
    log(f"{name}：{n_pages} 页，每页平均 {strings / max(n_pages, 1):.0f} 段文字；计时 {runs} 次…")
    ours_s, ours_runs, pdf = median_time(make_pdf, runs)
    assert page_count(pdf) == n_pages
    base_s, base_runs, base = median_time(lambda: baseline_pdf(pages, pagesize), runs)
    assert page_count(base) == len(pages)
    same_s, same_runs, same = median_time(lambda: same_page_pdf(pages, shapes, pagesize), runs)
    ours_pps = n_pages / ours_s
    base_pps = len(pages) / base_s
    same_pps = len(pages) / same_s
    result = {
        "pages": n_pages,
        "strings": strings,
        "characters": chars,
        "pdf_bytes": len(pdf),
        "ours": {
            "runs_s": [round(t, 3) for t in ours_runs],
            "median_s": round(ours_s, 3),
            "pages_per_s": round(ours_pps, 1),
        },
        "baseline": {
            "runs_s": [round(t, 3) for t in base_runs],
            "median_s": round(base_s, 3),
            "pages_per_s": round(base_pps, 1),
            "pdf_bytes": len(base),
        },
        "ratio": round(ours_pps / base_pps, 3),
        "same_page_baseline": {
            "runs_s": [round(t, 3) for t in same_runs],
            "median_s": round(same_s, 3),
            "pages_per_s": round(same_pps, 1),
            "pdf_bytes": len(same),
            "qr_codes": sum(len(sh["qr"]) for sh in shapes),
            "rects": sum(sh["rects"] for sh in shapes),
            "line_segments": sum(sh["segments"] for sh in shapes),
        },
        "ratio_same_page": round(ours_pps / same_pps, 3),
    }
    log(
        f"  ours {ours_pps:,.1f} 页/秒（中位 {ours_s:.2f} 秒）  baseline {base_pps:,.1f} 页/秒（中位 {base_s:.2f} 秒）  "
        f"ratio {result['ratio']:.2f}；同页面基线 {same_pps:,.1f} 页/秒，ratio {result['ratio_same_page']:.2f}"
    )
    return result


# -- main ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Printing benchmark (pages per second, ours vs a bare canvas)")
    ap.add_argument("--db", help="use a copy of this database (otherwise a demo database is generated)")
    ap.add_argument("--size", choices=("small", "city"), default="small", help="demo size when no --db (default small)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--visits", type=int, default=1000, help="visit records in the batch (default 1000)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per figure; the median is reported (default 3)")
    ap.add_argument(
        "--ledger",
        choices=("auto", "yes", "no"),
        default="auto",
        help=f"also time the ledger of all problems (auto: when the database has ≥ {CITY_PROBLEMS:,})",
    )
    ap.add_argument("--out", default=str(RESULTS), help="results file (JSON)")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.visits < 1:
        ap.error("--runs and --visits must be at least 1")
    register_fonts()

    with tempfile.TemporaryDirectory(prefix="bench_print_") as tmp:
        path = build_db(Path(tmp), args)
        services = Services.open(path)
        try:
            t0 = time.perf_counter()
            added = top_up_visits(services, args.visits)
            if added:
                log(
                    f"已通过 VisitService.create 补充 {added} 条走访记录（一个事务，{time.perf_counter() - t0:.1f} 秒）"
                )
            ids = services.printing.visit_ids(VisitFilter())[: args.visits]
            problems = services.problems.count(ProblemFilter())
            result = {
                "benchmark": "print",
                "when": datetime.now().isoformat(timespec="seconds"),
                "python": platform.python_version(),
                "reportlab": reportlab.Version,
                "machine": f"{platform.system()} {platform.machine()} {platform.processor()}".strip(),
                "db": {
                    "source": args.db or f"demo --size {args.size} --seed {args.seed}",
                    "visits_added": added,
                    "problems": problems,
                },
                "runs": args.runs,
                "goal_ratio": 0.5,
            }
            start = time.perf_counter()
            for vid in ids:
                services.visits.get(vid)
            result["load_visits_s"] = round(time.perf_counter() - start, 3)
            result["visit_records"] = {
                "records": len(ids),
                **measure(f"走访记录表 {len(ids)} 份", lambda: services.printing.visit_records(ids), A4, args.runs),
            }
            if args.ledger == "yes" or (args.ledger == "auto" and problems >= CITY_PROBLEMS):
                try:
                    import app.pdf.ledger_form  # noqa: F401
                except ImportError:
                    log("问题台账：app.pdf.ledger_form 尚不存在，跳过")
                else:
                    result["ledger"] = {
                        "rows": problems,
                        **measure(
                            f"问题台账 {problems:,} 行",
                            lambda: services.printing.ledger(ProblemFilter(), "问题台账"),
                            landscape(A4),
                            args.runs,
                        ),
                    }
        finally:
            services.close()

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    v = result["visit_records"]
    print(
        f"走访记录表 {v['records']} 份 / {v['pages']} 页：ours {v['ours']['pages_per_s']} 页/秒，"
        f"baseline {v['baseline']['pages_per_s']} 页/秒，ratio {v['ratio']}（目标 ≥ {result['goal_ratio']}）"
    )
    if "ledger" in result:
        g = result["ledger"]
        print(
            f"问题台账 {g['rows']:,} 行 / {g['pages']} 页：ours {g['ours']['pages_per_s']} 页/秒，"
            f"baseline {g['baseline']['pages_per_s']} 页/秒，ratio {g['ratio']}"
        )
    print(f"结果：{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
