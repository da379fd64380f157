"""The issue's "done when": 民政 applies for 公安's 有条件 resource → 公安 approves → 民政's system calls the
data API and gets masked, granted data only → the call is in the audit log → the auditor sees who looked at
the person. On SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from govshare.core.db import Database
from govshare.models import AuditEntry
from tests import factories
from tests.sharing.helpers import (
    LI,
    OPERATOR_TEXT,
    PURPOSE,
    PURPOSE_TEXT,
    ZHANG,
    application_body,
    resource_code,
    setup,
)


def test_request_approval_masked_call_audit_and_who_looked_at_me(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    keys = setup(db, tmp_path)
    code = resource_code(db)
    auth = factories.bearer(keys["mz"])

    # Before any grant the data API refuses, and the refusal is counted.
    refused = client.get(f"/api/v1/data/{code}/records/{ZHANG}", headers={**auth, **PURPOSE})
    assert refused.status_code == 403, refused.text

    # 1. 民政's department admin applies (the 政治面貌 item is 不予共享 and cannot be asked for).
    headers = factories.login(client, "mz.admin")
    bad = client.post(
        "/api/v1/sharing/requests",
        json=application_body(code, items=["gmsfhm", "zzmm"]),
        headers=headers,
    )
    assert bad.status_code == 422
    assert "不予共享" in bad.json()["detail"]
    filed = client.post(
        "/api/v1/sharing/requests",
        json=application_body(code, clear_items=["sjhm"], row_scope={"qx": ["110105", "110106"]}),
        headers=headers,
    )
    assert filed.status_code == 201, filed.text
    request = filed.json()
    assert request["state"] == "pending"
    assert request["due_at"] is not None
    number = request["number"]
    assert number.startswith("SQ-")

    # The consumer cannot approve its own application.
    self_approval = client.post(
        f"/api/v1/sharing/requests/{number}/decision", json={"decision": "approve"}, headers=headers
    )
    assert self_approval.status_code == 403

    # 2. 公安 approves fewer items and a narrower scope (东城 only), with the reason.
    headers = factories.login(client, "ga.admin")
    no_reason = client.post(
        f"/api/v1/sharing/requests/{number}/decision",
        json={
            "decision": "approve",
            "items": ["gmsfhm", "xm", "sjhm", "qx"],
            "row_scope": {"qx": ["110105"]},
        },
        headers=headers,
    )
    assert no_reason.status_code == 422
    wider = client.post(
        f"/api/v1/sharing/requests/{number}/decision",
        json={"decision": "approve", "row_scope": {"qx": ["110105", "110108"]}, "reason": "扩大范围不允许"},
        headers=headers,
    )
    assert wider.status_code == 422
    assert "超出申请" in wider.json()["detail"]
    decided = client.post(
        f"/api/v1/sharing/requests/{number}/decision",
        json={
            "decision": "approve",
            "items": ["gmsfhm", "xm", "sjhm", "qx"],
            "row_scope": {"qx": ["110105"]},
            "reason": "居住地址不属于审核所需；仅限本区居民",
        },
        headers=headers,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "partial"
    assert decided.json()["provider_working_days"] == 0
    grant_id = decided.json()["grant_id"]
    client.cookies.clear()

    # 3. 民政's system calls the data API: granted items only, masked except the clear-text item.
    missing = client.get(f"/api/v1/data/{code}/records/{ZHANG}", headers=auth)
    assert missing.status_code == 400
    assert "X-Purpose" in missing.json()["detail"]
    no_operator = client.get(
        f"/api/v1/data/{code}/records/{ZHANG}", headers={**auth, "X-Purpose": PURPOSE["X-Purpose"]}
    )
    assert no_operator.status_code == 400
    assert "X-Operator" in no_operator.json()["detail"]
    got = client.get(f"/api/v1/data/{code}/records/{ZHANG}", headers={**auth, **PURPOSE})
    assert got.status_code == 200, got.text
    record = got.json()
    assert record == {
        "gmsfhm": ZHANG[:6] + "********" + ZHANG[-4:],
        "xm": "张*",
        "sjhm": "13800138000",
        "qx": "110105",
    }
    # 李四 lives in 丰台: outside the granted rows, as if absent.
    outside = client.get(f"/api/v1/data/{code}/records/{LI}", headers={**auth, **PURPOSE})
    assert outside.status_code == 404

    # 4. The call is in the audit log with caller, purpose, operator and key.
    with db.transaction(readonly=True) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "data.record").order_by(AuditEntry.seq.desc())
        ).first()
    assert entry is not None
    assert entry.application_code == "mz-dbsh"
    assert entry.department_code == "MZ"
    assert entry.purpose == PURPOSE_TEXT
    assert entry.detail["operator"] == OPERATOR_TEXT
    assert entry.detail["grant"] == grant_id

    # 5. The auditor sees who looked at 张三 (and the 404 look-up of 李四 too), and nobody else can.
    factories.login(client, "ga.admin")
    assert client.get(f"/api/v1/audit/subjects/{ZHANG}").status_code == 403
    factories.login(client, "auditor")
    trace = client.get(f"/api/v1/audit/subjects/{ZHANG}")
    assert trace.status_code == 200, trace.text
    accesses = trace.json()["accesses"]
    assert len(accesses) == 1
    seen = accesses[0]
    assert (seen["department"], seen["application"], seen["purpose"], seen["operator"]) == (
        "MZ",
        "mz-dbsh",
        PURPOSE_TEXT,
        OPERATOR_TEXT,
    )
    assert seen["resource"] == code
    assert [a["action"] for a in client.get(f"/api/v1/audit/subjects/{LI}").json()["accesses"]] == [
        "data.record"
    ]

    # 6. Revocation stops the next call.
    headers = factories.login(client, "ga.admin")
    revoked = client.post(
        f"/api/v1/sharing/grants/{grant_id}/revoke", json={"reason": "审核工作结束"}, headers=headers
    )
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    client.cookies.clear()
    after = client.get(f"/api/v1/data/{code}/records/{ZHANG}", headers={**auth, **PURPOSE})
    assert after.status_code == 403

    # Usage counts calls, rows and refusals for the evaluation.
    factories.login(client, "admin")
    usage = client.get("/api/v1/sharing/usage", params={"group": "consumer"}).json()
    assert usage == [{"key": "MZ", "name": "测试市民政局", "calls": 2, "rows": 1, "refusals": 2}]
