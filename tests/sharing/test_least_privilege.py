"""Proof of least privilege: a matrix over callers, grant states and share types shows that no item, row
or resource leaks outside a grant; that revoked, expired and not-yet-valid grants stop on the very next
request; that hostile input to the data API (injection in filters and keys, huge pages, forged cursors,
path tricks, wrong content types, bad headers) gets a 4xx; and that only the right roles move an
application through its workflow.

Every test builds the sharing city of `tests.sharing.helpers` (公安 provides the 有条件 resource
“共享测试人口信息” with ZHANG, LI and WANG loaded; 民政's application mz-dbsh consumes it) and runs on SQLite
and PostgreSQL. A leak is looked for two ways: the records returned are compared exactly with what the grant
allows (granted items, granted rows, masked), and the body text is searched for raw values that the grant
does not show (the middle digits of every 公民身份号码, raw names, addresses, unmasked mobiles, the
不予共享 item).
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow.parquet as pq
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from govshare.auth.permissions import Permission
from govshare.core import security
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.models import Resource, ShareGrant
from govshare.settings import Settings
from govshare.sharing import access
from tests import factories
from tests.catalog.helpers import apply, definition
from tests.collection.helpers import ingest, person_id
from tests.sharing.helpers import (
    LI,
    MAPPING,
    PEOPLE,
    PEOPLE_ROWS,
    PURPOSE,
    WANG,
    ZHANG,
    application_body,
    resource_code,
    setup,
    write_people,
)

# ---------------------------------------------------------------- what is stored, and what a grant shows

FIELDS = ("gmsfhm", "xm", "xb", "sjhm", "jzdz", "qx", "csrq", "zzmm")
RAW: dict[str, dict[str, str]] = {row[0]: dict(zip(FIELDS, row, strict=True)) for row in PEOPLE_ROWS}
LOADED = [ZHANG, LI, WANG]  # in load order, the order of pages, exports and the change feed
MASKS = {"gmsfhm": "id_number", "xm": "name", "sjhm": "mobile", "jzdz": "partial"}  # the catalog's rules
NOBODY = person_id("20000101", 1)  # a valid number that no record holds


def masked(rule: str, text: str) -> str:
    """The catalog's mask rules, written out independently of `govshare.sharing.masking`."""
    n = len(text)
    if rule == "id_number":
        return text[:6] + "*" * (n - 10) + text[-4:]
    if rule == "mobile":
        return text[:3] + "*" * (n - 7) + text[-4:]
    if rule == "name":
        return text[0] + "*" * (n - 1)
    k = (n + 3) // 4  # partial
    return text[:k] + "*" * (n - 2 * k) + text[-k:]


@dataclass(frozen=True)
class View:
    """What a grant lets its application see: items (in catalog order), items in clear, and the row scope
    (districts, `qx`; None is every row). The empty view is what a refused caller sees."""

    items: tuple[str, ...] = ()
    clear: frozenset[str] = frozenset()
    districts: frozenset[str] | None = None

    def rows(self) -> list[str]:
        if not self.items:
            return []
        return [p for p in LOADED if self.districts is None or RAW[p]["qx"] in self.districts]

    def shows(self, person: str, item: str) -> bool:
        return person in self.rows() and item in self.items

    def record(self, person: str) -> dict[str, str]:
        raw = RAW[person]
        return {
            f: raw[f] if f in self.clear or f not in MASKS else masked(MASKS[f], raw[f]) for f in self.items
        }

    def forbidden(self) -> list[str]:
        """Text that must not occur in any response body under this view."""
        found = ["zzmm"]
        for person in LOADED:
            raw = RAW[person]
            found.append(person[6:14])  # the middle of a 公民身份号码 never leaves unmasked
            for item in ("xm", "sjhm", "jzdz", "csrq"):
                if not (self.shows(person, item) and (item in self.clear or item not in MASKS)):
                    found.append(raw[item])
            for item in MASKS:
                if not self.shows(person, item):
                    found.append(masked(MASKS[item], raw[item]))
        return found


NOTHING = View()
ACTIVE = View(("gmsfhm", "xm", "sjhm", "jzdz", "qx"))  # application_body's items, approved as asked
PARTIAL = View(("gmsfhm", "xm", "sjhm", "qx"), frozenset({"sjhm"}), frozenset({"110105"}))  # 东城 only
SUBSCRIPTION = View(("gmsfhm", "xm"))  # the resource's 无条件 items
EVERYTHING = View(("gmsfhm", "xm", "xb", "sjhm", "jzdz", "qx", "csrq"))  # all but the 不予共享 item

# ---------------------------------------------------------------- the city


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests log in a dozen users each; Argon2 at production cost would dominate their run time."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    monkeypatch.setattr(security, "_DUMMY_HASH", cheap.hash("govshare-dummy-password"))


@pytest.fixture(autouse=True)
def fresh_access_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    """`govshare.sharing.access` caches resource metadata per process by resource and version id, which
    repeat from one test database to the next (resource 2 is 无条件 in one test, 不予共享 in another)."""
    monkeypatch.setattr(access, "_CACHE", {})
    monkeypatch.setattr(access, "_TABLES", {})


@pytest.fixture
def prereview_days() -> int:
    """The jurisdiction's 符合性审查 time limit; 0 (the default) skips that step. A test parametrizes it to
    run under a jurisdiction where the 主管部门 reviews applications first."""
    return 0


@pytest.fixture
def settings(settings: Settings, prereview_days: int, tmp_path: Path) -> Settings:
    if not prereview_days:
        return settings
    rules = tmp_path / "jurisdiction.yaml"
    rules.write_text(f"sharing:\n  prereview_days: {prereview_days}\n", encoding="utf-8")
    return settings.model_copy(update={"jurisdiction_file": rules})


@dataclass
class City:
    db: Database
    app: FastAPI
    client: TestClient  # the applications' client (keys, no cookies)
    code: str
    keys: dict[str, str]
    tmp: Path
    _sessions: dict[str, tuple[TestClient, dict[str, str]]] = field(default_factory=dict)

    def data(self, method: str, url: str, key: str | None = "mz", **kwargs: Any) -> Response:
        """A data-API call by an application key (`mz`, `rs`, `ga` or a secret), with purpose headers."""
        headers = {**PURPOSE, **kwargs.pop("headers", {})}
        if key is not None:
            headers.update(factories.bearer(self.keys.get(key, key)))
        return self.client.request(method, url, headers=headers, **kwargs)

    def as_user(self, username: str) -> tuple[TestClient, dict[str, str]]:
        """A logged-in web session of `username` (its own client and cookie jar) and its CSRF header."""
        if username not in self._sessions:
            client = TestClient(self.app, raise_server_exceptions=False)
            self._sessions[username] = (client, factories.login(client, username))
        return self._sessions[username]

    def web(self, username: str, method: str, url: str, **kwargs: Any) -> Response:
        client, csrf = self.as_user(username)
        return client.request(method, url, headers={**csrf, **kwargs.pop("headers", {})}, **kwargs)

    def file(self, **overrides: Any) -> str:
        """民政 applies for the population resource; the request number."""
        filed = self.web(
            "mz.admin", "POST", "/api/v1/sharing/requests", json=application_body(self.code, **overrides)
        )
        assert filed.status_code == 201, filed.text
        return str(filed.json()["number"])

    def approve(self, number: str, **decision: Any) -> int:
        """公安 approves; the grant id."""
        url = f"/api/v1/sharing/requests/{number}/decision"
        answer = self.web("ga.admin", "POST", url, json={"decision": "approve", **decision})
        assert answer.status_code == 200, answer.text
        return int(answer.json()["grant_id"])

    def grant(self, apply_with: dict[str, Any] | None = None, **decision: Any) -> int:
        return self.approve(self.file(**(apply_with or {})), **decision)

    def set_grant(self, grant_id: int, **values: Any) -> None:
        """Change a grant directly in the database (what time does to it)."""
        with self.db.transaction() as session:
            grant = session.get(ShareGrant, grant_id)
            assert grant is not None
            for name, value in values.items():
                setattr(grant, name, value)


@pytest.fixture
def city(db: Database, app: FastAPI, client: TestClient, tmp_path: Path) -> Iterator[City]:
    keys = setup(db, tmp_path)
    town = City(db, app, client, resource_code(db), keys, tmp_path)
    yield town
    for session_client, _ in town._sessions.values():
        session_client.close()


# ---------------------------------------------------------------- the operations and what they return


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def operations(code: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every data-API operation on the population resource: label → (method, url, request kwargs)."""
    base = f"/api/v1/data/{code}"
    return {
        "record ZHANG": ("GET", f"{base}/records/{ZHANG}", {}),
        "record LI": ("GET", f"{base}/records/{LI}", {}),
        "record WANG": ("GET", f"{base}/records/{WANG}", {}),
        "query": ("GET", f"{base}/records", {}),
        "export csv": ("GET", f"{base}/export?format=csv", {}),
        "export ndjson": ("GET", f"{base}/export?format=ndjson", {}),
        "export parquet": ("GET", f"{base}/export?format=parquet", {}),
        "changes": ("GET", f"{base}/changes", {}),
        "verify": ("POST", f"/api/v1/verify/{code}", {"json": {"key": ZHANG, "claims": {"xm": "张三"}}}),
        "person ZHANG": ("GET", f"/api/v1/person/{ZHANG}", {}),
        "person LI": ("GET", f"/api/v1/person/{LI}", {}),
        "my resources": ("GET", "/api/v1/data", {}),
    }


def records_of(label: str, response: Response) -> list[dict[str, Any]]:
    """The records a successful response carries, whatever its format."""
    if label.startswith("record "):
        return [response.json()]
    if label == "query":
        return list(response.json()["items"])
    if label == "export csv":
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    if label == "export ndjson":
        return [json.loads(line) for line in response.text.splitlines() if line]
    if label == "export parquet":
        return list(pq.read_table(io.BytesIO(response.content)).to_pylist())
    if label == "changes":
        return [change["record"] for change in response.json()["changes"] if change["op"] == "upsert"]
    if label.startswith("person "):
        return [part["record"] for part in response.json()["parts"]]
    raise AssertionError(label)


def body_text(response: Response) -> str:
    """The body as text for the leak search; a problem document's `instance` (the caller's own request
    path, echoed) is left out."""
    if response.headers.get("content-type", "").startswith("application/vnd.apache.parquet"):
        return json.dumps(pq.read_table(io.BytesIO(response.content)).to_pylist(), ensure_ascii=False)
    try:
        body = response.json()
    except ValueError:
        return response.content.decode("utf-8", errors="replace")
    if isinstance(body, dict):
        body.pop("instance", None)
    return json.dumps(body, ensure_ascii=False)


def leaks(response: Response, view: View) -> list[str]:
    text = body_text(response)
    return [value for value in view.forbidden() if value in text]


def expected_records(label: str, view: View) -> list[dict[str, str]] | None:
    """What a successful `label` returns under `view`; None when it must be a 404 (row outside)."""
    if label.startswith("record "):
        person = {"ZHANG": ZHANG, "LI": LI, "WANG": WANG}[label.split()[1]]
        return [view.record(person)] if person in view.rows() else None
    if label.startswith("person "):
        person = {"ZHANG": ZHANG, "LI": LI}[label.split()[1]]
        return [view.record(person)] if person in view.rows() else []
    return [view.record(p) for p in view.rows()]


def check_granted(city: City, view: View, key: str = "mz") -> list[str]:
    """Run every operation as `key` and compare with `view`; the offences, described."""
    offences = []
    for label, (method, url, kwargs) in operations(city.code).items():
        response = city.data(method, url, key, **kwargs)
        offences += [f"{label}: leaks {value!r}" for value in leaks(response, view)]
        wanted = expected_records(label, view) if label not in ("verify", "my resources") else None
        if label == "verify":
            expected_body = {"found": True, "match": True, "results": {"xm": "match"}}
            if response.status_code != 200 or response.json() != expected_body:
                offences.append(f"verify: {response.status_code} {response.text[:200]}")
        elif label == "my resources":
            listed = [
                (m["resource"], [(i["field"], i["masked"]) for i in m["items"]]) for m in response.json()
            ]
            masks = [(f, f in MASKS and f not in view.clear) for f in view.items]
            if listed != [(city.code, masks)]:
                offences.append(f"my resources: {response.status_code} {listed}")
        elif wanted is None:
            if response.status_code != 404:
                offences.append(f"{label}: a row outside the grant answered {response.status_code}")
        elif response.status_code != 200:
            offences.append(f"{label}: {response.status_code} {response.text[:200]}")
        else:
            got = records_of(label, response)
            if got != wanted:
                offences.append(f"{label}: records {got} != granted {wanted}")
            if label.startswith("export") and response.headers.get("x-row-count") != str(len(wanted)):
                offences.append(f"{label}: X-Row-Count {response.headers.get('x-row-count')}")
            if label.startswith("person "):
                resources = [p["resource"] for p in response.json()["parts"]]
                if resources != [city.code] * len(wanted):
                    offences.append(f"{label}: parts from {resources}")
    return offences


def check_refused(city: City, key: str | None, *, status: int = 403) -> list[str]:
    """Every operation answered without a single record. A key that may use the data API (data:read)
    but holds no live grant is refused (403) on each resource, and gets 200 with nothing from 一号通 and the
    list of its resources; any other caller (`status` 401 or 403) is refused everything."""
    may_call = key is not None and status == 403 and key in city.keys
    offences = []
    for label, (method, url, kwargs) in operations(city.code).items():
        response = city.data(method, url, key, **kwargs)
        offences += [f"{label}: leaks {value!r}" for value in leaks(response, NOTHING)]
        if may_call and label.startswith("person "):
            if response.status_code != 200 or response.json()["parts"] != []:
                offences.append(f"{label}: {response.status_code} {response.text[:200]}")
        elif may_call and label == "my resources":
            if response.status_code != 200 or response.json() != []:
                offences.append(f"{label}: {response.status_code} {response.text[:200]}")
        elif response.status_code != status:
            offences.append(f"{label}: {response.status_code}, not {status}: {response.text[:200]}")
    return offences


def report(offences: list[str]) -> str:
    return f"{len(offences)} offence(s):\n" + "\n".join(offences[:60])


# ---------------------------------------------------------------- grant states


def _no_grant(city: City) -> View | None:
    return None


def _active(city: City) -> View | None:
    city.grant()
    return ACTIVE


def _partial(city: City) -> View | None:
    city.grant(
        {"clear_items": ["sjhm"], "row_scope": {"qx": ["110105", "110106"]}},
        items=["gmsfhm", "xm", "sjhm", "qx"],
        row_scope={"qx": ["110105"]},
        reason="居住地址不属于审核所需；仅限本区居民",
    )
    return PARTIAL


def _subscription(city: City) -> View | None:
    url = "/api/v1/sharing/subscriptions"
    body = {
        "application": "mz-dbsh",
        "resource": city.code,
        "purpose_kind": "data_check",
        "purpose": "身份核对",
    }
    # Only the 无条件 items can be subscribed to; the rest of a 有条件 resource needs an application.
    refused = city.web("mz.admin", "POST", url, json={**body, "items": ["gmsfhm", "sjhm"]})
    assert refused.status_code == 422, refused.text
    made = city.web("mz.admin", "POST", url, json=body)
    assert made.status_code == 201, made.text
    assert made.json()["items"] == ["gmsfhm", "xm"]
    return SUBSCRIPTION


def _works_then(change: Callable[[City, int], None]) -> Callable[[City], View | None]:
    """An approved grant that answers a call, then `change`: the very next request must be refused."""

    def build(city: City) -> View | None:
        grant_id = city.grant()
        first = city.data("GET", f"/api/v1/data/{city.code}/records/{ZHANG}")
        assert first.status_code == 200, first.text
        change(city, grant_id)
        return None

    return build


def _revoke(city: City, grant_id: int) -> None:
    url = f"/api/v1/sharing/grants/{grant_id}/revoke"
    revoked = city.web("ga.admin", "POST", url, json={"reason": "审核工作结束"})
    assert revoked.status_code == 200, revoked.text


def _expire(city: City, grant_id: int) -> None:
    city.set_grant(grant_id, valid_to=utcnow() - timedelta(seconds=1))


def _postpone(city: City, grant_id: int) -> None:
    city.set_grant(grant_id, valid_from=utcnow() + timedelta(days=1))


GRANT_STATES: dict[str, Callable[[City], View | None]] = {
    "none": _no_grant,
    "active": _active,
    "partial": _partial,
    "subscription": _subscription,
    "revoked": _works_then(_revoke),
    "expired": _works_then(_expire),
    "not-yet-valid": _works_then(_postpone),
}


@pytest.mark.parametrize("state", GRANT_STATES)
def test_each_grant_state_shows_exactly_its_grant(city: City, state: str) -> None:
    """Every operation (by key, filtered page, CSV/NDJSON/Parquet export, change feed, 核验, 一号通, the
    resource list) returns only the granted items of the granted rows, masked unless granted in clear —
    or, without a live grant, nothing at all."""
    view = GRANT_STATES[state](city)
    if view is None:
        offences = check_refused(city, "mz", status=403)
        assert not offences, report(offences)
        return
    offences = check_granted(city, view)
    base = f"/api/v1/data/{city.code}"

    # Filtering or verifying on an item outside the grant is refused, whatever the value: an answer that
    # differed by value would reveal the item (inference).
    for name in ("xb", "zzmm", "csrq"):
        answers = {city.data("GET", f"{base}/records?{name}={v}").status_code for v in ("1", "2", "01")}
        offences += [f"filter on ungranted {name}: {answers}"] if answers != {403} else []
        export_status = city.data("GET", f"{base}/export?{name}=1").status_code
        offences += [f"export filtered on ungranted {name}: {export_status}"] if export_status != 403 else []
        for claimed in ("1", "13"):
            verified = city.data(
                "POST", f"/api/v1/verify/{city.code}", json={"key": ZHANG, "claims": {name: claimed}}
            )
            offences += (
                [f"verify ungranted {name}: {verified.status_code}"] if verified.status_code != 403 else []
            )
    ungranted = next((f for f in ("sjhm", "jzdz") if f not in view.items), None)
    if ungranted:
        refused = city.data("GET", f"{base}/records?{ungranted}=x")
        offences += (
            [f"filter on ungranted {ungranted}: {refused.status_code}"] if refused.status_code != 403 else []
        )

    # A wrong claim is a mismatch and nothing more.
    wrong = city.data("POST", f"/api/v1/verify/{city.code}", json={"key": ZHANG, "claims": {"xm": "张四"}})
    if wrong.json() != {"found": True, "match": False, "results": {"xm": "mismatch"}}:
        offences.append(f"verify wrong claim: {wrong.text[:200]}")

    if view.districts is not None:
        # A record outside the rows looks exactly like one that does not exist, to lookup and 核验.
        outside, absent = (city.data("GET", f"{base}/records/{p}") for p in (LI, NOBODY))
        if (outside.status_code, outside.json()["detail"]) != (absent.status_code, absent.json()["detail"]):
            offences.append(f"LI outside the rows: {outside.text[:200]} vs absent {absent.text[:200]}")
        for person in (LI, NOBODY):
            claims = {"key": person, "claims": {"xm": RAW.get(person, {"xm": "某某"})["xm"]}}
            verified = city.data("POST", f"/api/v1/verify/{city.code}", json=claims)
            if verified.json() != {"found": False, "match": False, "results": {"xm": "mismatch"}}:
                offences.append(f"verify {person} outside the rows: {verified.text[:200]}")
        # Filtering on the scope item for rows outside the scope finds nothing.
        page = city.data("GET", f"{base}/records?qx=110106")
        offences += [f"query qx=110106: {page.text[:200]}"] if page.json().get("items") != [] else []
        exported = city.data("GET", f"{base}/export?qx=110106&format=ndjson")
        if (exported.status_code, exported.headers.get("x-row-count"), exported.text) != (200, "0", ""):
            offences.append(f"export qx=110106: {exported.status_code} {exported.text[:200]}")
        # The change feed reports deletions only of rows within the scope: WANG (东城), not LI (丰台).
        cursor = city.data("GET", f"{base}/changes").json()["next"]
        # A full load closing 2 of 3 records is over the removal guard's share: allowed explicitly.
        only_zhang = write_people(city.tmp / "only-zhang.csv", [PEOPLE_ROWS[0]])
        ingest(city.db, only_zhang, MAPPING, allow_removals=True)
        feed = city.data("GET", f"{base}/changes?since={cursor}")
        wanted = [{"op": "delete", "key": {"gmsfhm": masked("id_number", WANG)}}]
        if feed.status_code != 200 or feed.json()["changes"] != wanted:
            offences.append(f"deletions: {feed.status_code} {feed.text[:300]}")
        offences += [f"deletions: leaks {value!r}" for value in leaks(feed, view)]
    assert not offences, report(offences)


# ---------------------------------------------------------------- callers

ROLE_USERS = ("admin", "security", "auditor", "reviewer", "ga.admin", "ga.steward", "mz.admin", "mz.user")


def _grantee(city: City) -> list[str]:
    return check_granted(city, ACTIVE)


def _other_department(city: City) -> list[str]:
    return check_refused(city, "rs", status=403)


def _provider_application(city: City) -> list[str]:
    """The data API works by grants only: the provider's own system holds none for its own resource,
    and cannot get one (its department needs no application for its own data)."""
    offences = check_refused(city, "ga", status=403)
    body = {"application": "ga-rkgl", "resource": city.code, "purpose_kind": "data_check", "purpose": "自查"}
    subscribed = city.web("ga.admin", "POST", "/api/v1/sharing/subscriptions", json=body)
    applied = city.web(
        "ga.admin",
        "POST",
        "/api/v1/sharing/requests",
        json=application_body(city.code, application="ga-rkgl"),
    )
    for label, response in (("subscribe", subscribed), ("apply", applied)):
        offences += [f"provider {label}: {response.status_code}"] if response.status_code != 422 else []
    return offences


def _key_without_data_scope(city: City) -> list[str]:
    """The grantee's own application, but a key that may only read the catalog."""
    key = factories.application_key(city.db, "mz-dbsh", "MZ", scopes=[Permission.CATALOG_READ])
    return check_refused(city, key, status=403)


def _anonymous(city: City) -> list[str]:
    return check_refused(city, None, status=401)


def _web_sessions(city: City) -> list[str]:
    """Every role's web session (with its CSRF token): the data API only accepts application keys."""
    offences = []
    for user in ROLE_USERS:
        client, csrf = city.as_user(user)
        for label, (method, url, kwargs) in operations(city.code).items():
            response = client.request(method, url, headers={**PURPOSE, **csrf}, **kwargs)
            code = response.json().get("code") if response.status_code == 403 else None
            if code != "permission_denied" or leaks(response, NOTHING):
                offences.append(f"{user} {label}: {response.status_code} {response.text[:160]}")
    return offences


CALLERS: dict[str, Callable[[City], list[str]]] = {
    "grantee mz-dbsh": _grantee,
    "other department rs-shbz": _other_department,
    "provider ga-rkgl": _provider_application,
    "key without data:read": _key_without_data_scope,
    "anonymous": _anonymous,
    "web session of each role": _web_sessions,
}


@pytest.mark.parametrize("caller", CALLERS)
def test_only_the_grantee_application_gets_data(city: City, caller: str) -> None:
    """民政's application holds an approved grant; no one else gets anything through it."""
    city.grant()
    offences = CALLERS[caller](city)
    assert not offences, report(offences)


# ---------------------------------------------------------------- share types

SECRET: dict[str, Any] = {
    "name": "共享测试涉密人员信息",
    "provider": "GA",
    "summary": "用于共享测试的不予共享资源：涉密岗位人员名单。",
    "classification": {"category": "部门", "class": "3", "item": "02", "catalog": "003"},
    "format": {"category": "数据库", "type": "PostgreSQL"},
    "share": {"type": "不予"},
    "legal_basis": "《中华人民共和国保守国家秘密法》第三十五条",
    "update_cycle": "每月",
    "grade": "重要",
    "items": [
        {
            "name": "公民身份号码",
            "field": "gmsfhm",
            "type": "C",
            "length": 18,
            "key": True,
            "nullable": False,
            "standard": "GB 11643",
            "mask": "证件号码",
        },
        {"name": "涉密岗位", "field": "smgw", "type": "C", "length": 20},
    ],
}
SECRET_MAPPING = f"resource: {SECRET['name']}\nmode: full\ncolumns:\n  gmsfhm: 身份证号\n  smgw: 岗位\n"
SECRET_POST = "机要岗位甲"

FAMILY: dict[str, Any] = {
    "name": "共享测试低保家庭信息",
    "provider": "GA",
    "summary": "用于共享测试的无条件共享资源：低保家庭的人数、保障金额和状态。",
    "classification": {"category": "部门", "class": "3", "item": "02", "catalog": "002"},
    "format": {"category": "数据库", "type": "PostgreSQL"},
    "share": {"type": "无条件", "methods": ["接口"]},
    "update_cycle": "每日",
    "items": [
        {
            "name": "公民身份号码",
            "field": "gmsfhm",
            "type": "C",
            "length": 18,
            "key": True,
            "nullable": False,
            "standard": "GB 11643",
            "mask": "证件号码",
        },
        {"name": "家庭人数", "field": "jtrs", "type": "I"},
        {"name": "保障金额", "field": "bzje", "type": "N"},
        {"name": "是否有效", "field": "sfyx", "type": "L"},
    ],
}
FAMILY_MAPPING = f"""
resource: {FAMILY["name"]}
mode: full
columns:
  gmsfhm: 身份证号
  jtrs: 人数
  bzje: 金额
  sfyx: 有效
"""


def load_family(city: City) -> str:
    apply(city.db, FAMILY)
    path = city.tmp / "family.csv"
    path.write_text(f"身份证号,人数,金额,有效\n{ZHANG},3,1200.5,true\n{LI},2,800,false\n", encoding="utf-8")
    ingest(city.db, path, FAMILY_MAPPING)
    return resource_code(city.db, FAMILY["name"])


def subscribe(city: City, code: str, items: list[str] | None = None) -> Response:
    body: dict[str, Any] = {
        "application": "mz-dbsh",
        "resource": code,
        "purpose_kind": "data_check",
        "purpose": "救助核对",
    }
    if items is not None:
        body["items"] = items
    return city.web("mz.admin", "POST", "/api/v1/sharing/subscriptions", json=body)


def _no_share(city: City) -> list[str]:
    """不予共享: no subscription, no application, no grant; a negotiation can only be answered or settled,
    never turned into a grant; and even a grant row planted in the database opens nothing."""
    apply(city.db, SECRET)
    path = city.tmp / "secret.csv"
    path.write_text(f"身份证号,岗位\n{ZHANG},{SECRET_POST}\n", encoding="utf-8")
    ingest(city.db, path, SECRET_MAPPING)
    code = resource_code(city.db, SECRET["name"])
    offences = []
    subscribed = subscribe(city, code)
    applied = city.web(
        "mz.admin", "POST", "/api/v1/sharing/requests", json=application_body(code, items=["gmsfhm", "smgw"])
    )
    for label, response in (("subscribe", subscribed), ("apply", applied)):
        offences += (
            [f"{label}: {response.status_code} {response.text[:160]}"] if response.status_code != 422 else []
        )
    negotiation = city.web(
        "mz.admin",
        "POST",
        "/api/v1/sharing/negotiations",
        json={"application": "mz-dbsh", "resource": code, "reason": "救助审核需核对涉密岗位"},
    )
    assert negotiation.status_code == 201, negotiation.text
    number = negotiation.json()["number"]
    decided = city.web(
        "ga.admin", "POST", f"/api/v1/sharing/requests/{number}/decision", json={"decision": "approve"}
    )
    reopened = city.web(
        "reviewer",
        "POST",
        f"/api/v1/sharing/requests/{number}/settle",
        json={"outcome": "reopen", "comment": "重新审批"},
    )
    for label, response in (("approve a negotiation", decided), ("reopen a negotiation", reopened)):
        offences += (
            [f"{label}: {response.status_code} {response.text[:160]}"] if response.status_code != 409 else []
        )
    grants = city.web("admin", "GET", f"/api/v1/sharing/grants?resource={code}")
    offences += [f"grants exist: {grants.text[:200]}"] if grants.json() != [] else []

    # A grant row planted directly in the database (as a defect elsewhere might leave one), beside a real
    # grant of the population resource.
    population = city.grant()
    with city.db.transaction() as session:
        real = session.get(ShareGrant, population)
        secret_id = session.scalars(select(Resource.id).where(Resource.code == code)).one()
        assert real is not None
        session.add(
            ShareGrant(
                kind="approval",
                application_id=real.application_id,
                consumer_department_id=real.consumer_department_id,
                resource_id=secret_id,
                provider_department_id=real.provider_department_id,
                items=["gmsfhm", "smgw"],
                clear_items=["gmsfhm", "smgw"],
                row_scope={},
                purpose_kind="data_check",
                purpose="planted",
                valid_from=utcnow() - timedelta(days=1),
                valid_to=utcnow() + timedelta(days=1),
                requests_per_day=1000,
                rows_per_day=1000,
                created_by="test",
            )
        )
    for label, (method, url, kwargs) in operations(code).items():
        if label.startswith(("person", "my resources")):
            continue  # not per resource: checked below
        response = city.data(method, url, **kwargs)
        if response.status_code != 403 or SECRET_POST in response.text:
            offences.append(f"planted grant, {label}: {response.status_code} {response.text[:160]}")
    person = city.data("GET", f"/api/v1/person/{ZHANG}")
    resources = [part["resource"] for part in person.json()["parts"]]
    if resources != [city.code] or SECRET_POST in person.text:
        extra = [part for part in person.json()["parts"] if part["resource"] != city.code]
        offences.append(f"planted grant, 一号通 answers from {resources}: {extra}")
    return offences


def _unconditional(city: City) -> list[str]:
    """无条件: subscribed at once (no application), to all or some of the items; others still get nothing."""
    code = load_family(city)
    offences = []
    applied = city.web(
        "mz.admin", "POST", "/api/v1/sharing/requests", json=application_body(code, items=["gmsfhm"])
    )
    offences += [f"apply: {applied.status_code}"] if applied.status_code != 422 else []
    made = subscribe(city, code, items=["gmsfhm", "jtrs"])
    assert made.status_code == 201, made.text
    got = city.data("GET", f"/api/v1/data/{code}/records/{ZHANG}")
    if got.status_code != 200 or got.json() != {"gmsfhm": masked("id_number", ZHANG), "jtrs": 3}:
        offences.append(f"subscribed record: {got.status_code} {got.text[:200]}")
    page = city.data("GET", f"/api/v1/data/{code}/records")
    if [sorted(r) for r in page.json()["items"]] != [["gmsfhm", "jtrs"]] * 2:
        offences.append(f"subscribed page: {page.text[:200]}")
    refused = city.data("GET", f"/api/v1/data/{code}/records?bzje=800")
    offences += [f"filter on unsubscribed item: {refused.status_code}"] if refused.status_code != 403 else []
    other = city.data("GET", f"/api/v1/data/{code}/records/{ZHANG}", key="rs")
    offences += [f"unsubscribed application: {other.status_code}"] if other.status_code != 403 else []
    return offences


SHARE_TYPES: dict[str, Callable[[City], list[str]]] = {"不予共享": _no_share, "无条件共享": _unconditional}


@pytest.mark.parametrize("share_type", SHARE_TYPES)
def test_share_type_decides_what_can_be_granted(city: City, share_type: str) -> None:
    offences = SHARE_TYPES[share_type](city)
    assert not offences, report(offences)


def test_a_resource_republished_as_not_shared_stops_every_operation(city: City) -> None:
    """公安 re-publishes the population resource as 不予共享 (with its legal basis) while 民政 holds a live
    grant: from the next request no operation may return anything from it — including 一号通, which
    gathers by grant, and the list of resources the application "may call now"."""
    city.grant()
    before = city.data("GET", f"/api/v1/person/{ZHANG}")
    assert [p["resource"] for p in before.json()["parts"]] == [city.code]
    apply(
        city.db,
        definition(PEOPLE, share={"type": "不予"}, legal_basis="《中华人民共和国保守国家秘密法》第三十五条"),
    )
    offences = check_refused(city, "mz", status=403)
    assert not offences, report(offences)


# ---------------------------------------------------------------- hostile input

SQL = "' OR 1=1 --"
STACKED = "1; DROP TABLE share_grant; --"
# What a probe must get: a 4xx | a 4xx or an answer without any record | anything but a 5xx (odd but valid)
REFUSE, EMPTY, SURVIVE = "refuse", "empty", "survive"


@pytest.fixture
def hostile(city: City) -> tuple[City, str]:
    """The grantee holds every shareable item (so probes get past the grant check) and a subscription to a
    resource with typed items (integers, decimals, booleans); returns the city and that resource's code."""
    city.grant({"items": list(EVERYTHING.items)})
    family = load_family(city)
    assert subscribe(city, family).status_code == 201
    return city, family


def carries_data(response: Response) -> bool:
    """Whether a successful answer holds any record (an export: any row; 核验: a record found)."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return response.headers.get("x-row-count") not in (None, "0")
    body = response.json()
    if isinstance(body, dict):
        return bool(body.get("items") or body.get("changes") or body.get("found") or body.get("parts"))
    return bool(body)


def judge(label: str, response: Response, expect: str) -> list[str]:
    """What is wrong with the answer to a probe: a leak, a 5xx, or not the refusal or emptiness expected."""
    status = response.status_code
    offences = [f"{label}: leaks {value!r}" for value in leaks(response, EVERYTHING)]
    wrong = status >= 500 or (expect == REFUSE and not 400 <= status < 500)
    if wrong or (expect == EMPTY and status == 200 and carries_data(response)):
        offences.append(f"{label}: {status} {response.text[:200]}")
    return offences


def test_hostile_filters_are_refused_or_match_nothing(hostile: tuple[City, str]) -> None:
    city, family = hostile
    people, typed = f"/api/v1/data/{city.code}", f"/api/v1/data/{family}"
    probes = [
        ("SQL in a text filter", people, f"xm={quote(SQL)}", EMPTY),
        ("stacked SQL in a key-item filter", people, f"gmsfhm={quote(STACKED)}", EMPTY),
        ("SQL in a date filter", people, f"csrq={quote(SQL)}", REFUSE),
        ("UNION in a date filter", people, f"csrq={quote('1990-03-07 UNION SELECT xb FROM x')}", REFUSE),
        ("SQL as the item name", people, f"{quote('xm = xm OR 1')}=1", REFUSE),
        ("an unknown item", people, "nosuch=1", REFUSE),
        ("system column _sid", people, "_sid=1", REFUSE),
        ("system column _valid_to", people, "_valid_to=", REFUSE),
        ("system column _batch_id", people, "_batch_id=1", REFUSE),
        ("the 不予共享 item", people, "zzmm=01", REFUSE),
        ("the same item twice", people, "xm=a&xm=b", REFUSE),
        ("21 conditions", people, "&".join(f"f{i}=1" for i in range(21)), REFUSE),
        ("a 201-character value", people, f"xm={'a' * 201}", REFUSE),
        ("a 65-character item name", people, f"{'a' * 65}=1", REFUSE),
        ("NUL in a value", people, "xm=%00", REFUSE),
        ("escape character in a value", people, "xm=%1b%5b2J", REFUSE),
        ("an impossible date", people, "csrq=2026-13-45", REFUSE),
        ("a word for an integer", typed, "jtrs=abc", REFUSE),
        ("an integer beyond 64 bits", typed, f"jtrs={'9' * 30}", REFUSE),
        ("a negative integer beyond 64 bits", typed, f"jtrs=-{'9' * 30}", REFUSE),
        ("a word for a boolean", typed, "sfyx=maybe", REFUSE),
        ("SQL for a decimal", typed, f"bzje={quote(SQL)}", REFUSE),
    ]
    offences = []
    for label, base, query, expect in probes:
        for operation in ("records", "export"):
            response = city.data("GET", f"{base}/{operation}?{query}")
            offences += judge(f"{operation} {label} ({query[:60]})", response, expect)
    intact = city.data("GET", f"{people}/records")
    assert len(intact.json()["items"]) == 3, intact.text  # nothing was dropped or altered
    assert not offences, report(offences)


def test_hostile_paging_and_cursors_are_refused(hostile: tuple[City, str]) -> None:
    city, _ = hostile
    base = f"/api/v1/data/{city.code}"
    probes = [
        ("records", "limit=1000000000", REFUSE),
        ("records", "limit=-1", REFUSE),
        ("records", "limit=0", REFUSE),
        ("records", "limit=abc", REFUSE),
        ("records", f"limit={2**70}", REFUSE),
        ("records", "after=!!not-a-cursor!!", REFUSE),
        ("records", f"after={b64('s-1')}", REFUSE),
        ("records", f"after={b64('x5')}", REFUSE),
        ("records", f"after={b64(bytes([0xFF, 0xFE, 0x00]))}", REFUSE),
        ("records", f"after={b64('s' + '9' * 25)}", REFUSE),
        ("records", f"after={'A' * 65}", REFUSE),
        ("records", f"after={b64('s' + '9' * 19)}", EMPTY),  # well-formed, past any record
        ("changes", "since=!!not-a-cursor!!", REFUSE),
        ("changes", f"since={b64('v2.0.1.u.0')}", REFUSE),
        ("changes", f"since={b64('v1.0.1.x.0')}", REFUSE),
        ("changes", f"since={b64('v1.-1.1.u.0')}", REFUSE),
        ("changes", f"since={b64('v1.0.1.u')}", REFUSE),
        ("changes", f"since={'A' * 129}", REFUSE),
        ("changes", f"since={b64(f'v1.{2**70}.1.u.0')}", EMPTY),
        ("changes", f"since={b64(f'v1.{2**70}.1.d.0')}", EMPTY),
        ("changes", f"since={b64(f'v1.5.{2**62}.d.0')}", EMPTY),
        ("changes", f"since={b64(f'v1.1.1.d.{2**62}')}", EMPTY),
        ("changes", "limit=1000000000", REFUSE),
        ("changes", "limit=-1", REFUSE),
    ]
    offences = []
    for operation, query, expect in probes:
        offences += judge(
            f"{operation}?{query[:70]}", city.data("GET", f"{base}/{operation}?{query}"), expect
        )
    assert not offences, report(offences)


def test_hostile_paths_and_keys_are_refused(hostile: tuple[City, str]) -> None:
    city, _ = hostile
    base = f"/api/v1/data/{city.code}"
    urls = [
        f"{base}/records/{quote(SQL, safe='')}",
        f"{base}/records/{quote(STACKED, safe='')}",
        f"{base}/records/{quote(ZHANG + SQL, safe='')}",
        f"{base}/records/..%2F..%2F..%2Fetc%2Fpasswd",
        f"{base}/records/%2e%2e%2f",
        f"{base}/records/%2e%2e",
        f"{base}/records/%00",
        f"{base}/records/{ZHANG}%00",
        f"{base}/records/{'9' * 5000}",
        f"{base}/records/{ZHANG},{LI}",
        f"{base}/records/%25",
        f"{base}/records/%2A",
        "/api/v1/data/..%2F..%2Faudit/records/" + ZHANG,
        "/api/v1/data/%2e%2e/records/" + ZHANG,
        "/api/v1/data/302001-999999/records/" + ZHANG,
        f"/api/v1/data/{'a' * 65}/records/{ZHANG}",
        f"/api/v1/data/{quote(city.code + SQL, safe='')}/records/{ZHANG}",
        f"/api/v1/person/{ZHANG[:-1]}X",
        f"/api/v1/person/{quote(SQL + '0000000', safe='')}",
        f"/api/v1/person/{ZHANG}%2F..%2F..",
        f"/api/v1/person/%00{ZHANG}",
        f"/api/v1/person/{'1' * 5000}",
        f"/api/v1/org/{quote(SQL * 2, safe='')}",
    ]
    offences = []
    for url in urls:
        offences += judge(f"GET {url[:90]}", city.data("GET", url), REFUSE)
    assert not offences, report(offences)


def test_hostile_verify_bodies_are_refused(hostile: tuple[City, str]) -> None:
    city, _ = hostile
    url = f"/api/v1/verify/{city.code}"
    good = {"key": ZHANG, "claims": {"xm": "某某"}}
    as_json = json.dumps(good, ensure_ascii=False).encode()
    probes: list[tuple[str, dict[str, Any], str]] = [
        ("text/plain body", {"content": as_json, "headers": {"Content-Type": "text/plain"}}, REFUSE),
        ("form body", {"data": {"key": ZHANG, "claims": "xm"}}, REFUSE),
        ("multipart body", {"files": {"f": ("v.json", as_json, "application/json")}}, REFUSE),
        ("XML body", {"content": b"<verify/>", "headers": {"Content-Type": "application/xml"}}, REFUSE),
        (
            "JSON in UTF-16",
            {"content": as_json.decode().encode("utf-16"), "headers": {"Content-Type": "application/json"}},
            SURVIVE,  # Python reads JSON in UTF-16 too; odd, but not hostile
        ),
        ("no body", {}, REFUSE),
        (
            "malformed JSON",
            {
                "content": b'{"key": "' + ZHANG.encode() + b'", "claims": {',
                "headers": {"Content-Type": "application/json"},
            },
            REFUSE,
        ),
        ("a JSON array", {"json": [good]}, REFUSE),
        ("an empty object", {"json": {}}, REFUSE),
        ("no claims", {"json": {"key": ZHANG, "claims": {}}}, REFUSE),
        ("10 000 claims", {"json": {"key": ZHANG, "claims": {f"c{i}": "x" for i in range(10_000)}}}, REFUSE),
        ("an operator object as a claim", {"json": {"key": ZHANG, "claims": {"xm": {"$ne": ""}}}}, REFUSE),
        ("a list as a claim", {"json": {"key": ZHANG, "claims": {"xm": ["张三", "李四"]}}}, REFUSE),
        ("a claim on the 不予共享 item", {"json": {"key": ZHANG, "claims": {"zzmm": "01"}}}, REFUSE),
        ("a claim on an unknown item", {"json": {"key": ZHANG, "claims": {"nosuch": "1"}}}, REFUSE),
        ("a claim on a system column", {"json": {"key": ZHANG, "claims": {"_sid": 1}}}, REFUSE),
        ("an extra field", {"json": {**good, "items": ["zzmm"]}}, REFUSE),
        ("a 201-character key", {"json": {"key": "1" * 201, "claims": {"xm": "某某"}}}, REFUSE),
        ("a numeric key", {"json": {"key": 110105, "claims": {"xm": "某某"}}}, REFUSE),
        ("NUL in the key", {"json": {"key": ZHANG[:6] + "\x00", "claims": {"xm": "某某"}}}, REFUSE),
        (
            "a lone surrogate in the key",
            {
                "content": b'{"key": "\\ud800", "claims": {"xm": "x"}}',
                "headers": {"Content-Type": "application/json"},
            },
            REFUSE,
        ),
        ("SQL in the key", {"json": {"key": SQL, "claims": {"xm": "某某"}}}, EMPTY),
        ("stacked SQL in the key", {"json": {"key": STACKED, "claims": {"xm": "某某"}}}, EMPTY),
    ]
    offences = []
    for label, kwargs, expect in probes:
        offences += judge(f"verify {label}", city.data("POST", url, **kwargs), expect)
    wrong_method = city.data("GET", url)
    offences += [f"GET verify: {wrong_method.status_code}"] if wrong_method.status_code != 405 else []
    assert not offences, report(offences)


def test_bad_purpose_and_operator_headers_are_refused(hostile: tuple[City, str]) -> None:
    """Every data call states its purpose and operator, short and printable: otherwise 400, no data."""
    city, _ = hostile
    key = factories.bearer(city.keys["mz"])
    purpose, operator = PURPOSE["X-Purpose"], PURPOSE["X-Operator"]
    cases: dict[str, dict[str, Any]] = {
        "no X-Purpose": {"X-Operator": operator},
        "no X-Operator": {"X-Purpose": purpose},
        "neither": {},
        "blank X-Purpose": {"X-Purpose": "   ", "X-Operator": operator},
        "201-character X-Purpose": {"X-Purpose": "p" * 201, "X-Operator": operator},
        "10 000-character X-Operator": {"X-Purpose": purpose, "X-Operator": "o" * 10_000},
        "201 Chinese characters, percent-encoded": {"X-Purpose": quote("低" * 201), "X-Operator": operator},
        "percent-encoded NUL": {"X-Purpose": "%00", "X-Operator": operator},
        "percent-encoded newline": {"X-Purpose": purpose, "X-Operator": "a%0D%0AX-Injected: 1"},
        "raw control character": {"X-Purpose": purpose, "X-Operator": "a\x01b"},
        "raw DEL": {"X-Purpose": "a\x7fb", "X-Operator": operator},
    }
    offences = []
    for label, headers in cases.items():
        for method, url, kwargs in (
            ("GET", f"/api/v1/data/{city.code}/records/{ZHANG}", {}),
            ("GET", f"/api/v1/data/{city.code}/export", {}),
            ("POST", f"/api/v1/verify/{city.code}", {"json": {"key": ZHANG, "claims": {"xm": "张三"}}}),
            ("GET", f"/api/v1/person/{ZHANG}", {}),
        ):
            response = city.client.request(method, url, headers={**key, **headers}, **kwargs)
            if response.status_code != 400 or leaks(response, EVERYTHING):
                offences.append(f"{label} {method} {url[-30:]}: {response.status_code} {response.text[:160]}")
    assert not offences, report(offences)


# ---------------------------------------------------------------- the workflow's roles


def test_only_the_provider_decides_and_strangers_see_nothing(city: City) -> None:
    number = city.file()
    decision = {"decision": "approve"}
    offences = []
    for user in ("mz.admin", "mz.user", "rs.admin", "ga.steward", "admin", "security", "auditor", "reviewer"):
        answer = city.web(user, "POST", f"/api/v1/sharing/requests/{number}/decision", json=decision)
        if answer.status_code not in (403, 404):
            offences.append(f"{user} decides: {answer.status_code} {answer.text[:160]}")
    still = city.web("mz.admin", "GET", f"/api/v1/sharing/requests/{number}")
    assert still.json()["state"] == "pending", still.text

    # Another department neither sees the request nor acts on it.
    seen = city.web("rs.admin", "GET", f"/api/v1/sharing/requests/{number}")
    offences += [f"rs.admin sees the request: {seen.status_code}"] if seen.status_code != 404 else []
    listed = city.web("rs.admin", "GET", "/api/v1/sharing/requests").json()
    offences += [f"rs.admin lists it: {listed}"] if listed != [] else []
    for action in ("withdraw",):
        acted = city.web("rs.admin", "POST", f"/api/v1/sharing/requests/{number}/{action}")
        offences += [f"rs.admin {action}: {acted.status_code}"] if acted.status_code not in (403, 404) else []

    grant_id = city.approve(number)
    for user in ("rs.admin",):
        seen = city.web(user, "GET", f"/api/v1/sharing/grants/{grant_id}")
        offences += [f"{user} sees the grant: {seen.status_code}"] if seen.status_code != 404 else []
        grants = city.web(user, "GET", "/api/v1/sharing/grants").json()
        offences += [f"{user} lists grants: {grants}"] if grants != [] else []
        revoked = city.web(
            user, "POST", f"/api/v1/sharing/grants/{grant_id}/revoke", json={"reason": "不相干"}
        )
        offences += [f"{user} revokes: {revoked.status_code}"] if revoked.status_code != 404 else []
    for user in ("admin", "security", "auditor", "reviewer", "ga.steward"):
        revoked = city.web(
            user, "POST", f"/api/v1/sharing/grants/{grant_id}/revoke", json={"reason": "越权撤销"}
        )
        offences += [f"{user} revokes: {revoked.status_code}"] if revoked.status_code != 403 else []
    live = city.data("GET", f"/api/v1/data/{city.code}/records/{ZHANG}")
    offences += [f"the grant no longer works: {live.status_code}"] if live.status_code != 200 else []
    assert not offences, report(offences)


@pytest.mark.parametrize("prereview_days", [2])
def test_only_the_supervisor_prereviews_and_settles(city: City, prereview_days: int) -> None:
    number = city.file()
    url = f"/api/v1/sharing/requests/{number}"
    offences = []
    assert city.web("mz.admin", "GET", url).json()["state"] == "prereview"
    early = city.web("ga.admin", "POST", f"{url}/decision", json={"decision": "approve"})
    offences += (
        [f"provider decides before 符合性审查: {early.status_code}"] if early.status_code != 409 else []
    )
    outsiders = ("mz.admin", "mz.user", "ga.admin", "ga.steward", "rs.admin", "admin", "security", "auditor")
    for user in outsiders:
        passed = city.web(user, "POST", f"{url}/prereview", json={"passed": True})
        offences += [f"{user} prereviews: {passed.status_code}"] if passed.status_code != 403 else []
        checked = city.web(user, "POST", "/api/v1/sharing/deadlines/check")
        offences += [f"{user} checks deadlines: {checked.status_code}"] if checked.status_code != 403 else []
    passed = city.web("reviewer", "POST", f"{url}/prereview", json={"passed": True, "comment": "材料齐全"})
    assert passed.status_code == 200 and passed.json()["state"] == "pending", passed.text
    refused = city.web(
        "ga.admin", "POST", f"{url}/decision", json={"decision": "refuse", "reason": "不属于救助职能范围"}
    )
    assert refused.status_code == 200, refused.text
    disputed = city.web("mz.admin", "POST", f"{url}/dispute", json={"reason": "低保审核属于救助职能"})
    assert disputed.status_code == 200 and disputed.json()["state"] == "negotiating", disputed.text
    settle = {"outcome": "reopen", "comment": "责成重新审批"}
    for user in outsiders:
        settled = city.web(user, "POST", f"{url}/settle", json=settle)
        offences += [f"{user} settles: {settled.status_code}"] if settled.status_code != 403 else []
    settled = city.web("reviewer", "POST", f"{url}/settle", json=settle)
    assert settled.status_code == 200 and settled.json()["state"] == "pending", settled.text
    assert not offences, report(offences)


def test_who_looked_at_me_is_for_the_auditor_only(city: City) -> None:
    city.grant()
    assert city.data("GET", f"/api/v1/data/{city.code}/records/{ZHANG}").status_code == 200
    url = f"/api/v1/audit/subjects/{ZHANG}"
    offences = []
    for user in ROLE_USERS:
        if user == "auditor":
            continue
        looked = city.web(user, "GET", url)
        offences += (
            [f"{user}: {looked.status_code}"] if looked.status_code != 403 or "mz-dbsh" in looked.text else []
        )
    as_key = city.data("GET", url)
    offences += [f"application key: {as_key.status_code}"] if as_key.status_code != 403 else []
    anonymous = city.client.get(url)
    offences += [f"anonymous: {anonymous.status_code}"] if anonymous.status_code != 401 else []
    trace = city.web("auditor", "GET", url)
    assert trace.status_code == 200, trace.text
    assert [(a["application"], a["action"]) for a in trace.json()["accesses"]] == [("mz-dbsh", "data.record")]
    assert not offences, report(offences)
