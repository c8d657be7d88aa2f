"""Enrollment (DESIGN §5 Trust): hub invite → station join → hub enroll, list and revoke, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import cli
from app.errors import ValidationError
from app.services import Services
from app.sync import enrollment
from app.sync.enrollment import EnrollmentError
from app.sync.identity import public_keys
from app.sync.keys import InstallationKeys


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    """Never touch the real user data folder."""
    monkeypatch.setenv("ZHUQI_DATA_DIR", str(tmp_path / "userdata"))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def init(capsys, folder: Path, role: str, unit: str, operator: str = "王磊") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / f"{role}.db"
    code, _, err = run(capsys, "init", "--db", str(db), "--role", role, "--unit", unit, "--operator", operator)
    assert code == 0, err
    return db


def identity(capsys, db: Path) -> dict:
    code, out, err = run(capsys, "sync", "identity", "--db", str(db), "--json")
    assert code == 0, err
    return json.loads(out)


def table_count(db: Path, table: str) -> int:
    services = Services.open(db)
    try:
        return services.store.scalar(f"SELECT count(*) FROM {table}")  # noqa: S608 - test, fixed names
    finally:
        services.close()


@pytest.fixture
def sites(capsys, tmp_path):
    return {
        "city": init(capsys, tmp_path / "city", "city", "郑州市", "赵市"),
        "district": init(capsys, tmp_path / "district", "district", "金水区", "钱区"),
        "station": init(capsys, tmp_path / "station", "station", "金水区", "王磊"),
    }


def test_invite_join_enroll_list_revoke(capsys, tmp_path, sites):
    hub, station = sites["district"], sites["station"]
    hub_ident, station_ident = identity(capsys, hub), identity(capsys, station)

    invite = tmp_path / "金水区.zqinvite"
    code, out, err = run(capsys, "sync", "invite", "--db", str(hub), "--out", str(invite))
    assert code == 0, err
    assert invite.exists() and hub_ident["signing_fingerprint"] in out
    document = json.loads(invite.read_text(encoding="utf-8"))["document"]
    assert document["format"] == "zhuqi-invite" and document["hub"]["installation_id"] == hub_ident["installation_id"]
    assert document["reference"]["units"] and document["reference"]["vocabulary"]
    assert "deadline_templates" in document["reference"]
    assert "cadres" not in document["reference"]

    request = tmp_path / "request.zqjoin"
    code, out, err = run(capsys, "sync", "join", "--db", str(station), str(invite), "--out", str(request))
    assert code == 0, err
    assert hub_ident["signing_fingerprint"] in out and "核对" in out and request.exists()
    assert table_count(station, "trusted_hubs") == 1

    code, out, err = run(capsys, "sync", "enroll", "--db", str(hub), str(request), "--yes")
    assert code == 0, err
    assert station_ident["signing_fingerprint"] in out and station_ident["installation_id"] in out
    assert "王磊" in out and "金水区" in out and "已登记" in out
    code, out, err = run(capsys, "sync", "enroll", "--db", str(hub), str(request), "--yes")
    assert code == 0 and "已登记过" in out

    code, out, _ = run(capsys, "sync", "enrolled", "--db", str(hub), "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 1
    assert rows[0]["installation_id"] == station_ident["installation_id"]
    assert rows[0]["signing_fingerprint"] == station_ident["signing_fingerprint"] and rows[0]["revoked_at"] is None
    code, out, _ = run(capsys, "sync", "enrolled", "--db", str(hub))
    assert code == 0 and station_ident["signing_fingerprint"] in out and "有效" in out

    # trusted_signer: the station's raw key while enrolled, None after revoke; the station trusts its hub.
    hub_services, station_services = Services.open(hub), Services.open(station)
    try:
        station_key = public_keys(station_services.store)[0]
        assert enrollment.trusted_signer(hub_services)(station_ident["installation_id"]) == station_key
        assert enrollment.trusted_signer(hub_services)("someone-else") is None
        hub_key = public_keys(hub_services.store)[0]
        assert enrollment.trusted_signer(station_services)(hub_ident["installation_id"]) == hub_key
    finally:
        hub_services.close()

    code, out, err = run(capsys, "sync", "revoke", "--db", str(hub), station_ident["installation_id"])
    assert code == 0, err
    code, out, err = run(capsys, "sync", "revoke", "--db", str(hub), station_ident["installation_id"])
    assert code == 0 and "未作改动" in out
    code, _, err = run(capsys, "sync", "revoke", "--db", str(hub), "no-such-installation")
    assert code == 3 and err.startswith("错误：")
    hub_services = Services.open(hub)
    try:
        assert enrollment.trusted_signer(hub_services)(station_ident["installation_id"]) is None
        assert enrollment.list_enrolled(hub_services)[0]["revoked_at"] is not None
    finally:
        hub_services.close()
        station_services.close()


def test_tampered_invite_is_refused_and_nothing_stored(capsys, tmp_path, sites):
    invite = tmp_path / "hub.zqinvite"
    assert run(capsys, "sync", "invite", "--db", str(sites["district"]), "--out", str(invite))[0] == 0
    data = invite.read_bytes()
    name = '"unit_name": "金水区"'.encode()
    at = data.index(name) + len(name) - 2  # last byte of 区 → another valid character
    tampered = tmp_path / "tampered.zqinvite"
    tampered.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:])
    code, _, err = run(capsys, "sync", "join", "--db", str(sites["station"]), str(tampered),
                       "--out", str(tmp_path / "r.zqjoin"))
    assert code == 3 and "tampered.zqinvite" in err and "签名" in err
    assert table_count(sites["station"], "trusted_hubs") == 0
    assert not (tmp_path / "r.zqjoin").exists()

    garbage = tmp_path / "garbage.zqinvite"
    garbage.write_bytes(b"\xff\x00not json")
    code, _, err = run(capsys, "sync", "join", "--db", str(sites["station"]), str(garbage),
                       "--out", str(tmp_path / "r.zqjoin"))
    assert code == 3 and "garbage.zqinvite" in err


def test_request_for_another_hub_is_refused(capsys, tmp_path, sites):
    invite = tmp_path / "city.zqinvite"
    assert run(capsys, "sync", "invite", "--db", str(sites["city"]), "--out", str(invite))[0] == 0
    request = tmp_path / "to-city.zqjoin"
    assert run(capsys, "sync", "join", "--db", str(sites["station"]), str(invite), "--out", str(request))[0] == 0
    code, _, err = run(capsys, "sync", "enroll", "--db", str(sites["district"]), str(request), "--yes")
    assert code == 3 and "另一个汇总端" in err
    assert table_count(sites["district"], "enrolled_installations") == 0
    # ...while the city it was meant for accepts it
    assert run(capsys, "sync", "enroll", "--db", str(sites["city"]), str(request), "--yes")[0] == 0


def test_district_hub_joins_the_city(capsys, tmp_path, sites):
    invite = tmp_path / "city.zqinvite"
    assert run(capsys, "sync", "invite", "--db", str(sites["city"]), "--out", str(invite))[0] == 0
    request = tmp_path / "district.zqjoin"
    code, out, err = run(capsys, "sync", "join", "--db", str(sites["district"]), str(invite), "--out", str(request))
    assert code == 0, err
    assert identity(capsys, sites["city"])["signing_fingerprint"] in out
    assert run(capsys, "sync", "enroll", "--db", str(sites["city"]), str(request), "--yes")[0] == 0
    # a district invite cannot be joined by the city
    district_invite = tmp_path / "district.zqinvite"
    assert run(capsys, "sync", "invite", "--db", str(sites["district"]), "--out", str(district_invite))[0] == 0
    code, _, err = run(capsys, "sync", "join", "--db", str(sites["city"]), str(district_invite),
                       "--out", str(tmp_path / "x.zqjoin"))
    assert code == 3 and err.startswith("错误：")


def test_station_cannot_make_an_invite(capsys, tmp_path, sites):
    out_file = tmp_path / "s.zqinvite"
    code, _, err = run(capsys, "sync", "invite", "--db", str(sites["station"]), "--out", str(out_file))
    assert code == 3 and "只有汇总端可以生成邀请文件" in err
    assert not out_file.exists()


def test_same_installation_with_other_keys_is_refused(capsys, tmp_path, sites):
    hub = sites["district"]
    invite = tmp_path / "hub.zqinvite"
    assert run(capsys, "sync", "invite", "--db", str(hub), "--out", str(invite))[0] == 0
    request = tmp_path / "req.zqjoin"
    assert run(capsys, "sync", "join", "--db", str(sites["station"]), str(invite), "--out", str(request))[0] == 0
    assert run(capsys, "sync", "enroll", "--db", str(hub), str(request), "--yes")[0] == 0

    # An impostor claims the station's installation id with its own keys (a self-consistent, validly signed request).
    document = json.loads(request.read_text(encoding="utf-8"))["document"]
    station_id = document["installation"]["id"]
    fake = InstallationKeys.generate(station_id)
    document["installation"]["signing_public"] = enrollment._b64(fake.signing_public)
    document["installation"]["encryption_public"] = enrollment._b64(fake.encryption_public)
    forged = enrollment._write_signed(tmp_path / "forged.zqjoin", document, fake)
    code, out, err = run(capsys, "sync", "enroll", "--db", str(hub), str(forged), "--yes")
    assert code == 3 and "已用其他密钥登记，可能是冒用" in err
    hub_services = Services.open(hub)
    try:
        station_key = enrollment.trusted_signer(hub_services)(station_id)
        assert station_key is not None and station_key != fake.signing_public
    finally:
        hub_services.close()

    # and a request whose content was changed after signing fails the signature check
    envelope = json.loads(request.read_text(encoding="utf-8"))
    envelope["document"]["installation"]["operator"] = "李四"
    changed = tmp_path / "changed.zqjoin"
    changed.write_text(json.dumps(envelope, ensure_ascii=False), encoding="utf-8")
    code, _, err = run(capsys, "sync", "enroll", "--db", str(hub), str(changed), "--yes")
    assert code == 3 and "changed.zqjoin" in err


def test_enroll_without_yes_and_without_a_tty_exits_2(capsys, tmp_path, sites):
    hub = sites["district"]
    invite = tmp_path / "hub.zqinvite"
    assert run(capsys, "sync", "invite", "--db", str(hub), "--out", str(invite))[0] == 0
    request = tmp_path / "req.zqjoin"
    assert run(capsys, "sync", "join", "--db", str(sites["station"]), str(invite), "--out", str(request))[0] == 0
    code, out, err = run(capsys, "sync", "enroll", "--db", str(hub), str(request))
    assert code == 2 and "--yes" in err
    assert table_count(hub, "enrolled_installations") == 0


def test_api_refuses_wrong_roles(tmp_path, sites):
    station = Services.open(sites["station"])
    try:
        with pytest.raises(ValidationError, match="汇总端"):
            enrollment.enroll(station, {"installation": {}, "hub_id": station.installation.id})
        with pytest.raises(ValidationError, match="只有汇总端可以生成邀请文件"):
            enrollment.make_invite(station, tmp_path)
    finally:
        station.close()
    city = Services.open(sites["city"])
    try:
        with pytest.raises(EnrollmentError):
            enrollment.enroll(city, {"installation": {}, "hub_id": city.installation.id})
    finally:
        city.close()
