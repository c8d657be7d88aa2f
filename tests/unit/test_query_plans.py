"""EXPLAIN QUERY PLAN of the list queries: the orders lists open in walk an index (no temporary B-tree sorting
every row, no table row read per list row), and a search reads its own kind's FTS table. At ten cities' scale a
lost index turns 80 ms into a second (bench/README.md); the plan is what tells, whatever the machine's speed."""

from __future__ import annotations

import pytest

from app.enterprises import EnterpriseFilter
from app.problems import ProblemFilter
from app.visits import VisitFilter


def plan(svc, query: tuple) -> list[str]:
    sql, params = query
    return [r[-1] for r in svc.store.query(f"EXPLAIN QUERY PLAN {sql}", params)]


@pytest.mark.parametrize("sort_key", ["name", "uscc", "status", "industry", "scale", "township"])
@pytest.mark.parametrize("descending", [False, True])
def test_enterprise_list_walks_a_covering_index(svc, sort_key, descending):
    steps = plan(svc, svc.enterprises.list_query(EnterpriseFilter(), sort_key, descending))
    assert len(steps) == 1 and steps[0].startswith("SCAN e USING COVERING INDEX enterprises_"), steps


def test_visit_and_problem_lists_walk_a_covering_index(svc):
    assert plan(svc, svc.visits.list_query(VisitFilter())) == ["SCAN v USING COVERING INDEX visits_list"]
    steps = plan(svc, svc.problems.list_query(ProblemFilter()))
    assert steps[0] == "SCAN p USING COVERING INDEX problems_list"
    assert not any("TEMP B-TREE" in s or s.startswith("SEARCH e ") for s in steps), steps


@pytest.mark.parametrize("kind, query", [
    ("enterprise", lambda svc: svc.enterprises.list_query(EnterpriseFilter(text="科技"))),
    ("visit", lambda svc: svc.visits.list_query(VisitFilter(text="用工"))),
    ("problem", lambda svc: svc.problems.list_query(ProblemFilter(text="用工"))),
])
def test_search_reads_its_own_fts_table_and_looks_records_up(svc, kind, query):
    steps = plan(svc, query(svc))
    assert f"SCAN search_index_{kind} VIRTUAL TABLE INDEX 0:M" in " ".join(steps), steps
    assert not any(s.startswith(("SCAN e ", "SCAN v ", "SCAN p ")) for s in steps), steps  # no walk of every record


def test_a_cadres_enterprises_start_from_the_assignments(svc):
    steps = plan(svc, svc.enterprises.list_query(EnterpriseFilter(cadre_id="C1", not_visited_days=30)))
    assert any("assignments" in s for s in steps) and not any(s.startswith("SCAN e ") for s in steps), steps


def test_an_enterprises_history_uses_the_row_index(svc):
    steps = [r[-1] for r in svc.store.query(
        "EXPLAIN QUERY PLAN SELECT at FROM audit_log WHERE deleted = 0 AND (row_id = ? OR row_id IN "
        "(SELECT id FROM assignments WHERE enterprise_id = ?)) ORDER BY at DESC", ("x", "x"))]
    assert not any(s.startswith("SCAN audit_log") for s in steps), steps
