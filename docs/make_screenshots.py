"""Regenerate the README screenshots: a small demo station, every screen and the main dialogs, offscreen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py [--out docs/screenshots]

Uses only the bundled font (no system CJK font needed), like the tests.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["ZHUQI_NO_CRASH_DIALOG"] = "1"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtWidgets import QApplication

    from app.demo import generate
    from app.services import Services
    from ui.fonts import register_bundled_font
    from ui.settings import Settings
    from ui.style import apply_style
    from ui.tasks import SyncTaskRunner

    app = QApplication([])
    register_bundled_font(app)
    apply_style(app)
    tmp = Path(tempfile.mkdtemp(prefix="zhuqi-shots-"))
    services = Services.open(tmp / "demo.db")
    generate(services, size="small", seed=7)

    from ui.main_window import MainWindow

    window = MainWindow(services, Settings(tmp / "settings.ini"), SyncTaskRunner())
    window.resize(1366, 820)
    window.show()

    def shot(widget, name: str) -> None:
        for _ in range(5):
            app.processEvents()
        widget.grab().save(str(args.out / f"{name}.png"))
        print("wrote", args.out / f"{name}.png")

    shot(window, "01_workbench")
    ents = window.show_page("enterprises")
    ids = services.enterprises.list_ids(services.workbench.enterprise_filter("my_enterprises"))
    if ids:
        ents.open_enterprise(ids[0])
    shot(window, "02_enterprises")
    visits = window.show_page("visits")
    vids = services.visits.list_ids(__import__("app.visits", fromlist=["VisitFilter"]).VisitFilter())
    if vids:
        visits.open_visit(vids[0])
    shot(window, "03_visits")
    problems = window.show_page("problems")
    overdue = services.problems.list_ids(services.workbench.problem_filter("overdue"))
    pick = overdue or services.problems.list_ids(services.workbench.problem_filter("in_progress"))
    if pick:
        problems.open_problem(pick[0])
    shot(window, "04_problems")
    stats = window.show_page("stats")
    stats.set_period("all")
    shot(window, "05_stats")
    stats.tabs.setCurrentWidget(stats.charts)
    shot(window, "13_dashboard_charts")
    stats.tabs.setCurrentWidget(stats.late)
    shot(window, "14_dashboard_late")
    stats.tabs.setCurrentIndex(0)
    window.show_page("people")
    shot(window, "09_people")
    # 数据同步 after one round trip: join a 金水区 hub, export up, the hub imports and acknowledges it.
    (tmp / "hub").mkdir()
    usb = tmp / "usb"
    usb.mkdir()
    hub = Services.open(tmp / "hub" / "hub.db")
    hub.initialise(role="district", unit_name="金水区", operator="张三", cadre_role=None)
    request, _ = services.sync.join(hub.sync.make_invite(usb), usb)
    hub.sync.enroll(hub.sync.read_request(request))
    hub.sync.import_files([r.path for r in services.sync.export(usb)])
    services.sync.import_files([r.path for r in hub.sync.export(usb)])
    hub.close()
    window.show_page("sync")
    shot(window, "11_sync")

    from ui.dialogs.settings_dialog import SettingsDialog

    dlg = SettingsDialog(services, Settings(tmp / "dialogs.ini"), window)
    dlg.show_backups()
    dlg.show()
    if dlg.backup_panel.table.rowCount():
        dlg.backup_panel.table.selectRow(0)
    shot(dlg, "12_backups")
    dlg.close()

    from ui.dialogs.enterprise_dialog import EnterpriseDialog
    from ui.dialogs.step_dialog import StepDialog
    from ui.dialogs.visit_dialog import VisitDialog

    settings = Settings(tmp / "dialogs.ini")
    dlg = VisitDialog(services, settings, window, enterprise_id=ids[0] if ids else None)
    dlg.resize(900, 780)
    dlg.show()
    shot(dlg, "06_visit_dialog")
    dlg.close()
    dlg = EnterpriseDialog(services, settings, window, ent_id=ids[0] if ids else None)
    dlg.show()
    shot(dlg, "07_enterprise_dialog")
    dlg.close()
    from app.problems import ProblemFilter

    pending = services.problems.list_ids(ProblemFilter(statuses=("待交办",), level="区县级"))
    if pending:
        dlg = StepDialog(services, pending[0], "交办", window)
        dlg.show()
        shot(dlg, "08_step_assign")
        dlg.close()
    from ui.dialogs.print_preview import PrintPreviewDialog

    if vids:
        dlg = PrintPreviewDialog(services.printing.visit_records(vids[:1]), "走访记录表", settings, window,
                                 suggested_name="走访记录表.pdf")
        dlg.resize(1000, 800)
        dlg.show()
        shot(dlg, "10_print_preview")
        dlg.close()
    from ui.dialogs.roster_import_dialog import RosterImportDialog

    dlg = RosterImportDialog(services, window.bus, settings, SyncTaskRunner(), window)
    dlg.show()
    dlg.open_file(roster_file(services, tmp / "金水区包联企业名单（11月）.xlsx"))
    shot(dlg, "15_roster_import")
    dlg.close()
    window.close()
    services.close()
    return 0


def roster_file(services, path: Path) -> Path:
    """An office's enterprise list as it arrives: a merged title, the header on row 3 in the office's words, some
    enterprises already registered (two with a new phone), new ones, a wrong credit code, a repeated row, 合计."""
    from openpyxl import Workbook

    from app import uscc
    from app.enterprises import EnterpriseFilter

    def code(n: int) -> str:
        body = f"MA{n:06d}"
        return uscc.make("91410105" + body + uscc.org_code_check(body))

    known = [services.enterprises.get(i) for i in services.enterprises.list_ids(EnterpriseFilter())[:8]]
    rows = [[e["name"], e["uscc"], e["unit_name"], e["contact_name"],
             f"1390371{i:04d}" if i in (2, 5) else e["contact_phone"]] for i, e in enumerate(known)]
    rows += [["郑州华瑞精密机械有限公司", code(9101), "金水区", "张建国", "13838011001"],
             ["郑州恒通达物流有限公司", code(9102), "金水区", "李红", "037163886666"],
             ["郑州鑫源食品有限公司", code(9103)[:17] + "0", "金水区", "王强", "13838011003"],
             ["郑州博隆环保科技有限公司", code(9104), "金水区", "赵敏", "1383801100"],
             ["郑州华瑞精密机械有限公司", code(9101), "金水区", None, None],
             ["郑州嘉和医药有限公司", code(9105), "经开区", "孙磊", "13838011005"],
             ["河南安泰建设工程有限公司", code(9106), "金水区", "周洋", "13838011006"]]
    wb = Workbook()
    ws = wb.active
    ws.title = "包联企业"
    ws.append(["金水区“万人助万企”包联企业名单"])
    ws.append(["填报单位：金水区工信局", None, None, None, None, "2026年11月"])
    ws.append(["序号", "企业全称", "信用代码", "属地", "联系人", "手机"])
    for n, row in enumerate(rows, start=1):
        ws.append([n, *row])
    ws.append(["合计", f"共 {len(rows)} 家"])
    ws.merge_cells("A1:F1")
    wb.save(path)
    return path


if __name__ == "__main__":
    sys.exit(main())
