"""The audit log's vocabulary is the audit domain's: the portal's log pages and the API's entries show the
same Chinese names for actions and kinds of target."""

from __future__ import annotations

from fastapi.testclient import TestClient

from govshare.audit import vocabulary
from govshare.core.db import Database
from tests import factories


def test_known_and_unknown_codes() -> None:
    assert vocabulary.action_label("identity.login") == "登录"
    assert vocabulary.action_label("nothing.named") == ""
    assert vocabulary.target_type_label("api_key") == "接口密钥"
    assert vocabulary.target_type_label("something_new") == "something_new"
    assert vocabulary.target_type_label(None) == ""
    assert all(prefix.endswith(".") for prefix in vocabulary.CATEGORIES)


def test_api_entries_carry_the_chinese_names(client: TestClient, db: Database) -> None:
    factories.city(db)
    factories.login(client, "auditor")
    answer = client.get("/api/v1/audit/entries", params={"action": "identity.login"})
    assert answer.status_code == 200, answer.text
    entries = answer.json()["entries"]
    assert entries, "the auditor's own login is audited"
    assert {e["action_label"] for e in entries} == {"登录"}
    assert {e["target_type_label"] for e in entries} == {
        vocabulary.target_type_label(entries[0]["target_type"])
    }
