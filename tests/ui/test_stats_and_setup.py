"""统计 screen (figures equal the service's, breakdown totals add up) and the first-run setup dialog."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.demo import generate
from app.services import Services
from app.stats import NON_ADDITIVE_DIMENSIONS, Period
from tests.ui.conftest import totals_match
from ui.dialogs.setup_dialog import SetupDialog
from ui.models.stats_model import COLUMNS, StatsTableModel
from ui.views.stats_view import HEADLINE, StatsView


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    svc = Services.open(path)
    generate(svc, size="small", seed=5)
    svc.close()
    return path


@pytest.fixture
def demo_services(demo_path, tmp_path):
    copy = tmp_path / "demo.db"
    copy.write_bytes(demo_path.read_bytes())
    svc = Services.open(copy)
    yield svc
    svc.close()


def test_stats_view_shows_the_service_figures_and_breakdowns_add_up(qtbot, demo_services, bus, ui_settings, tasks):
    view = StatsView(demo_services, bus, ui_settings, tasks)
    qtbot.addWidget(view)
    view.set_period("all")
    expected = demo_services.stats.headline(view.period())
    for key, _caption in HEADLINE:
        shown = view.tiles[key].value_label.text()
        assert shown == ("—" if expected[key] is None else str(expected[key])), key
    assert int(view.tiles["problems_collected"].value_label.text()) > 0
    for index in range(view.dimension.count()):
        view.dimension.setCurrentIndex(index)  # re-runs the statistics for that grouping
        assert view.model.rowCount() > 1
        if view.dimension.currentData() in NON_ADDITIVE_DIMENSIONS:
            # a visit with two cadres counts for both: no 合计 row pretending to add up
            assert view.model.index(view.model.rowCount() - 1, 0).data() != "合计"
            assert view.dimension_note.text()
            continue
        assert totals_match(view), view.dimension.currentText()
        last = view.model.rowCount() - 1
        assert view.model.index(last, 0).data() == "合计"
        assert view.model.index(last, 4).data() == str(expected["problems_collected"])


def test_stats_view_period_filters(qtbot, demo_services, bus, ui_settings, tasks):
    view = StatsView(demo_services, bus, ui_settings, tasks)
    qtbot.addWidget(view)
    view.set_period("month")
    month = demo_services.stats.headline(Period(view.period().start, view.period().end))
    assert view.tiles["enterprise_visits"].value_label.text() == str(month["enterprise_visits"])
    view.set_period("all")
    assert int(view.tiles["enterprise_visits"].value_label.text()) >= month["enterprise_visits"]
    jinshui = view.unit_combo.findText("金水区")
    view.unit_combo.setCurrentIndex(jinshui)
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    unit_id = view.unit_combo.currentData()
    assert view.tiles["problems_collected"].value_label.text() == str(
        demo_services.stats.headline(view.period(), unit_id)["problems_collected"])
    assert "金水区" in view.cutoff_label.text()


def test_stats_table_model_passes_the_model_tester(qtmodeltester, demo_services):
    model = StatsTableModel()
    rows = demo_services.stats.breakdown("category")
    model.set_rows(rows, demo_services.stats.headline())
    assert model.rowCount() == len(rows) + 1 and model.columnCount() == len(COLUMNS)
    qtmodeltester.check(model)
    model.set_rows([], None)
    qtmodeltester.check(model)


def test_first_run_setup_initialises_a_station(qtbot, tmp_path):
    svc = Services.open(tmp_path / "new.db")
    dialog = SetupDialog(svc)
    qtbot.addWidget(dialog)
    dialog.unit.setCurrentText("中原区")
    dialog.accept()  # no name yet: an inline message, nothing saved
    assert dialog.error.isVisibleTo(dialog) and "姓名" in dialog.error.text()
    assert not svc.ctx.initialised
    dialog.name.setText("李娜")
    dialog.post.setText("区工信局副局长")
    dialog.cadre_role.setCurrentText("首席服务官")
    dialog.demo.setChecked(True)
    dialog.accept()
    assert dialog.result() == SetupDialog.DialogCode.Accepted and dialog.load_demo
    inst = svc.installation
    assert (inst.role, svc.reference.unit(inst.unit_id).name, inst.operator) == ("station", "中原区", "李娜")
    cadre = svc.people.cadre(inst.cadre_id)
    assert (cadre["name"], cadre["role"], cadre["post"]) == ("李娜", "首席服务官", "区工信局副局长")
    # Hub roles arrived with data sync: selectable (their setup is tested in test_sync_ui.py).
    assert dialog.role.model().item(1).isEnabled()
    svc.close()
