"""PeopleService.find_cadres / cadre_names: the pickers' queries over a hub's 50,000 cadres, a page at a time."""

from __future__ import annotations

from conftest import JINSHUI


def test_names_initials_and_units_find_cadres_best_first(svc):
    people = svc.people
    other = svc.reference.unit_by_name("郑东新区").id
    li_na = people.add_cadre("李娜", JINSHUI)
    people.add_cadre("李娜娜", other)
    people.add_cadre("王李", other)
    gone = people.add_cadre("李离", JINSHUI)
    people.update_cadre(gone, active=False)

    def names(text, **kw):
        return [c["name"] for c in people.find_cadres(text, **kw)]

    assert names("李娜") == ["李娜", "李娜娜"]  # the exact name first
    assert names("李") == ["李娜", "李娜娜", "王李"]  # names starting with it, then the rest; 在岗 only
    assert names("李", active_only=False) == ["李娜", "李娜娜", "李离", "王李"]
    assert names("LN") == ["李娜", "李娜娜"]  # pinyin initials, from the start
    assert names("ｌｎ") == ["李娜", "李娜娜"]  # full-width input
    assert names("郑东") == ["李娜娜", "王李"]  # the unit's name
    assert names("李", unit_id=other) == ["李娜娜", "王李", "李娜"]  # that unit's first
    assert names("李", limit=1) == ["李娜"]
    assert names("钱") == [] and names("xyz") == [] and names("%") == [] and names("_") == []
    first = people.find_cadres("李娜")[0]
    assert first["id"] == li_na and first["unit_name"] == "金水区" and first["role"] == "助企干部"


def test_empty_text_lists_the_first_page(svc):
    for n in range(5):
        svc.people.add_cadre(f"干部{n}", JINSHUI)
    assert len(svc.people.find_cadres("", limit=3)) == 3


def test_cadre_names_names_only_the_ids_asked(svc):
    a = svc.people.add_cadre("李娜", JINSHUI)
    b = svc.people.add_cadre("赵敏", JINSHUI)
    assert svc.people.cadre_names([a, None, a, "nobody"]) == {a: "李娜"}
    assert svc.people.cadre_names([]) == {}
    assert svc.people.cadre_names({a, b}) == {a: "李娜", b: "赵敏"}
