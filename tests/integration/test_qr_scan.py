"""The QR code printed on a form really scans (zbar, from a 150 dpi render) and leads back to its record."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from app import uscc
from app.problems import ProblemInput
from app.services import Services
from app.visits import VisitInput

pytestmark = pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
                                reason="needs poppler-utils and zbar-tools (.ci/run installs them)")


def scan(pdf: bytes, tmp_path) -> str:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "form.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(tmp_path / "form.pdf"),
                    str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    out = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_printed_qr_codes_scan_back_to_their_records(tmp_path):
    svc = Services.open(tmp_path / "s.db")
    svc.initialise(role="station", unit_name="金水区", operator="王磊")
    ent = svc.enterprises.create({"uscc": uscc.make("91410105MA0000001"), "name": "郑州扫码测试有限公司",
                                  "unit_id": svc.installation.unit_id}).id
    vid = svc.visits.create(VisitInput(kind="实地走访", visit_date="2026-03-02", enterprise_ids=[ent],
                                       cadre_ids=[svc.installation.cadre_id], summary="了解生产经营情况。",
                                       problems=[ProblemInput(ent, "labour", "招工难。")]))
    pid = svc.visits.get(vid)["problems"][0]["id"]
    svc.problems.take_step(pid, "交办", on_date="2026-03-03", lead_unit_id="D05")
    assert svc.attachments.find_owner(scan(svc.printing.visit_records([vid]), tmp_path / "v")) == ("visits", vid)
    assert svc.attachments.find_owner(scan(svc.printing.assignment_sheet(pid), tmp_path / "p")) == ("problems", pid)
    svc.close()
