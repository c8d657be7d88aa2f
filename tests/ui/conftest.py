"""Fixtures for GUI tests: an application with the bundled font and an initialised station database."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _bundled_font(qapp):
    from ui.fonts import register_bundled_font
    from ui.style import apply_style

    register_bundled_font(qapp)
    apply_style(qapp)


@pytest.fixture
def services(tmp_path):
    """A fresh station of 金水区 operated by 王磊 (a cadre), with the real migrations."""
    from app.services import Services

    svc = Services.open(tmp_path / "station.db")
    svc.initialise(role="station", unit_name="金水区", operator="王磊")
    yield svc
    svc.close()


@pytest.fixture
def ui_settings(tmp_path):
    from ui.settings import Settings

    return Settings(tmp_path / "settings.ini")


@pytest.fixture
def bus():
    from ui.bus import AppBus

    return AppBus()


@pytest.fixture
def tasks():
    from ui.tasks import SyncTaskRunner

    return SyncTaskRunner()


def totals_match(view) -> bool:
    """The breakdown rows on screen add up to the headline for every additive column shown."""
    from ui.models.stats_model import ADDITIVE
    from ui.views.stats_view import PROBLEM_ONLY_DIMENSIONS

    if view.headline is None:
        return False
    rows = view.model.rows()
    dim = view.dimension.currentData()
    keys = [k for k in ADDITIVE if not (dim in PROBLEM_ONLY_DIMENSIONS and k in (
        "enterprises_covered", "enterprise_visits", "symposia"))]
    if dim == "month":  # 包联 is not a monthly figure
        keys = [k for k in keys if k != "enterprises_covered"]
    return all(sum(r[k] or 0 for r in rows) == view.headline[k] for k in keys)
