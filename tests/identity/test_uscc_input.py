"""A department's 统一社会信用代码 is read the same way wherever it is typed: the request models normalise it
(full-width characters, lower case, spaces and hyphens) before the pattern checks it, so the API accepts
what the portal's form always accepted, and both store the code's own spelling. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from govshare.core.db import Database
from govshare.identity.schemas import DepartmentCreate, DepartmentUpdate
from tests import factories
from tests.web.portal_helpers import page, portal_login, post

USCC = "91330100MA2CD5R6X0"
AS_TYPED = (
    "91330100ma2cd5r6x0",  # lower case
    " 9133 0100-MA2C D5R6 X0 ",  # spaces and a hyphen
    "９１３３０１００ＭＡ２ＣＤ５Ｒ６Ｘ０",  # full-width, as a Chinese input method types it
    "９１３３０１００ｍａ２ｃｄ５ｒ６ｘ０",  # full-width lower case
)
NEW = {"code": "WJ", "name": "测试市卫生健康委员会", "division_code": "990100", "level": "city"}


@pytest.mark.parametrize("typed", AS_TYPED)
def test_the_request_models_normalise_a_typed_code(typed: str) -> None:
    assert DepartmentCreate.model_validate({**NEW, "uscc": typed}).uscc == USCC
    assert DepartmentUpdate.model_validate({"uscc": typed}).changes() == {"uscc": USCC}


@pytest.mark.parametrize(
    "wrong", ["", "   ", "91330100MA2CD5R6XO", "91330100MA2CD5R6X", "9133O1OOMA2CD5R6X0"]
)
def test_what_is_not_a_code_is_still_refused(wrong: str) -> None:
    with pytest.raises(ValidationError) as refused:
        DepartmentCreate.model_validate({**NEW, "uscc": wrong})
    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [(("uscc",), "string_pattern_mismatch")]
    assert DepartmentUpdate.model_validate({"uscc": None}).changes() == {"uscc": None}  # null clears


def test_the_api_accepts_what_people_type(client: TestClient, db: Database) -> None:
    factories.city(db)
    headers = factories.login(client, "admin")
    created = client.post("/api/v1/departments", json={**NEW, "uscc": AS_TYPED[2]}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["uscc"] == USCC
    for typed in AS_TYPED:
        changed = client.patch("/api/v1/departments/WJ", json={"uscc": typed}, headers=headers)
        assert (changed.status_code, changed.json()["uscc"]) == (200, USCC), typed
    refused = client.patch("/api/v1/departments/WJ", json={"uscc": "91330100MA2CD5R6XO"}, headers=headers)
    assert refused.status_code == 422


def test_the_portal_form_and_the_api_store_the_same_code(client: TestClient, db: Database) -> None:
    factories.city(db)
    portal_login(client, "admin")
    form = page(client, "/admin/departments")
    done = post(client, "/admin/departments", form, **{**NEW, "uscc": AS_TYPED[3]})
    assert done.status_code == 303, done.text
    found: dict[str, Any] = client.get("/api/v1/departments/WJ").json()
    assert found["uscc"] == USCC
    edit = page(client, "/admin/departments/WJ")
    changed = post(client, "/admin/departments/WJ", edit, **{**NEW, "uscc": " 9133 0100-MA2C D5R6 X0 "})
    assert changed.status_code == 303, changed.text
    assert client.get("/api/v1/departments/WJ").json()["uscc"] == USCC
