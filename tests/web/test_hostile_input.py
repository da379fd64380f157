"""Hostile input to every endpoint gets a 4xx problem document, never a 500.

The operations are read from the OpenAPI document, so a new endpoint is probed without editing this file.
Every probe is sent as each caller that may reach the handler, chosen from the route's declared
permission (the platform admin for most routes, the auditor for /audit, the security admin for roles
and unlocking, department roles and the application key where they hold the permission), so the input
gets past the route's check and reaches validation and the service. Every test runs on SQLite and on
PostgreSQL; PostgreSQL is where NUL bytes, invalid Unicode and integer overflow typically become 500s.

A probe is either *refused* (the input is invalid by the operation's schema: it must get a 4xx) or merely
*survived* (the input is odd but may be legitimate, such as an emoji in a name or a filter that matches
nothing: any status below 500 will do). Every 4xx from /api/ must be a problem document. A test sends all
its probes and then fails listing every offending request, so one run shows every hole at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr

from govshare.auth.permissions import APPLICATION_GRANTABLE, ROLE_PERMISSIONS, Role, Scope
from govshare.core import security
from govshare.core.db import Database
from govshare.settings import Settings
from govshare.web import deps
from govshare.web.app import create_app
from govshare.web.problems import PROBLEM_TYPE
from tests import factories

# ---------------------------------------------------------------- the operations, from the OpenAPI document


def _schema_app() -> FastAPI:
    """An app built only to read its OpenAPI document and routes (an in-memory database, never opened)."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url="sqlite://",
        secret_key=SecretStr("schema-only-secret-key-0123456789-abcdef"),
        audit_key=SecretStr("schema-only-audit-key-0123456789-abcdefg"),
    )
    return create_app(settings, Database.from_settings(settings))


_APP = _schema_app()
OPENAPI: dict[str, Any] = _APP.openapi()
COMPONENTS: dict[str, Any] = OPENAPI.get("components", {}).get("schemas", {})


def _route_checks(app: FastAPI) -> dict[tuple[str, str], tuple[str, bool]]:
    """(method, path) → (the route's declared check, whether it resolves the caller via current_actor)."""
    checks: dict[tuple[str, str], tuple[str, bool]] = {}
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        marks: list[str] = []
        resolves_actor = False
        pending = list(route.dependant.dependencies)
        while pending:
            dependency = pending.pop()
            marks.extend(
                [getattr(dependency.call, deps.ROUTE_CHECK_ATTR)]
                if hasattr(dependency.call, deps.ROUTE_CHECK_ATTR)
                else []
            )
            resolves_actor |= dependency.call is deps.current_actor
            pending.extend(dependency.dependencies)
        for method in route.methods:
            checks[(method, route.path)] = (marks[0] if marks else "", resolves_actor)
    return checks


ROUTE_CHECKS = _route_checks(_APP)
_APP.state.db.dispose()


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [_resolve(branch) for branch in schema[key]]
    return [schema]


def _flat(schema: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of an optional schema, with references resolved."""
    branches = [b for b in _branches(schema) if b.get("type") != "null"]
    return branches[0] if len(branches) == 1 else _resolve(schema)


def _nullable(schema: dict[str, Any]) -> bool:
    return any(b.get("type") == "null" for b in _branches(schema))


def _bounded(schema: dict[str, Any]) -> bool:
    """A string schema that a 10 000-character value must violate."""
    return any(key in schema for key in ("maxLength", "pattern", "enum", "format"))


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: tuple[dict[str, Any], ...]
    body: dict[str, Any] | None  # the resolved application/json body schema
    body_required: bool

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return [p["name"] for p in self.parameters if p["in"] == "path"]

    @property
    def query_params(self) -> list[dict[str, Any]]:
        return [p for p in self.parameters if p["in"] == "query"]

    @property
    def check(self) -> str:
        return ROUTE_CHECKS.get((self.method, self.path), ("", False))[0]

    @property
    def resolves_caller(self) -> bool:
        return ROUTE_CHECKS.get((self.method, self.path), ("", False))[1]

    @property
    def needs_caller(self) -> bool:
        return self.check == "authenticated" or self.check.startswith("permission:")


def _operations() -> list[Operation]:
    found = []
    for path, item in OPENAPI["paths"].items():
        for method, spec in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            content = spec.get("requestBody", {}).get("content", {})
            body = _resolve(content["application/json"]["schema"]) if "application/json" in content else None
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    parameters=tuple(spec.get("parameters", [])),
                    body=body,
                    body_required=bool(spec.get("requestBody", {}).get("required")),
                )
            )
    return found


OPERATIONS = _operations()
BODY_OPERATIONS = [op for op in OPERATIONS if op.body is not None]
CALLER_OPERATIONS = [op for op in OPERATIONS if op.resolves_caller]


def test_the_openapi_document_lists_the_operations_probed_here() -> None:
    """Guards the enumeration itself: an empty or unparsed document would make every sweep vacuous."""
    listed = {str(op) for op in OPERATIONS}
    assert {"POST /api/v1/departments", "GET /api/v1/audit/entries", "POST /api/v1/auth/login"} <= listed
    # the standards routes are probed here too (tests/standards/test_hostile_input.py re-ran this module
    # on them before the app included their router, and asserted these 11)
    assert len([op for op in OPERATIONS if op.path.startswith("/api/v1/standards/")]) == 11
    assert BODY_OPERATIONS
    assert any(op.path_params for op in OPERATIONS)
    assert any(op.query_params for op in OPERATIONS)
    assert all(op.check for op in OPERATIONS), "every route declares a check (see web/deps.py)"


# ---------------------------------------------------------------- the node and the callers

APPLICATION = "hostile-app"

# The city's users, one per role; roles the city lacks get a user of their own (see `node`).
CITY_USERS: dict[Role, str] = {
    Role.PLATFORM_ADMIN: "admin",
    Role.SECURITY_ADMIN: "security",
    Role.AUDITOR: "auditor",
    Role.DEPARTMENT_ADMIN: "ga.admin",
    Role.DATA_STEWARD: "ga.steward",
}


def user_for(role: Role) -> str:
    return CITY_USERS.get(role) or f"hostile.{role.value.replace('_', '-')}"


def callers_for(op: Operation) -> tuple[str, ...]:
    """Who may reach the handler of `op`: up to two holders of the route's permission (node-wide
    holders first, then department-scoped ones) and the application key when keys may hold it.
    Thus the platform admin for most routes, the auditor for /audit, the security admin for roles and
    unlocking, and the department roles for the catalog."""
    if op.check == "authenticated":
        return ("admin", "application")
    if not op.check.startswith("permission:"):
        return ("anonymous", "admin")
    wanted = set(op.check.removeprefix("permission:").split("|"))

    def rank(role: Role) -> int:
        scopes = [s for p, s in ROLE_PERMISSIONS.get(role, {}).items() if str(p) in wanted]
        return 0 if Scope.ALL in scopes else 1 if scopes else 2

    holders = sorted((r for r in Role if rank(r) < 2), key=rank)[:2]
    keys = ("application",) if {str(p) for p in APPLICATION_GRANTABLE} & wanted else ()
    return (*(user_for(r) for r in holders), *keys)


# Known-good values for body fields, by field name; with placeholders for the rest (`baseline`) they
# make a valid body for the core operations.
FIELD_VALUES: dict[str, Any] = {
    "code": "hostile-x",
    "name": "敌意输入测试",
    "division_code": "990100",
    "level": "city",
    "parent_code": "DSJ",
    "uscc": "91110000MA01234567",
    "username": "hostile.user",
    "display_name": "敌意用户",
    "department_code": "DSJ",
    "provider": "DSJ",
    "password": "Hostile@Passw0rd-1",
    "roles": ["data_user"],
    "role": "data_steward",
    "scopes": ["department:read"],
    "days": 30,
    "description": "敌意输入测试",
    "reason": "敌意输入测试的理由",
    "rule": "hostile_rule",
}
# A login probe must never log in: it would replace the caller's session.
FIELD_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/auth/login"): {"password": "not-the-password"},
}


def _placeholder(schema: dict[str, Any]) -> Any:
    schema = _flat(schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if kind == "object":
        return {
            name: FIELD_VALUES.get(name, _placeholder(prop))
            for name, prop in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if kind == "array":
        return [_placeholder(schema.get("items", {}))] * schema.get("minItems", 0)
    if kind in ("integer", "number"):
        return max(1, int(schema.get("minimum", 1)))
    return {"boolean": False}.get(kind, "hostile-ok")


def baseline(op: Operation) -> dict[str, Any]:
    """A body for `op`: every field with a known-good value, and placeholders for other required ones."""
    assert op.body is not None
    required = set(op.body.get("required", []))
    values = {**FIELD_VALUES, **FIELD_OVERRIDES.get((op.method, op.path), {})}
    body = {}
    for name, schema in op.body.get("properties", {}).items():
        if name in values:
            body[name] = values[name]
        elif name in required:
            body[name] = _placeholder(schema)
    return body


@dataclass(frozen=True)
class Node:
    application_key: str
    victim_prefix: str  # a key that probes may revoke; the callers' own key is never touched

    def path_value(self, op: Operation, name: str) -> str:
        """An existing resource for a path parameter, so a probe reaches past the lookup."""
        values = {
            "code": APPLICATION if op.path.startswith("/api/v1/applications") else "GA",
            "username": "ga.steward",
            "role": "data_steward",
            "prefix": self.victim_prefix,
        }
        if name in values:
            return values[name]
        schema = next(_flat(p["schema"]) for p in op.parameters if p["name"] == name)
        return str(_placeholder(schema)) if schema.get("type") == "integer" else "x1"

    def path(self, op: Operation, **raw: str) -> str:
        """The operation's path with existing resources, except `raw` (already percent-encoded) values."""
        path = op.path
        for name in op.path_params:
            path = path.replace("{" + name + "}", raw.get(name, quote(self.path_value(op, name), safe="")))
        return path

    def url(self, op: Operation, query: dict[str, str] | None = None, **raw: str) -> str:
        """`path` with the operation's required query parameters, and `query` (percent-encoded) added."""
        params = {
            p["name"]: quote(str(_placeholder(p["schema"])).lower(), safe="")
            for p in op.query_params
            if p.get("required")
        }
        params.update(query or {})
        return self.path(op, **raw) + (
            "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
        )


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at production cost takes ~0.15 s a hash, and these sweeps log in and try passwords
    hundreds of times; what they test is input handling, not the hash. Same algorithm, minimal cost."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    monkeypatch.setattr(security, "_DUMMY_HASH", cheap.hash("govshare-dummy-password"))


@pytest.fixture
def node(db: Database) -> Node:
    factories.city(db)
    for role in Role:
        if role not in CITY_USERS:
            factories.user(db, user_for(role), "GA", role)
    key = factories.application_key(db, APPLICATION, "DSJ")
    victim = factories.application_key(db, APPLICATION, "DSJ")
    return Node(application_key=key, victim_prefix=victim.split("_")[1])


def authenticate(client: TestClient, node: Node, caller: str) -> dict[str, str]:
    client.cookies.clear()
    if caller == "anonymous":
        return {}
    if caller == "application":
        return factories.bearer(node.application_key)
    return factories.login(client, caller)


# ---------------------------------------------------------------- probes and their verdicts


@dataclass(frozen=True)
class Probe:
    label: str
    method: str
    url: str
    refuse: bool  # True: must be a 4xx; False: must merely not be a 5xx
    content: bytes | None = None
    content_type: str | None = None
    headers: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Any] | None = None

    @classmethod
    def json(cls, label: str, op: Operation, url: str, value: Any, *, refuse: bool = True) -> Probe:
        return cls(label, op.method, url, refuse, json.dumps(value).encode(), "application/json")

    @classmethod
    def raw(cls, label: str, op: Operation, url: str, text: str | bytes, *, refuse: bool = True) -> Probe:
        content = text.encode() if isinstance(text, str) else text
        return cls(label, op.method, url, refuse, content, "application/json")


def problem_defect(response: Response) -> str | None:
    """What makes `response` not a problem document (None when it is one)."""
    if response.headers.get("content-type", "").split(";")[0].strip() != PROBLEM_TYPE:
        return f"content-type is {response.headers.get('content-type')!r}, not {PROBLEM_TYPE}"
    try:
        body = response.json()
    except ValueError:
        return "body is not JSON"
    if not isinstance(body, dict):
        return "body is not a JSON object"
    if not isinstance(body.get("code"), str) or not body["code"]:
        return "no `code`"
    if body.get("status") != response.status_code:
        return f"`status` is {body.get('status')!r}, the response is {response.status_code}"
    if not isinstance(body.get("detail"), str) or not body["detail"]:
        return "no `detail`"
    if not body.get("request_id") or body["request_id"] != response.headers.get("x-request-id"):
        return f"`request_id` {body.get('request_id')!r} is not the X-Request-ID header"
    return None


def verdict(probe: Probe, response: Response) -> str | None:
    status = response.status_code
    if status >= 500:
        return "server error"
    if probe.refuse and not 400 <= status < 500:
        return "expected a 4xx refusal"
    if 400 <= status < 500 and probe.url.startswith("/api/"):
        return problem_defect(response)
    return None


def send(client: TestClient, probe: Probe, headers: dict[str, str]) -> Response:
    sent: dict[str, Any] = {**headers, **probe.headers}
    if probe.content_type:
        sent["Content-Type"] = probe.content_type
    return client.request(
        probe.method,
        probe.url,
        content=probe.content,
        files=probe.files,
        headers=sent,
        follow_redirects=False,
    )


def run(client: TestClient, node: Node, op: Operation, probes: list[Probe]) -> list[str]:
    """Send every probe as every caller of `op`; the offending requests, described."""
    assert probes, "no probes: the sweep would prove nothing"
    offences = []
    for caller in callers_for(op):
        headers = authenticate(client, node, caller)
        for probe in probes:
            response = send(client, probe, headers)
            defect = verdict(probe, response)
            if defect:
                offences.append(
                    f"[{caller}] {probe.method} {probe.url[:100]} ({probe.label}) → {response.status_code}: "
                    f"{defect}; {response.text[:160]!r}"
                )
            if "set-cookie" in response.headers:  # the probe logged in or out: restore the caller
                headers = authenticate(client, node, caller)
    return offences


def report(offences: list[str]) -> str:
    return f"{len(offences)} offending request(s):\n" + "\n".join(offences[:60])


# ---------------------------------------------------------------- hostile values

LONG = "a" * 10_000
NUL = "\x00"
CONTROL = "\x01\x07\x08\x1b[2J\x7f"
SQL = "' OR 1=1 --"
# Odd but legitimate Unicode: emoji (with joiners), an RTL override, a zero-width space, a BOM, a
# combining accent and a supplementary-plane ideograph.
ODD_UNICODE = "😀👨\u200d👩\u200d👧\u202eevil\u202c\u200b\ufeffe\u0301𠀀"
HUGE = 2**70


def shape_probes(op: Operation, url: str) -> list[Probe]:
    """Bodies that are not the object the operation takes."""
    base = baseline(op)
    required = bool(op.body and op.body.get("required"))
    return [
        Probe.raw("truncated JSON", op, url, json.dumps(base)[:-3]),
        Probe.raw("trailing garbage", op, url, json.dumps(base) + "}}"),
        Probe.raw("not JSON at all", op, url, "code=hostile&name=x"),
        Probe.raw("empty body", op, url, b"", refuse=op.body_required),
        Probe.raw("invalid UTF-8 bytes", op, url, b'{"name": "\xed\xa0\x80\xff\xfe"}'),
        Probe.raw("NaN literal", op, url, "NaN"),
        Probe.raw("deeply nested arrays", op, url, "[" * 100_000 + "]" * 100_000),
        Probe.json("JSON array", op, url, [base]),
        Probe.json("JSON string", op, url, "hostile"),
        Probe.json("JSON huge number", op, url, HUGE),
        Probe.json("JSON null", op, url, None, refuse=op.body_required),
        Probe.json("empty object", op, url, {}, refuse=required),
        Probe.json("unknown field", op, url, {**base, "__proto__": {"is_admin": True}}, refuse=False),
    ]


def field_probes(op: Operation, url: str) -> Iterator[Probe]:
    """For each field of the body: missing, null, wrong types, over-long, NUL, control characters,
    Unicode oddities, lone surrogates, huge and negative numbers; the rest of the body unchanged."""
    assert op.body is not None
    base = baseline(op)
    required = set(op.body.get("required", []))

    for name, declared in op.body.get("properties", {}).items():
        schema = _flat(declared)
        kind = schema.get("type", "object" if "properties" in schema else "string")
        good = base[name] if isinstance(base.get(name), str) else "x"

        def probe(label: str, value: Any, *, refuse: bool = True, name: str = name) -> Probe:
            return Probe.json(f"field {name}: {label}", op, url, {**base, name: value}, refuse=refuse)

        def raw(label: str, literal: str, *, name: str = name) -> Probe:
            text = json.dumps({**base, name: "\x00HOLE\x00"}).replace('"\\u0000HOLE\\u0000"', literal)
            return Probe.raw(f"field {name}: {label}", op, url, text)

        if name in required:
            yield Probe.json(f"field {name}: missing", op, url, {k: v for k, v in base.items() if k != name})
        if not _nullable(declared):
            yield probe("null", None)
        if kind == "string" or "enum" in schema:
            strict = "pattern" in schema or "enum" in schema
            yield probe("object", {"$gt": ""})
            yield probe("number", 12345)
            yield probe("10 000 characters", LONG, refuse=_bounded(schema))
            yield probe("NUL", good + NUL)
            yield probe("control characters", good + CONTROL)
            yield probe("SQL", SQL, refuse=strict)
            yield probe("Unicode oddities", good + ODD_UNICODE, refuse="enum" in schema)
            yield raw("lone surrogate", json.dumps(good)[:-1] + '\\ud800"')
        elif kind == "integer":
            yield probe("word", "twelve")
            yield probe("fraction", 1.5)
            yield probe("2**70", HUGE, refuse="maximum" in schema)
            yield probe("-2**70", -HUGE, refuse="minimum" in schema)
            yield probe("negative", -1, refuse=schema.get("minimum", -1) >= 0)
            yield raw("NaN", "NaN")
        elif kind == "boolean":
            yield probe("word", "maybe")
            yield probe("object", {"$gt": ""})
        elif kind == "array":
            items = _flat(schema.get("items", {}))
            item = base[name][0] if base.get(name) else _placeholder(items)
            yield probe("string", "x")
            yield probe("object", {"$gt": ""})
            yield probe("nested arrays", [[item]])
            yield probe("10 000 items", [item] * 10_000, refuse="maxItems" in schema)
            if items.get("type") == "string" or "enum" in items:
                yield probe("number item", [12345])
                yield probe("NUL item", [f"{item}{NUL}"])
                yield raw("lone surrogate item", '["\\ud800"]')
        elif kind == "object":
            yield probe("string", "x")
            yield probe("array", [_placeholder(schema)])
            yield probe("NUL keys and values", {NUL: NUL, "x": CONTROL})


PATH_SEGMENTS: dict[str, str] = {
    "../../etc/passwd": "../../etc/passwd",
    "encoded ../../etc/passwd": "..%2F..%2Fetc%2Fpasswd",
    "NUL (%00)": "%00",
    "literal %00": "%2500",
    "NUL after a real name": "ga.steward%00",
    "control characters": "%01%07%1B%7F",
    "5000 characters": "a" * 5000,
    "SQL": quote(SQL, safe=""),
    "emoji and RTL override": quote("😀\u202e", safe=""),
    "lone surrogate bytes": "%ED%A0%80",
    "invalid UTF-8": "%FF%FE",
    "2**70": str(HUGE),
    "negative": "-1",
}


def _query_values(schema: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(label, percent-encoded value, must be refused) for one query parameter."""
    if schema.get("type") == "array":
        items = _flat(schema.get("items", {}))
        return [(f"item {label}", value, refuse) for label, value, refuse in _query_values(items)]
    kind = schema.get("type", "string")
    integer = kind == "integer"
    typed = integer or kind == "boolean" or "enum" in schema  # any text that is not a value is refused
    values = [
        ("NUL", "%00", typed),
        ("control characters", "%01%1B%7F", typed),
        ("10 000 characters", LONG, typed or _bounded(schema)),
        ("SQL", quote(SQL, safe=""), typed),
        ("Unicode oddities", quote(ODD_UNICODE, safe=""), typed),
        ("lone surrogate bytes", "%ED%A0%80", typed),
        ("2**70", str(HUGE), typed and not (integer and "maximum" not in schema)),
        ("-2**70", str(-HUGE), typed and not (integer and "minimum" not in schema)),
        ("negative", "-1", typed and not (integer and schema.get("minimum", -1) < 0)),
        ("empty", "", typed),
    ]
    if integer:
        values += [("word", "twelve", True), ("fraction", "1.5", True), ("exponent", "1e3", True)]
    if kind == "boolean":
        values += [("word", "maybe", True)]
    if schema.get("format") == "date-time":
        values += [
            ("not a date", "yesterday", True),
            ("impossible date", "2026-13-45T25:61:00", True),
            ("year 1, Beijing time", "0001-01-01T00:00:00", False),
            ("year 9999 west of UTC", quote("9999-12-31T23:59:59-12:00", safe=""), False),
            ("year 10000", "10000-01-01T00:00:00", True),
        ]
    return values


# ---------------------------------------------------------------- the probes of one operation


def body_probes(op: Operation, node: Node) -> list[Probe]:
    if op.body is None:
        return []
    url = node.url(op)
    return [replace(p, label=f"body: {p.label}") for p in shape_probes(op, url)] + list(field_probes(op, url))


def path_probes(op: Operation, node: Node) -> list[Probe]:
    body = json.dumps(baseline(op)).encode() if op.body is not None else None
    return [
        Probe(
            f"path {name}: {label}",
            op.method,
            node.url(op, **{name: segment}),
            refuse=True,
            content=body,
            content_type="application/json" if body is not None else None,
        )
        for name in op.path_params
        for label, segment in PATH_SEGMENTS.items()
    ]


def query_probes(op: Operation, node: Node) -> list[Probe]:
    if not op.query_params:
        return []
    body = json.dumps(baseline(op)).encode() if op.body is not None else None
    content_type = "application/json" if body is not None else None
    probes = [
        Probe(
            f"query {param['name']}: {label}",
            op.method,
            node.url(op, {param["name"]: value}),
            refuse,
            body,
            content_type,
        )
        for param in op.query_params
        for label, value, refuse in _query_values(_flat(param["schema"]))
    ]
    twice = "&".join(f"{p['name']}=1&{p['name']}=2" for p in op.query_params)
    probes.append(
        Probe(
            "query: every parameter twice", op.method, f"{node.path(op)}?{twice}", False, body, content_type
        )
    )
    return probes


def transport_probes(op: Operation, node: Node) -> list[Probe]:
    """Wrong content types, unknown paths, a wrong method, junk query strings and headers."""
    url, path = node.url(op), node.path(op)
    takes_json = op.body is not None
    fields = baseline(op) if takes_json else {"x": 1}
    payload = json.dumps(fields).encode()
    form = "&".join(f"{k}={quote(str(v))}" for k, v in fields.items()).encode()
    other_method = next(
        m for m in ("PATCH", "PUT", "DELETE", "POST", "GET") if (m, op.path) not in ROUTE_CHECKS
    )
    junk = f"%00=%00&{quote(LONG)}=1&a[b]=c"
    return [
        Probe("text/plain body", op.method, url, takes_json, payload, "text/plain"),
        Probe("form-urlencoded body", op.method, url, takes_json, form, "application/x-www-form-urlencoded"),
        Probe(
            "multipart body", op.method, url, takes_json, files={"f": ("x.json", payload, "application/json")}
        ),
        Probe("XML body", op.method, url, takes_json, b"<?xml version='1.0'?><x/>", "application/xml"),
        Probe("JSON as UTF-16", op.method, url, False, payload.decode().encode("utf-16"), "application/json"),
        Probe("unknown path below", op.method, f"{path}/no-such-thing", True),
        Probe("unknown path beside", op.method, f"{path.rsplit('/', 1)[0]}/no-such-thing%00", True),
        Probe(f"wrong method {other_method}", other_method, url, True),
        Probe("junk query string", op.method, f"{url}{'&' if '?' in url else '?'}{junk}", op.body_required),
        Probe(
            "hostile X-Request-ID and X-Purpose",
            op.method,
            url,
            False,
            payload if takes_json else None,
            "application/json" if takes_json else None,
            headers={"X-Request-ID": "../" + LONG, "X-Purpose": b"\xff\xfe" + SQL.encode() + b"x" * 10_000},
        ),
    ]


def reachability(client: TestClient, node: Node, op: Operation) -> list[str]:
    """The sweep proves something only if its callers get past the route's check: an offence when none
    does (e.g. a new route that only a new role may call: give that role a user in `node`)."""
    body = json.dumps(baseline(op)).encode() if op.body is not None else None
    probe = Probe("valid", op.method, node.url(op), False, body, "application/json" if body else None)
    outcomes = {}
    for caller in callers_for(op):
        response = send(client, probe, authenticate(client, node, caller))
        outcomes[caller] = (response.status_code, response.json().get("code") if response.is_error else None)
    refusals = {"authentication_required", "permission_denied", "csrf_failed"}
    if any(status < 500 and code not in refusals for status, code in outcomes.values()):
        return []
    return [f"no caller reaches the handler with valid input: {outcomes}"]


# ---------------------------------------------------------------- the sweeps


@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_hostile_input_gets_a_4xx_problem_never_a_500(client: TestClient, node: Node, op: Operation) -> None:
    """Bodies of the wrong shape, hostile body fields, path and query parameters, content types,
    methods, paths and headers: each refused with a problem document (or, if odd but legitimate,
    at least not a 500), for every caller that may reach the handler."""
    probes = (
        body_probes(op, node) + path_probes(op, node) + query_probes(op, node) + transport_probes(op, node)
    )
    offences = reachability(client, node, op) + run(client, node, op, probes)
    assert not offences, report(offences)


def test_every_kind_of_probe_is_generated() -> None:
    """Guards the generators: a schema change that silently empties a kind of probe fails here."""
    node = Node(application_key="", victim_prefix="x")
    labels = {
        p.label
        for op in OPERATIONS
        for p in body_probes(op, node) + path_probes(op, node) + query_probes(op, node)
    }
    for kind in ("code: NUL", "name: lone surrogate", "days: 2**70", "roles: NUL item", "username: missing"):
        assert f"field {kind}" in labels
    assert "body: truncated JSON" in labels
    assert "path username: NUL (%00)" in labels
    assert "query limit: 2**70" in labels
    assert "query before: -2**70" in labels
    assert "query since: year 1, Beijing time" in labels


@pytest.mark.parametrize(
    ("url", "codes"),
    [
        ("/api/v1/no-such-endpoint", {"not_found"}),
        ("/api/v2/me", {"not_found"}),
        ("/api/v1/departments/GA/no/such/thing", {"not_found"}),
        ("/api/v1/" + "a" * 10_000, {"not_found"}),
        ("/api/%00", {"not_found", "bad_request"}),
        ("/api/v1/%ED%A0%80", {"not_found", "bad_request"}),
    ],
    ids=lambda value: value[:40] if isinstance(value, str) else None,
)
def test_unknown_api_paths_get_a_problem(client: TestClient, node: Node, url: str, codes: set[str]) -> None:
    response = client.get(url, headers=authenticate(client, node, "admin"))
    assert response.status_code in (400, 404)
    assert problem_defect(response) is None, problem_defect(response)
    assert response.json()["code"] in codes


def test_wrong_method_gets_a_405_problem(client: TestClient, node: Node) -> None:
    response = client.put("/api/v1/departments", headers=authenticate(client, node, "admin"), json={})
    assert response.status_code == 405
    assert problem_defect(response) is None, problem_defect(response)
    assert response.json()["code"] == "method_not_allowed"


# ---------------------------------------------------------------- callers without valid credentials

GARBAGE_AUTHORIZATION: dict[str, str | bytes] = {
    "empty": "",
    "bare Bearer": "Bearer",
    "Bearer and spaces": "Bearer    ",
    "Basic": "Basic xxx",
    "Basic with credentials": "Basic YWRtaW46VGVzdEBQYXNzdzByZC0yMDI2",
    "no scheme": "gs_abcdefghij_" + "k" * 43,
    "malformed key": "Bearer gs_x_y",
    "unknown well-formed key": "Bearer gs_abcdefghij_" + "k" * 43,
    "10 KB token": "Bearer " + "t" * 10_240,
    "10 KB key with a real-looking prefix": "Bearer gs_abcdefghij_" + "k" * 10_240,
    "SQL": "Bearer gs_' OR 1=1_--",
    "Latin-1 bytes": b"Bearer gs_\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6_x",
    "session token as bearer": "Bearer " + "s" * 43,
}
GARBAGE_SESSIONS: dict[str, str | None] = {
    "no credentials": None,
    "garbage session cookie": "' OR 1=1 --",
    "4 KB session cookie": "s" * 4000,
    "pre-session nonce as session": "",  # filled in by the test
}


def _unauthorised(response: Response, code: str | None = None) -> str | None:
    defect = problem_defect(response)
    if response.status_code != 401 or defect:
        return f"{response.status_code} {defect} {response.text[:160]!r}"
    if response.headers.get("www-authenticate") != "Bearer":
        return f"WWW-Authenticate is {response.headers.get('www-authenticate')!r}"
    if code and response.json()["code"] != code:
        return f"code {response.json()['code']!r}"
    return None


@pytest.mark.parametrize("op", CALLER_OPERATIONS, ids=str)
def test_callers_without_valid_credentials_get_a_401_problem(
    client: TestClient, node: Node, op: Operation
) -> None:
    """Garbage Authorization headers are refused on every route that looks at the caller (even the
    public login); no or garbage session cookies are refused on every route that needs a caller."""
    url = node.url(op)
    offences = []
    for label, value in GARBAGE_AUTHORIZATION.items():
        client.cookies.clear()
        defect = _unauthorised(client.request(op.method, url, headers={"Authorization": value}))
        offences += [f"Authorization {label}: {defect}"] if defect else []
    if op.needs_caller:
        for label, cookie in GARBAGE_SESSIONS.items():
            client.cookies.clear()
            if cookie == "":
                client.get("/login")
                cookie = client.cookies.get(deps.PRE_SESSION_COOKIE)
            if cookie is not None:
                client.cookies.set(deps.SESSION_COOKIE, cookie)
            defect = _unauthorised(client.request(op.method, url), "authentication_required")
            offences += [f"{label}: {defect}"] if defect else []
    assert not offences, report(offences)


# ---------------------------------------------------------------- the portal's forms (not in OpenAPI)


def _portal_csrf(client: TestClient) -> str:
    client.cookies.clear()
    page = client.get("/login").text
    marker = 'name="csrf_token" value="'
    return page.split(marker, 1)[1].split('"', 1)[0]


PORTAL_FIELDS: dict[str, str] = {
    "NUL": NUL,
    "NUL after a real name": "admin" + NUL,
    "control characters": CONTROL,
    "over-long": LONG,
    "SQL": SQL,
    "emoji and RTL override": "😀\u202e",
    "markup": "<script>alert(1)</script>",
}


@pytest.mark.parametrize("form_field", ["username", "password", "csrf_token"])
def test_hostile_portal_login_forms_are_refused(client: TestClient, node: Node, form_field: str) -> None:
    offences = []
    for label, value in [*PORTAL_FIELDS.items(), ("lone surrogate bytes", None)]:
        token = _portal_csrf(client)
        fields = {"username": "hostile.user", "password": "not-the-password", "csrf_token": token}
        if value is None:
            form = "&".join(f"{k}={quote(v)}" for k, v in fields.items() if k != form_field)
            content = f"{form}&{form_field}=%ED%A0%80".encode()
        else:
            content = "&".join(f"{k}={quote(v)}" for k, v in {**fields, form_field: value}.items()).encode()
        response = client.post(
            "/login",
            content=content,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        if not 400 <= response.status_code < 500 or deps.SESSION_COOKIE in response.cookies:
            offences.append(f"{form_field} {label}: {response.status_code} {response.text[:160]!r}")
    assert not offences, report(offences)


def test_hostile_portal_bodies_are_refused(client: TestClient, node: Node) -> None:
    offences = []
    for url in ("/login", "/logout"):
        token = _portal_csrf(client)
        for label, kwargs in {
            "JSON": {"json": {"username": "admin", "password": factories.PASSWORD, "csrf_token": token}},
            "malformed form": {
                "content": b"%%%&&&==\x00\xff",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            "multipart with a file": {"files": {"csrf_token": ("t.txt", LONG.encode(), "text/plain")}},
            "text/plain": {
                "content": f"csrf_token={token}".encode(),
                "headers": {"Content-Type": "text/plain"},
            },
            "hostile token only": {"data": {"csrf_token": NUL + LONG[:100]}},
        }.items():
            response = client.post(url, follow_redirects=False, **kwargs)
            if not 400 <= response.status_code < 500:
                offences.append(f"{url} {label}: {response.status_code} {response.text[:160]!r}")
    assert not offences, report(offences)
