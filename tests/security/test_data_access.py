"""Data calls an insider cannot hide or turn into an oracle (issue #12, findings 7, 8, 9, 12): equality
filters on masked items, the key behind every call, filter values kept out of the audit in clear, probes
that find nothing still indexed for "who looked at me", and an index that can be checked against the
chain. Both databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select
from typer.testing import CliRunner

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission
from govshare.cli.main import app
from govshare.core.db import Database
from govshare.core.node import node_config
from govshare.errors import PermissionDenied
from govshare.identity.repository import UserRepository
from govshare.identity.service import actor_for_user
from govshare.models import AccessSubject, AuditEntry
from govshare.sharing import index_service
from govshare.sharing.access import subject_digest
from tests import factories
from tests.collection.helpers import person_id
from tests.scenarios import seeded
from tests.sharing.helpers import LI, PURPOSE, ZHANG, application_body, resource_code, setup

MASKED_ONLY = "信息项“{}”仅以脱敏形式授权，不能用作查询条件"
NOBODY = person_id("19700101", 5, "110101")


def _grant(client: TestClient, code: str, **asked: Any) -> None:
    headers = factories.login(client, "mz.admin")
    filed = client.post("/api/v1/sharing/requests", json=application_body(code, **asked), headers=headers)
    assert filed.status_code == 201, filed.text
    headers = factories.login(client, "ga.admin")
    number = filed.json()["number"]
    answer = client.post(
        f"/api/v1/sharing/requests/{number}/decision", json={"decision": "approve"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    client.cookies.clear()


@pytest.fixture
def city(client: TestClient, db: Database, tmp_path: Path) -> dict[str, Any]:
    """MZ holds a grant on gmsfhm (in clear), xm, sjhm, jzdz, qx and csrq (masked where the catalog says)."""

    def build() -> tuple[str, dict[str, str]]:
        keys = setup(db, tmp_path)
        code = resource_code(db)
        _grant(client, code, items=["gmsfhm", "xm", "sjhm", "jzdz", "qx", "csrq"], clear_items=["gmsfhm"])
        return code, keys

    code, keys = seeded(db, "security.data_access", build)  # built once per session (tests/scenarios.py)
    return {"code": code, "keys": keys, "mz": {**factories.bearer(keys["mz"]), **PURPOSE}}


def _entries(db: Database, *actions: str) -> list[AuditEntry]:
    with db.transaction(readonly=True) as session:
        query = select(AuditEntry).order_by(AuditEntry.seq)
        if actions:
            query = query.where(AuditEntry.action.in_(actions))
        return list(session.scalars(query))


def _digest(db: Database, value: str) -> str:
    with db.transaction(readonly=True) as session:
        return subject_digest(node_config(session).audit_key, value)


def _indexed(db: Database, value: str) -> list[int]:
    digest = _digest(db, value)
    with db.transaction(readonly=True) as session:
        return list(
            session.scalars(select(AccessSubject.audit_seq).where(AccessSubject.subject_digest == digest))
        )


def _prefix(key: str) -> str:
    return key.split("_")[1]


# --- finding 7: no equality oracle on masked items -------------------------------------------------------


def test_filters_on_items_seen_only_masked_are_refused_and_audited(
    client: TestClient, db: Database, city: dict[str, Any]
) -> None:
    code, headers = city["code"], city["mz"]
    for name, label, value in (("xm", "姓名", "张三"), ("sjhm", "手机号码", "13800138000")):
        for path in ("records", "export"):
            refused = client.get(f"/api/v1/data/{code}/{path}", params={name: value}, headers=headers)
            assert refused.status_code == 403, refused.text
            assert refused.json()["detail"] == MASKED_ONLY.format(label)
    denied = [e for e in _entries(db, "data.query", "data.export") if e.outcome == "denied"]
    assert len(denied) == 4
    assert all(
        value not in json.dumps(e.detail, ensure_ascii=False) for e in denied for value in ("张三", "138001")
    )
    # Items in clear still filter: the number granted in clear, and 所在区县.
    assert (
        client.get(f"/api/v1/data/{code}/records", params={"qx": "110105"}, headers=headers).status_code
        == 200
    )
    found = client.get(f"/api/v1/data/{code}/records", params={"gmsfhm": ZHANG}, headers=headers).json()
    assert [r["xm"] for r in found["items"]] == ["张*"]


def test_a_clear_birth_date_hardens_the_number_mask_in_pages_and_exports(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    keys = setup(db, tmp_path)
    code = resource_code(db)
    _grant(client, code, items=["gmsfhm", "xm", "csrq"])
    headers = {**factories.bearer(keys["mz"]), **PURPOSE}
    page = client.get(f"/api/v1/data/{code}/records", headers=headers).json()["items"]
    assert {r["gmsfhm"] for r in page} == {n[:6] + "*" * 12 for n in (ZHANG, LI, person_id("19780101", 357))}
    exported = client.get(f"/api/v1/data/{code}/export", params={"format": "ndjson"}, headers=headers)
    assert {json.loads(line)["gmsfhm"] for line in exported.text.splitlines()} == {r["gmsfhm"] for r in page}


# --- finding 12: audit privacy -----------------------------------------------------------------------------


def test_filter_values_are_digested_and_empty_probes_are_indexed(
    client: TestClient, db: Database, city: dict[str, Any]
) -> None:
    code, headers = city["code"], city["mz"]
    empty = client.get(
        f"/api/v1/data/{code}/records", params={"gmsfhm": NOBODY, "qx": "110105"}, headers=headers
    )
    assert empty.status_code == 200 and empty.json()["items"] == []
    (entry,) = _entries(db, "data.query")
    text = json.dumps(entry.detail, ensure_ascii=False)
    assert NOBODY not in text and "110105" not in text
    assert entry.detail["filter"]["gmsfhm"] == _digest(db, NOBODY)
    assert _indexed(db, NOBODY) == [entry.seq]  # the probe is on record for the person probed


@pytest.mark.parametrize("kind", ["person", "org"])
def test_one_number_lookups_without_a_matching_grant_are_audited_and_indexed(
    client: TestClient, db: Database, city: dict[str, Any], kind: str
) -> None:
    number = ZHANG if kind == "person" else "91110000600037341" + "X"
    if kind == "org":
        from govshare.standards import validators

        body = "91110000600037341"
        number = body + validators.uscc_check_char(body)
    headers = {**factories.bearer(city["keys"]["rs"]), **PURPOSE}  # 人社 holds no grant at all
    answer = client.get(f"/api/v1/{kind}/{number}", headers=headers)
    assert answer.status_code == 200 and answer.json()["parts"] == []
    (entry,) = _entries(db, f"data.{kind}")
    assert (entry.application_code, entry.detail["parts"]) == ("rs-shbz", 0)
    assert entry.detail["key"] == _prefix(city["keys"]["rs"])
    assert number not in json.dumps(entry.detail)
    assert _indexed(db, number) == [entry.seq]


# --- finding 9: the key behind every call -------------------------------------------------------------------


def test_every_data_call_entry_names_its_key(client: TestClient, db: Database, city: dict[str, Any]) -> None:
    code, headers, prefix = city["code"], city["mz"], _prefix(city["keys"]["mz"])
    assert client.get(f"/api/v1/data/{code}/records/{ZHANG}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/data/{code}/records/{NOBODY}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/data/{code}/records", params={"qx": "1"}, headers=headers).status_code == 200
    assert client.get(f"/api/v1/data/{code}/records", params={"xm": "x"}, headers=headers).status_code == 403
    verify = client.post(
        f"/api/v1/verify/{code}", json={"key": ZHANG, "claims": {"xm": "张三"}}, headers=headers
    )
    assert verify.json() == {"found": True, "match": True, "results": {"xm": "match"}}
    assert client.get(f"/api/v1/person/{LI}", headers=headers).status_code == 200
    entries = [e for e in _entries(db) if e.action.startswith("data.")]
    assert len(entries) == 6
    assert {e.detail.get("key") for e in entries} == {prefix}
    assert all(city["keys"]["mz"] not in json.dumps(e.detail) for e in entries)


def test_a_key_without_data_read_is_refused_with_its_prefix_on_record(
    client: TestClient, db: Database, city: dict[str, Any]
) -> None:
    key = factories.application_key(db, "mz-dbsh", "MZ", scopes=[Permission.CATALOG_READ])
    refused = client.get(f"/api/v1/data/{city['code']}/records", headers={**factories.bearer(key), **PURPOSE})
    assert refused.status_code == 403
    (entry,) = [e for e in _entries(db) if e.outcome == "denied"]
    assert (entry.application_code, entry.detail["key"]) == ("mz-dbsh", _prefix(key))


def test_keys_for_an_application_are_issued_by_its_own_department(
    client: TestClient, db: Database, city: dict[str, Any]
) -> None:
    headers = factories.login(client, "admin")  # the platform admin, of the bureau (DSJ)
    refused = client.post("/api/v1/applications/mz-dbsh/keys", json={}, headers=headers)
    assert refused.status_code == 403
    assert "本部门" in refused.json()["detail"] and "mz-dbsh" in refused.json()["detail"]
    (denied,) = [e for e in _entries(db, "applications.issue_key") if e.outcome == "denied"]
    assert (denied.actor_name, denied.target_id) == ("admin", "mz-dbsh")
    assert "签发接口密钥" not in client.get("/apps/mz-dbsh").text  # the portal offers no form either
    headers = factories.login(client, "mz.admin")
    assert "签发接口密钥" in client.get("/apps/mz-dbsh").text
    issued = client.post("/api/v1/applications/mz-dbsh/keys", json={}, headers=headers)
    assert issued.status_code == 201, issued.text
    (entry,) = _entries(db, "applications.key.issue")[-1:]
    assert (entry.actor_name, entry.department_code, entry.target_id) == (
        "mz.admin",
        "MZ",
        issued.json()["prefix"],
    )
    assert entry.detail["application_department"] == "MZ"


# --- finding 8: the who-looked-at-me index is checked against the chain ---------------------------------


def _auditor(db: Database) -> Actor:
    with db.transaction(readonly=True) as session:
        user = UserRepository(session).by_username("auditor")
        assert user is not None
        return actor_for_user(user)


def test_the_access_index_is_verified_against_the_chain(
    client: TestClient, db: Database, city: dict[str, Any], cli_env: None
) -> None:
    code, headers = city["code"], city["mz"]
    client.get(f"/api/v1/data/{code}/records", headers=headers)
    client.get(f"/api/v1/data/{code}/records", params={"gmsfhm": NOBODY}, headers=headers)
    auditor = _auditor(db)
    with db.transaction() as session:
        report = index_service.verify_access_index(session, auditor)
    assert report.ok and report.checked == 4 and report.missing == [] and report.extra == []
    (entry,) = _entries(db, "data.query")[:1]
    assert sorted(entry.detail["subjects"]) == sorted(
        _digest(db, n) for n in (ZHANG, LI, person_id("19780101", 357))
    )

    with db.transaction() as session:  # someone hides that ZHANG was read, and plants a false trace
        session.execute(delete(AccessSubject).where(AccessSubject.subject_digest == _digest(db, ZHANG)))
        session.execute(
            insert(AccessSubject).values(
                audit_seq=entry.seq, subject_digest=_digest(db, NOBODY), resource_id=1
            )
        )
    with db.transaction() as session:
        report = index_service.verify_access_index(session, auditor)
    assert not report.ok
    assert [(m.seq, m.digest) for m in report.missing] == [(entry.seq, _digest(db, ZHANG))]
    assert [(m.seq, m.digest) for m in report.extra] == [(entry.seq, _digest(db, NOBODY))]
    assert "1 条缺失" in report.message and "1 条多余" in report.message
    (verified,) = _entries(db, "sharing.verify_index")[-1:]
    assert verified.outcome == "failure"
    result = CliRunner().invoke(app, ["sharing", "verify-index"])
    assert result.exit_code == 1, result.output
    assert "1 条缺失" in result.output and f"缺失：第 {entry.seq} 条审计记录" in result.output

    with db.transaction() as session, pytest.raises(PermissionDenied):
        index_service.verify_access_index(session, Actor(kind="user", name="admin", id="1"))
