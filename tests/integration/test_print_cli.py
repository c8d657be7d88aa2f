"""`main.py print …` (DESIGN §6, §8): every form as a PDF file, written atomically, fonts embedded.

Runs app.cli.main in-process against one small demo database per module. The problem, ledger,
enterprise and report forms are tested in depth by their own tests; here each subcommand only has
to produce a sound PDF (skipped until its form module exists).
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

pypdf = pytest.importorskip("pypdf")

from app import cli  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    """Never touch the real user data folder."""
    monkeypatch.setenv("ZHUQI_DATA_DIR", str(tmp_path / "userdata"))


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("printdemo") / "demo.db"
    assert cli.main(["demo", "--db", str(path), "--size", "small", "--seed", "11"]) == 0
    return path


@pytest.fixture(scope="module")
def all_visits_pdf(db, tmp_path_factory) -> tuple[Path, str, str]:
    """`print visit --all` once for the module: (file, stdout, stderr)."""
    out = tmp_path_factory.mktemp("printall") / "走访记录表.pdf"
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        code = cli.main(["print", "visit", "--db", str(db), "--all", "--out", str(out)])
    assert code == 0, e.getvalue()
    return out, o.getvalue(), e.getvalue()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def sql(db: Path, query: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def squash(text: str) -> str:
    """Extracted text without any whitespace: table cells wrap names across lines."""
    return re.sub(r"\s+", "", text)


def pdf_text(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in pypdf.PdfReader(path).pages]


def assert_fonts_embedded(path: Path) -> None:
    """Every font any page (or form XObject) uses is an embedded TrueType program (FontFile2)."""
    reader = pypdf.PdfReader(path)
    seen = 0

    def walk(resources, where: str) -> None:
        nonlocal seen
        if resources is None:
            return
        resources = resources.get_object()
        fonts = resources.get("/Font")
        if fonts is not None:
            for name, ref in fonts.get_object().items():
                font = ref.get_object()
                seen += 1
                if font.get("/Subtype") == "/Type0":
                    font = font["/DescendantFonts"][0].get_object()
                descriptor = font.get("/FontDescriptor")
                assert descriptor is not None, f"{where}: font {name} {font.get('/BaseFont')} has no descriptor"
                assert "/FontFile2" in descriptor.get_object(), f"{where}: font {name} is not embedded"
        xobjects = resources.get("/XObject")
        if xobjects is not None:
            for name, ref in xobjects.get_object().items():
                xo = ref.get_object()
                if xo.get("/Subtype") == "/Form":
                    walk(xo.get("/Resources"), f"{where} {name}")

    for i, page in enumerate(reader.pages, start=1):
        walk(page.get("/Resources"), f"page {i}")
    assert seen, "no fonts at all"
    pdffonts = shutil.which("pdffonts")
    if pdffonts:
        lines = subprocess.run([pdffonts, str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
        dashes = next(i for i, line in enumerate(lines) if line.startswith("---"))
        spans = [m.span() for m in re.finditer(r"-+", lines[dashes])]
        headers = [lines[dashes - 1][a:b].strip() for a, b in spans]
        a, b = spans[headers.index("emb")]
        rows = [line for line in lines[dashes + 1 :] if line.strip()]
        assert rows
        for row in rows:
            assert row[a:b].strip() == "yes", f"pdffonts: not embedded: {row}"


def page_count(stdout: str) -> int:
    m = re.search(r"共 (\d+) 页", stdout)
    assert m, stdout
    return int(m.group(1))


# -- visit -----------------------------------------------------------------------------------------


def test_print_is_a_subcommand(capsys):
    assert "print" in cli.SUBCOMMANDS
    assert cli.wants_cli(["print", "visit", "--db", "x.db", "--out", "x.pdf", "--all"])
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "print" in out
    code, out, _ = run(capsys, "print", "--help")
    assert code == 0
    for word in ("visit", "problem", "ledger", "enterprise", "report", "--out", "--id", "--all", "--month"):
        assert word in out


def test_visit_all_prints_every_visit(db, all_visits_pdf):
    path, stdout, stderr = all_visits_pdf
    assert path.read_bytes().startswith(b"%PDF")
    assert str(path) in stdout
    assert stderr == ""  # progress only on a terminal
    visits = sql(db, "SELECT id, record_no FROM visits WHERE deleted = 0")
    assert f"{len(visits)} 份" in stdout
    pages = pdf_text(path)
    assert page_count(stdout) == len(pages) >= len(visits)
    text = squash("".join(pages))
    for _vid, number in visits:
        assert number in text
    names = sql(
        db,
        "SELECT DISTINCT e.name FROM visit_enterprises ve JOIN enterprises e ON e.id = ve.enterprise_id "
        "JOIN visits v ON v.id = ve.visit_id WHERE ve.deleted = 0 AND v.deleted = 0",
    )
    assert names
    for (name,) in names:
        assert squash(name) in text, name
    # Each record's pages are numbered on their own: as many "第 1 页" as records.
    assert sum(len(re.findall(r"第 1 页", p)) for p in pages) == len(visits)


def test_visit_all_fonts_embedded(all_visits_pdf):
    assert_fonts_embedded(all_visits_pdf[0])


def test_visit_by_record_number_and_id(db, tmp_path, capsys):
    (vid, number), (vid2, number2) = sql(db, "SELECT id, record_no FROM visits WHERE deleted = 0 ORDER BY record_no")[
        :2
    ]
    out = tmp_path / "one.pdf"
    code, stdout, err = run(capsys, "print", "visit", "--db", str(db), "--id", number, "--out", str(out))
    assert code == 0, err
    text = squash("".join(pdf_text(out)))
    assert number in text and number2 not in text
    assert "1 份" in stdout
    # ids and (lower-case) numbers mix; a record named twice prints once
    out2 = tmp_path / "two.pdf"
    code, stdout, err = run(
        capsys, "print", "visit", "--db", str(db), "--id", vid, number2.lower(), "--id", number, "--out", str(out2)
    )
    assert code == 0, err
    assert "2 份" in stdout
    text = squash("".join(pdf_text(out2)))
    assert number in text and number2 in text
    # the print is in 操作记录
    rows = sql(db, "SELECT count(*) FROM audit_log WHERE action = '打印走访记录表' AND row_id = ?", (vid,))
    assert rows[0][0] >= 2


def test_visit_month_limits_the_batch(db, tmp_path, capsys):
    (month,) = sql(db, "SELECT substr(visit_date, 1, 7) FROM visits GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0]
    inside = [
        n for (n,) in sql(db, "SELECT record_no FROM visits WHERE deleted = 0 AND visit_date LIKE ?", (month + "%",))
    ]
    outside = sql(db, "SELECT record_no FROM visits WHERE deleted = 0 AND visit_date NOT LIKE ?", (month + "%",))
    out = tmp_path / "month.pdf"
    code, stdout, err = run(capsys, "print", "visit", "--db", str(db), "--all", "--month", month, "--out", str(out))
    assert code == 0, err
    assert f"{len(inside)} 份" in stdout
    text = squash("".join(pdf_text(out)))
    assert all(n in text for n in inside)
    assert not any(n in text for (n,) in outside)


def test_unknown_visit_exits_3_and_writes_nothing(db, tmp_path, capsys):
    (number,) = sql(db, "SELECT record_no FROM visits LIMIT 1")[0]
    out = tmp_path / "nope.pdf"
    code, stdout, err = run(
        capsys, "print", "visit", "--db", str(db), "--id", number, "ZF2099-XXXX-9999", "--out", str(out)
    )
    assert code == 3
    assert "找不到走访记录：ZF2099-XXXX-9999" in err
    assert number not in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "extra",
    [
        (),  # neither --id nor --all
        ("--all", "--id", "x"),
        ("--id", "x", "--month", "2026-03"),
        ("--all", "--month", "2026-03", "--from", "2026-03-01"),
        ("--all", "--from", "2026-03-02", "--to", "2026-03-01"),
        ("--all", "--month", "2026-13"),
        ("--all", "--supervision"),
    ],
)
def test_visit_usage_errors_exit_2(db, tmp_path, capsys, extra):
    out = tmp_path / "x.pdf"
    code, _stdout, err = run(capsys, "print", "visit", "--db", str(db), "--out", str(out), *extra)
    assert code == 2
    assert "错误：" in err
    assert not out.exists()


def test_missing_out_or_db(tmp_path, capsys):
    code, _, err = run(capsys, "print", "visit", "--db", str(tmp_path / "none.db"), "--all", "--out", "x.pdf")
    assert code == 2 and "数据库文件不存在" in err
    code, _, err = run(capsys, "print", "visit", "--db", str(tmp_path / "none.db"), "--all")
    assert code == 2 and "--out" in err


def test_failed_write_leaves_no_file(db, tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    out = blocker / "x.pdf"
    (number,) = sql(db, "SELECT record_no FROM visits LIMIT 1")[0]
    code, _, err = run(capsys, "print", "visit", "--db", str(db), "--id", number, "--out", str(out))
    assert code == 3
    assert "错误：" in err and "afile" in err
    assert blocker.read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_out_is_a_folder(db, tmp_path, capsys):
    code, _, err = run(capsys, "print", "visit", "--db", str(db), "--all", "--out", str(tmp_path))
    assert code == 2 and "文件夹" in err


def test_page_count_helper():
    pdf = b"<< /Type /Pages /Kids [] >> << /Type /Page\n>> << /Type /Page /Parent 1 0 R >> << /Type /Catalog >>"
    assert cli.pdf_page_count(pdf) == 2


# -- the other forms (skipped until their modules land) ---------------------------------------------


def test_problem_assignment_and_supervision(db, tmp_path, capsys):
    pytest.importorskip("app.pdf.problem_forms")
    rows = sql(
        db,
        "SELECT id, record_no FROM problems WHERE deleted = 0 AND status IN ('已交办', '办理中') ORDER BY record_no",
    )
    if not rows:
        pytest.skip("the demo has no problem being handled")
    pid, number = rows[0]
    out = tmp_path / "交办单.pdf"
    code, stdout, err = run(capsys, "print", "problem", "--db", str(db), "--id", number, "--out", str(out))
    assert code == 0, err
    text = squash("".join(pdf_text(out)))
    assert "问题交办单" in text and number in text
    assert page_count(stdout) == len(pypdf.PdfReader(out).pages)
    assert_fonts_embedded(out)
    out2 = tmp_path / "督办单.pdf"
    code, stdout, err = run(
        capsys, "print", "problem", "--db", str(db), "--id", pid, "--supervision", "--out", str(out2)
    )
    assert code == 0, err
    assert "督办单" in stdout
    assert "督办单" in squash("".join(pdf_text(out2)))


def test_problem_errors(db, tmp_path, capsys):
    out = tmp_path / "p.pdf"
    code, _, err = run(capsys, "print", "problem", "--db", str(db), "--id", "WT2099-XXXX-0001", "--out", str(out))
    assert code == 3 and "找不到问题：WT2099-XXXX-0001" in err
    code, _, err = run(capsys, "print", "problem", "--db", str(db), "--out", str(out))
    assert code == 2
    code, _, err = run(capsys, "print", "problem", "--db", str(db), "--id", "a", "b", "--out", str(out))
    assert code == 2
    assert not out.exists()


def test_ledger_is_landscape(db, tmp_path, capsys):
    pytest.importorskip("app.pdf.ledger_form")
    out = tmp_path / "台账.pdf"
    code, stdout, err = run(capsys, "print", "ledger", "--db", str(db), "--out", str(out))
    assert code == 0, err
    reader = pypdf.PdfReader(out)
    assert page_count(stdout) == len(reader.pages) >= 1
    for page in reader.pages:
        box = page.mediabox
        width, height = float(box.width), float(box.height)
        if page.get("/Rotate", 0) % 180:
            width, height = height, width
        assert width > height
    text = squash("".join(p.extract_text() or "" for p in reader.pages))
    assert "问题台账" in text
    for (number,) in sql(db, "SELECT record_no FROM problems WHERE deleted = 0"):
        assert number in text
    assert_fonts_embedded(out)


def test_ledger_month_by_registration_date(db, tmp_path, capsys):
    pytest.importorskip("app.pdf.ledger_form")
    (month,) = sql(db, "SELECT substr(registered_on, 1, 7) FROM problems GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0]
    inside = sql(db, "SELECT record_no FROM problems WHERE deleted = 0 AND registered_on LIKE ?", (month + "%",))
    outside = sql(db, "SELECT record_no FROM problems WHERE deleted = 0 AND registered_on NOT LIKE ?", (month + "%",))
    out = tmp_path / "台账-月.pdf"
    code, _, err = run(
        capsys, "print", "ledger", "--db", str(db), "--month", month, "--unit", "金水区", "--out", str(out)
    )
    assert code == 0, err
    text = squash("".join(pdf_text(out)))
    in_unit = {
        n
        for (n,) in sql(
            db,
            "SELECT p.record_no FROM problems p JOIN enterprises e ON e.id = p.enterprise_id "
            "JOIN units u ON u.id = e.unit_id WHERE u.name = '金水区' AND p.deleted = 0",
        )
    }
    assert all(n in text for (n,) in inside if n in in_unit)
    assert not any(n in text for (n,) in outside)


def test_enterprise_file_by_uscc(db, tmp_path, capsys):
    pytest.importorskip("app.pdf.enterprise_form")
    ent_id, name, uscc = sql(
        db,
        "SELECT e.id, e.name, e.uscc FROM enterprises e WHERE e.deleted = 0 AND e.uscc IS NOT NULL "
        "AND e.id IN (SELECT enterprise_id FROM visit_enterprises) ORDER BY e.name LIMIT 1",
    )[0]
    out = tmp_path / "档案.pdf"
    code, stdout, err = run(capsys, "print", "enterprise", "--db", str(db), "--id", uscc, "--out", str(out))
    assert code == 0, err
    text = squash("".join(pdf_text(out)))
    assert "企业服务档案" in text and squash(name) in text
    assert page_count(stdout) == len(pypdf.PdfReader(out).pages)
    assert_fonts_embedded(out)
    code, _, err = run(capsys, "print", "enterprise", "--db", str(db), "--id", ent_id, "--out", str(out))
    assert code == 0, err


def test_enterprise_unknown(db, tmp_path, capsys):
    out = tmp_path / "e.pdf"
    code, _, err = run(capsys, "print", "enterprise", "--db", str(db), "--id", "91410100XXXXXXXXXX", "--out", str(out))
    assert code == 3 and "找不到企业：91410100XXXXXXXXXX" in err
    assert not out.exists()


def test_report(db, tmp_path, capsys):
    pytest.importorskip("app.pdf.report_form")
    (month,) = sql(db, "SELECT substr(visit_date, 1, 7) FROM visits GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0]
    out = tmp_path / "报表.pdf"
    code, stdout, err = run(
        capsys, "print", "report", "--db", str(db), "--month", month, "--unit", "金水区", "--out", str(out)
    )
    assert code == 0, err
    assert page_count(stdout) == len(pypdf.PdfReader(out).pages) >= 1
    assert "统计报表" in stdout
    assert_fonts_embedded(out)
    out2 = tmp_path / "报表-今年.pdf"
    code, _, err = run(capsys, "print", "report", "--db", str(db), "--out", str(out2))
    assert code == 0, err
    assert out2.read_bytes().startswith(b"%PDF")


def test_report_rejects_id_and_bad_unit(db, tmp_path, capsys):
    out = tmp_path / "r.pdf"
    code, _, err = run(capsys, "print", "report", "--db", str(db), "--id", "x", "--out", str(out))
    assert code == 2
    code, _, err = run(capsys, "print", "report", "--db", str(db), "--unit", "火星区", "--out", str(out))
    assert code == 3 and "火星区" in err
    assert not out.exists()


class _FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal(db, tmp_path, monkeypatch):
    numbers = [n for (n,) in sql(db, "SELECT record_no FROM visits WHERE deleted = 0 ORDER BY record_no LIMIT 3")]
    err = _FakeTTY()
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.setattr("sys.stdout", io.StringIO())
    out = tmp_path / "batch.pdf"
    assert cli.main(["print", "visit", "--db", str(db), "--id", *numbers, "--out", str(out)]) == 0
    text = err.getvalue()
    assert "正在生成走访记录表" in text and "100%" in text and text.endswith("\n")
