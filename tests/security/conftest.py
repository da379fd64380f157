"""Shared by the hostile-insider module (test_hostile_insiders.py): a small city whose GA resource has
loaded and quarantined records and an MZ grant on it, a client at an outsider's address, and helpers that
read the state an attack must not change (roles, password hashes, keys, audit entries)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from govshare.core.db import Database
from govshare.core.node import node_config
from govshare.models import AccessSubject, ApiKey, Application, AuditEntry, Batch, User, UserRole
from govshare.sharing.access import subject_digest
from tests import factories
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET
from tests.scenarios import seeded
from tests.sharing import helpers as sharing
from tests.sharing.helpers import application_body, resource_code

MB = 1024 * 1024
SECRETS = (TEST_SECRET, TEST_AUDIT_KEY)


def entries(db: Database, *actions: str) -> list[AuditEntry]:
    with db.transaction(readonly=True) as session:
        query = select(AuditEntry).order_by(AuditEntry.seq)
        if actions:
            query = query.where(AuditEntry.action.in_(actions))
        return list(session.scalars(query))


def count(db: Database, model: type[Any]) -> int:
    with db.transaction(readonly=True) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def roles_of(db: Database) -> dict[str, set[str]]:
    """Every account's roles and whether it is active: the state no refused attack may change."""
    with db.transaction(readonly=True) as session:
        users = {u.id: u for u in session.scalars(select(User))}
        roles: dict[str, set[str]] = {f"{u.username}:{u.is_active}": set() for u in users.values()}
        for link in session.scalars(select(UserRole)):
            user = users[link.user_id]
            roles[f"{user.username}:{user.is_active}"].add(str(link.role))
    return roles


def password_hashes(db: Database) -> dict[str, str]:
    with db.transaction(readonly=True) as session:
        return {u.username: u.password_hash for u in session.scalars(select(User))}


def no_secret(*answers: httpx.Response) -> None:
    for answer in answers:
        assert answer.status_code < 500, answer.text
        for secret in SECRETS:
            assert secret not in answer.text


def shown(answer: httpx.Response) -> str:
    """What an answer shows beyond the caller's own request path (problem+json echoes it as `instance`)."""
    return answer.text.replace(answer.request.url.path, "")


def prefix(key: str) -> str:
    return key.split("_")[1]


def grant(client: TestClient, code: str, **asked: Any) -> None:
    headers = factories.login(client, "mz.admin")
    filed = client.post("/api/v1/sharing/requests", json=application_body(code, **asked), headers=headers)
    assert filed.status_code == 201, filed.text
    headers = factories.login(client, "ga.admin")
    decided = client.post(
        f"/api/v1/sharing/requests/{filed.json()['number']}/decision",
        json={"decision": "approve"},
        headers=headers,
    )
    assert decided.status_code == 200, decided.text
    client.cookies.clear()


@pytest.fixture
def shared(client: TestClient, db: Database, tmp_path: Path) -> dict[str, Any]:
    """GA's population resource with three records and one quarantined row; MZ holds a grant on it (the
    number masked, 出生日期 in clear); keys of MZ, RS (no grant) and GA."""

    def build() -> dict[str, Any]:
        keys = sharing.setup(db, tmp_path)
        code = resource_code(db)
        bad = [
            *sharing.PEOPLE_ROWS,
            ("123", "赵隔离", "1", "13600136000", "某地", "110105", "1990-01-01", "01"),
        ]
        sharing.ingest(db, sharing.write_people(tmp_path / "with-bad.csv", bad), sharing.MAPPING)
        grant(client, code, items=["gmsfhm", "xm", "sjhm", "jzdz", "qx", "csrq"])
        return {"code": code, "keys": keys}

    return seeded(db, "security.shared", build)  # built once per session (tests/scenarios.py)


def last_seq(db: Database) -> int:
    with db.transaction(readonly=True) as session:
        return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def denied_since(db: Database, seq: int, actor: str | None = None) -> list[AuditEntry]:
    return [
        e
        for e in entries(db)
        if e.seq > seq and e.outcome == "denied" and (actor is None or e.actor_name == actor)
    ]


def keys_of(db: Database, application: str) -> int:
    with db.transaction(readonly=True) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(ApiKey)
                .join(Application, ApiKey.application_id == Application.id)
                .where(Application.code == application)
            )
            or 0
        )


def ga_batches(db: Database) -> list[int]:
    with db.transaction(readonly=True) as session:
        return list(session.scalars(select(Batch.id).order_by(Batch.id)))


def login_status(client: TestClient, username: str, password: str = factories.PASSWORD) -> int:
    client.cookies.clear()
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return answer.status_code


def indexed(db: Database, number: str) -> list[int]:
    with db.transaction(readonly=True) as session:
        digest = subject_digest(node_config(session).audit_key, number)
        return list(
            session.scalars(select(AccessSubject.audit_seq).where(AccessSubject.subject_digest == digest))
        )


def bomb() -> bytes:
    """A small .xlsx-shaped zip whose one part unpacks to 64 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/sharedStrings.xml", b"\0" * (64 * MB))
    return out.getvalue()


@pytest.fixture
def outsider(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, client=("203.0.113.9", 50000)) as other:
        yield other


def login_answer(client: TestClient, username: str, password: str = factories.PASSWORD) -> tuple[int, Any]:
    client.cookies.clear()
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return answer.status_code, answer.json()


def mapping(source: dict[str, object]) -> str:
    data = yaml.safe_load(sharing.MAPPING)
    data["source"] = source
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
