"""Loads the bundled reference data (units, vocabularies, deadline templates) into a new database."""

from __future__ import annotations

import json
import sqlite3
from functools import cache

from app.paths import resource_path

# Reference rows share fixed ids on every installation, so packages can name them.
REFERENCE_ORIGIN = "reference"
REFERENCE_TIME = "2026-01-01T00:00:00Z"


@cache
def load_reference() -> tuple[dict, dict]:
    units = json.loads(resource_path("reference", "units.json").read_text(encoding="utf-8"))
    vocab = json.loads(resource_path("reference", "vocabulary.json").read_text(encoding="utf-8"))
    return units, vocab


def _sync_cols() -> dict:
    return {"origin": REFERENCE_ORIGIN, "rev": 1, "updated_at": REFERENCE_TIME, "updated_by": REFERENCE_ORIGIN}


def _insert(conn: sqlite3.Connection, table: str, row: dict) -> None:
    row = {**_sync_cols(), **row}
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values()))


def seed_reference(conn: sqlite3.Connection) -> None:
    units, vocab = load_reference()
    city = units["city"]
    rows = [city, *units["districts"]]
    for sort, u in enumerate(rows):
        _insert(conn, "units", {
            "id": u["id"], "name": u["name"], "short_name": u.get("short"), "kind": u["kind"],
            "parent_id": u.get("parent"), "region_codes": json.dumps(u.get("region_codes", []), ensure_ascii=False),
            "sort": sort,
        })
    for sort, d in enumerate(units["departments"], start=100):
        _insert(conn, "units", {"id": d["id"], "name": d["name"], "short_name": d["name"], "kind": d["kind"],
                                "parent_id": d.get("parent"), "sort": sort})
    for sort, c in enumerate(vocab["problem_categories"]):
        _insert(conn, "vocabulary", {"id": f"problem_category:{c['code']}", "kind": "problem_category",
                                     "code": c["code"], "name": c["name"], "extra": c.get("examples", ""),
                                     "sort": sort})
    simple = {"enterprise_tag": "enterprise_tags", "cadre_role": "cadre_roles", "cadre_rank": "cadre_ranks",
              "enterprise_scale": "enterprise_scales", "industry": "industries"}
    for kind, key in simple.items():
        for sort, name in enumerate(vocab[key]):
            _insert(conn, "vocabulary", {"id": f"{kind}:{name}", "kind": kind, "code": name, "name": name,
                                         "sort": sort})
    for t in vocab["deadline_templates"]:
        _insert(conn, "deadline_templates", {
            "id": t["id"], "name": t["name"], "severity": t["severity"], "assign_days": t["assign_days"],
            "first_progress_days": t["first_progress_days"], "solve_days": t["solve_days"],
            "is_default": int(t["is_default"]), "note": t.get("note"),
        })
