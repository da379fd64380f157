"""Schemathesis against the OpenAPI document of the sharing and data routes: no input gets a 5xx.

The app under test is the `app` fixture with the sharing city of `tests.sharing.helpers` and a live grant,
so generated requests get past authentication and the grant check and reach validation, the services and
the database (SQLite and PostgreSQL). Each operation is called as the identity its permission names: the
grantee's application key (with X-Purpose / X-Operator) for the data API, a logged-in web session with its
CSRF token for the workflow (the consumer's department admin, the provider's for decisions, the 主管部门's
reviewer for 符合性审查 and 协调, the auditor for "who looked at me").

Every operation gets schema-conforming (positive) and schema-violating (negative) cases, once with
generated path parameters and once with the path pointing at things that exist (the resource, a request,
the grant, a person), so the bodies and query strings reach the handlers. Generation is derandomized (the
same cases every run) and bounded by `EXAMPLES`; every 5xx is collected, with a curl line to reproduce it,
and the test fails listing all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python.asgi import ASGIClient

from govshare.core import security
from govshare.core.db import Database
from govshare.sharing import access
from govshare.sharing.ratelimit import TokenBucket
from govshare.standards.validators import uscc_check_char
from govshare.web.deps import ROUTE_CHECK_ATTR
from tests import factories
from tests.sharing.helpers import PURPOSE, ZHANG, application_body, resource_code, setup

ROUTES = re.compile(r"^/api/v1/(sharing|data|verify|person|org|audit/subjects)(/|$)")
# Cases per operation, mode and path choice: SQLite gets more, PostgreSQL (slower per request) fewer.
EXAMPLES = {"sqlite": 20, "postgresql": 10}
# Who calls an operation, by the permission its route requires.
CALLER_BY_PERMISSION = {
    "data:read": "application",
    "sharing:supervise": "reviewer",
    "sharing:approve": "ga.admin",
    "audit:trace": "auditor",
}
DEFAULT_CALLER = "mz.admin"  # applying, reading, subscribing, revoking (as consumer), statistics
USCC = "91110000MA0123456" + uscc_check_char("91110000MA0123456")  # valid; no record holds it


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    monkeypatch.setattr(security, "_DUMMY_HASH", cheap.hash("govshare-dummy-password"))


@pytest.fixture(autouse=True)
def fresh_access_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resource metadata is cached per process by ids that repeat from one test database to the next."""
    monkeypatch.setattr(access, "_CACHE", {})
    monkeypatch.setattr(access, "_TABLES", {})


def route_permissions(app: FastAPI) -> dict[tuple[str, str], str]:
    """(method, path) → the permission the route's declared check names (the first, if several)."""
    found = {}
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        pending, check = list(route.dependant.dependencies), ""
        while pending and not check:
            dependency = pending.pop()
            check = getattr(dependency.call, ROUTE_CHECK_ATTR, "")
            pending.extend(dependency.dependencies)
        for method in route.methods:
            found[(method, route.path)] = check.removeprefix("permission:").split("|")[0]
    return found


@dataclass
class Identity:
    client: ASGIClient  # in-process, never entered: no lifespan is registered for the test's app
    headers: dict[str, str]


@dataclass
class Node:
    identities: dict[str, Identity]
    existing: dict[str, str]  # path parameter → a value that names something that exists

    def path_for(self, path: str) -> dict[str, str]:
        names = re.findall(r"{(\w+)}", path)
        values = {**self.existing}  # `number` is the request number under /sharing
        if path.startswith(("/api/v1/person/", "/api/v1/audit/subjects/")):
            values["number"] = ZHANG
        elif path.startswith("/api/v1/org/"):
            values["number"] = USCC
        return {name: values[name] for name in names if name in values}


@pytest.fixture
def node(app: FastAPI, db: Database, tmp_path: Path) -> Iterator[Node]:
    keys = setup(db, tmp_path)
    code = resource_code(db)
    app.state.data_rate = TokenBucket(1_000_000)  # the per-second limit would only turn cases into 429s
    identities: dict[str, Identity] = {}
    for user in {*CALLER_BY_PERMISSION.values(), DEFAULT_CALLER} - {"application"}:
        client = ASGIClient(app)
        answer = client.post("/api/v1/auth/login", json={"username": user, "password": factories.PASSWORD})
        assert answer.status_code == 200, answer.text
        identities[user] = Identity(client, {"X-CSRF-Token": answer.json()["csrf_token"]})
    identities["application"] = Identity(ASGIClient(app), {**factories.bearer(keys["mz"]), **PURPOSE})

    # A live grant with room for every generated call, and a second application left pending (the
    # request the workflow operations are pointed at: it can still be decided, withdrawn, disputed...).
    consumer, provider = identities["mz.admin"], identities["ga.admin"]
    body = application_body(code, requests_per_day=10_000_000, rows_per_day=1_000_000_000)

    def file() -> str:
        filed = consumer.client.post("/api/v1/sharing/requests", json=body, headers=consumer.headers)
        assert filed.status_code == 201, filed.text
        return str(filed.json()["number"])

    approved = file()
    decided = provider.client.post(
        f"/api/v1/sharing/requests/{approved}/decision",
        json={"decision": "approve"},
        headers=provider.headers,
    )
    assert decided.status_code == 200, decided.text
    grant = str(decided.json()["grant_id"])
    existing = {"resource": code, "key": ZHANG, "number": file(), "grant_id": grant}
    yield Node(identities, existing)
    for identity in identities.values():
        identity.client.close()


def run(strategy: Any, examples: int, send: Callable[[Any], None]) -> None:
    """`send` every case `strategy` generates, up to `examples`, the same cases every run (no shrinking:
    `send` records failures instead of raising)."""

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def each(case: Any) -> None:
        send(case)

    each()


def fuzz(node: Node, app: FastAPI, examples: int, *, data_api: bool) -> tuple[int, list[str]]:
    """Run the generated cases of the selected operations; (cases sent, the 5xx responses described)."""
    schema = schemathesis.openapi.from_dict(app.openapi()).include(path_regex=ROUTES.pattern)
    schema.app = app
    permissions = route_permissions(app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 27, [f"{op.method} {op.path}" for op in operations]
    sent: list[str] = []
    failures: list[str] = []
    for operation in operations:
        permission = permissions[(operation.method.upper(), operation.path)]
        caller = CALLER_BY_PERMISSION.get(permission, DEFAULT_CALLER)
        if (caller == "application") != data_api:
            continue
        identity = node.identities[caller]

        def send(case: Any, identity: Identity = identity, caller: str = caller) -> None:
            sent.append(case.operation.label)
            try:
                status = str(case.call(session=identity.client, headers=identity.headers).status_code)
            except Exception as error:  # the in-process client re-raises what the app's 500 answered
                status = f"500 ({type(error).__name__}: {str(error).splitlines()[0][:160]})"
            if status.startswith("5"):
                curl = case.as_curl_command(headers=identity.headers)
                failures.append(f"{status} [{caller}] {curl[:400]}")

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path in ({}, node.path_for(operation.path)):
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=path or None)
                try:
                    run(strategy, examples, send)
                except Unsatisfiable:
                    # Nothing left to violate (no parameters or body, or all of them fixed): negative only.
                    assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no positive case"
    return len(sent), failures


@pytest.mark.parametrize("data_api", [True, False], ids=["data API", "sharing workflow"])
def test_generated_requests_never_get_a_server_error(
    node: Node, app: FastAPI, db: Database, data_api: bool
) -> None:
    sent, failures = fuzz(node, app, EXAMPLES[db.backend], data_api=data_api)
    assert sent > 100, f"only {sent} cases were sent"
    assert not failures, f"{len(failures)} of {sent} generated requests got a 5xx:\n" + "\n".join(
        dict.fromkeys(failures)
    )
