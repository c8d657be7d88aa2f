"""DraftStore: atomic saves, damaged files ignored, safe file names, the folder beside the database."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import drafts
from app.drafts import DraftStore, drafts_folder, file_name
from app.services import Services

VISIT = {"summary": "了解企业一季度生产经营情况。", "enterprises": [{"id": "E1", "status": None}]}


@pytest.fixture
def store(tmp_path) -> DraftStore:
    return DraftStore(tmp_path / "drafts" / "station")


def test_save_load_discard_round_trip(store):
    assert store.load("visit:new") is None
    store.save("visit:new", VISIT)
    draft = store.load("visit:new")
    assert draft is not None
    assert draft.key == "visit:new"
    assert draft.payload == VISIT
    assert abs(datetime.now(UTC) - draft.saved_at) < timedelta(minutes=1)
    assert store.keys() == ["visit:new"]
    store.discard("visit:new")
    store.discard("visit:new")  # twice is fine
    assert store.load("visit:new") is None
    assert store.keys() == []


def test_chinese_is_stored_readably(store):
    store.save("visit:new", VISIT)
    assert "了解企业" in store.path("visit:new").read_text(encoding="utf-8")


def test_keys_are_kept_apart_and_listed(store):
    keys = ["visit:new", "visit:V1", "enterprise:new", "enterprise:E1", "problem-step:P1:交办", "problem-step:P1:办结"]
    for n, key in enumerate(keys):
        store.save(key, {"n": n})
    assert store.keys() == sorted(keys)
    assert [store.load(k).payload["n"] for k in keys] == list(range(len(keys)))


@pytest.mark.parametrize("key", ["../../evil", "..\\..\\evil", "/etc/passwd", "a/../../b", "C:\\x", ".", "", "x" * 500])
def test_file_names_never_leave_the_folder(store, key):
    name = file_name(key)
    assert "/" not in name and "\\" not in name and ":" not in name and not name.startswith(".")
    assert len(name) < 80
    store.save(key, {"k": key})
    assert store.path(key).parent == store.folder
    assert [p.name for p in store.folder.iterdir()] == [name]
    assert store.load(key).payload == {"k": key}


def test_similar_keys_get_different_files():
    assert file_name("visit:1") != file_name("visit_1") != file_name("visit/1")


def test_a_failed_replace_leaves_the_previous_draft_and_no_temp_file(store, monkeypatch):
    store.save("visit:new", {"summary": "第一版"})

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(drafts.os, "replace", refuse)
    with pytest.raises(OSError):
        store.save("visit:new", {"summary": "第二版"})
    assert store.load("visit:new").payload == {"summary": "第一版"}
    assert [p.name for p in store.folder.iterdir()] == [file_name("visit:new")]


def test_a_failed_write_leaves_the_previous_draft(store, monkeypatch):
    store.save("visit:new", {"summary": "第一版"})

    def broken_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(drafts.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        store.save("visit:new", {"summary": "第二版"})
    assert store.load("visit:new").payload == {"summary": "第一版"}
    assert len(list(store.folder.iterdir())) == 1


def test_an_unserialisable_payload_touches_nothing(store):
    store.save("visit:new", {"summary": "第一版"})
    with pytest.raises(TypeError):
        store.save("visit:new", {"when": datetime.now()})
    assert store.load("visit:new").payload == {"summary": "第一版"}


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"key": "visit:new", "saved_at": "2025-01-02T03:04:05Z", "payl',  # cut off mid-write
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'{"key": "visit:new", "saved_at": "yesterday", "payload": {}}',
        b'{"key": "visit:new", "saved_at": "2025-01-02T03:04:05Z", "payload": "text"}',
        b'{"key": "other", "saved_at": "2025-01-02T03:04:05Z", "payload": {}}',
    ],
)
def test_a_damaged_draft_is_logged_and_ignored(store, content, caplog):
    store.save("visit:new", VISIT)
    store.path("visit:new").write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="app.drafts"):
        assert store.load("visit:new") is None
    assert "visit:new" in caplog.text
    store.save("visit:new", VISIT)  # the next save replaces it
    assert store.load("visit:new").payload == VISIT


def test_keys_skip_damaged_and_foreign_files(store):
    store.save("visit:new", VISIT)
    (store.folder / "junk.json").write_text("{", encoding="utf-8")
    (store.folder / "moved.json").write_text(json.dumps({"key": "visit:new", "payload": {}}), encoding="utf-8")
    (store.folder / ".draft-abc.tmp").write_text("{}", encoding="utf-8")  # left by a crash mid-save
    assert store.keys() == ["visit:new"]


def test_no_folder_is_a_no_op_store():
    store = DraftStore(None)
    store.save("visit:new", VISIT)
    assert store.load("visit:new") is None
    assert store.keys() == []
    store.discard("visit:new")


def test_folder_beside_the_database(tmp_path):
    assert drafts_folder(tmp_path / "zhuqi.db") == tmp_path / "drafts" / "zhuqi"
    assert drafts_folder(":memory:") is None


def test_services_keep_drafts_beside_their_database(tmp_path):
    services = Services.open(tmp_path / "station.db")
    try:
        assert services.drafts.folder == tmp_path / "drafts" / "station"
        services.drafts.save("visit:new", VISIT)
        assert (tmp_path / "drafts" / "station" / file_name("visit:new")).exists()
    finally:
        services.close()
    memory = Services.open(":memory:")
    try:
        assert memory.drafts.folder is None
    finally:
        memory.close()


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_draft_files_are_private(store):
    store.save("enterprise:new", {"contact_phone": "13812345678"})
    assert store.path("enterprise:new").stat().st_mode & 0o077 == 0


def test_folder_is_made_on_first_save(tmp_path):
    store = DraftStore(tmp_path / "a" / "b")
    assert store.keys() == []
    store.save("visit:new", VISIT)
    assert Path(tmp_path / "a" / "b").is_dir()
