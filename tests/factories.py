"""Plain factory functions that build test data through the services, as the system operator."""

from __future__ import annotations

import io
from dataclasses import dataclass

from fastapi.testclient import TestClient
from openpyxl import Workbook

from govshare.applications import service as applications
from govshare.applications.repository import ApplicationRepository
from govshare.applications.schemas import ApplicationCreate
from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Role
from govshare.core.db import Database
from govshare.identity import service as identity
from govshare.identity.schemas import DepartmentCreate, UserCreate

PASSWORD = "Test@Passw0rd-2026"
SYSTEM = Actor.system("test:factory")


def department(db: Database, code: str, name: str | None = None, *, parent: str | None = None) -> None:
    with db.transaction() as session:
        identity.create_department(
            session,
            SYSTEM,
            DepartmentCreate(
                code=code,
                name=name or f"测试{code}部门",
                division_code="990100",
                level="city",
                parent_code=parent,
            ),
        )


def user(db: Database, username: str, department_code: str, *roles: Role) -> None:
    with db.transaction() as session:
        identity.create_user(
            session,
            SYSTEM,
            UserCreate(
                username=username,
                display_name=f"用户{username}",
                department_code=department_code,
                password=PASSWORD,
                roles=list(roles),
            ),
            seeded=True,  # the documented test password: not forced to change at first login
        )


def application_key(
    db: Database,
    code: str,
    department_code: str,
    *,
    scopes: list[Permission] | None = None,
    days: int | None = None,
) -> str:
    with db.transaction() as session:
        if ApplicationRepository(session).by_code(code) is None:
            applications.create_application(
                session,
                SYSTEM,
                ApplicationCreate(code=code, name=f"应用{code}", department_code=department_code),
            )
        return applications.issue_key(session, SYSTEM, code, scopes=scopes, days=days).secret


@dataclass(frozen=True)
class City:
    """A small city: the bureau (DSJ) with its officers, and two departments with their staff."""

    db: Database


def city(db: Database) -> City:
    department(db, "DSJ", "测试市大数据局")
    department(db, "GA", "测试市公安局", parent="DSJ")
    department(db, "MZ", "测试市民政局", parent="DSJ")
    user(db, "admin", "DSJ", Role.PLATFORM_ADMIN)
    user(db, "security", "DSJ", Role.SECURITY_ADMIN)
    user(db, "auditor", "DSJ", Role.AUDITOR)
    user(db, "ga.admin", "GA", Role.DEPARTMENT_ADMIN)
    user(db, "ga.steward", "GA", Role.DATA_STEWARD)
    user(db, "mz.admin", "MZ", Role.DEPARTMENT_ADMIN)
    return City(db)


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in through the API; returns the headers a cookie-session caller sends on unsafe requests."""
    client.cookies.clear()
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    """A real .xlsx workbook (openpyxl) with one sheet holding `rows`."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
