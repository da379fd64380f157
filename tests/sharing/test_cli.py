"""`govshare sharing ...`: apply, approve, refuse, subscribe, grants, revoke, deadlines, usage, trace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from govshare.cli.main import app
from govshare.core.db import Database
from tests import factories
from tests.sharing.helpers import PURPOSE, ZHANG, resource_code, setup

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout + (result.stderr or "")


@pytest.fixture
def code(db: Database, cli_env: None, tmp_path: Path) -> str:
    setup(db, tmp_path)
    return resource_code(db)


def test_apply_approve_grants_and_revoke(code: str) -> None:
    status, out = invoke(
        "sharing", "apply", "--app", "mz-dbsh", "--resource", code, "--purpose-kind", "data_check",
        "--purpose", "低保资格审核", "--basis", "《社会救助暂行办法》", "--items", "gmsfhm,xm,qx",
        "--scope", "qx=110105,110106", "--days", "90", "--json",
    )  # fmt: skip
    assert status == 0, out
    request = json.loads(out)
    assert (request["state"], request["row_scope"]) == ("pending", {"qx": ["110105", "110106"]})
    number = request["number"]
    status, out = invoke(
        "sharing", "approve", number, "--scope", "qx=110105", "--reason", "仅限东城区", "--json"
    )
    assert status == 0, out
    decided = json.loads(out)
    assert decided["state"] == "partial" and decided["grant_id"]
    status, out = invoke("sharing", "grants", "--app", "mz-dbsh")
    assert status == 0 and "有效" in out and code in out
    status, out = invoke("sharing", "revoke", str(decided["grant_id"]), "--reason", "测试撤销")
    assert status == 0 and "已撤销" in out
    status, out = invoke("sharing", "requests", "--state", "partial", "--json")
    assert [r["number"] for r in json.loads(out)] == [number]


def test_refuse_requires_a_reason_and_bad_scope_is_a_usage_error(code: str) -> None:
    status, out = invoke(
        "sharing", "apply", "--app", "mz-dbsh", "--resource", code, "--purpose-kind", "data_check",
        "--purpose", "核对", "--basis", "依据", "--items", "gmsfhm", "--scope", "qx", "--json",
    )  # fmt: skip
    assert status == 2 and "信息项=取值" in out
    status, out = invoke(
        "sharing", "apply", "--app", "mz-dbsh", "--resource", code, "--purpose-kind", "data_check",
        "--purpose", "核对", "--basis", "依据", "--items", "gmsfhm", "--json",
    )  # fmt: skip
    number = json.loads(out)["number"]
    status, out = invoke("sharing", "refuse", number, "--reason", "否")
    assert status == 1 and "理由" in out
    status, out = invoke("sharing", "refuse", number, "--reason", "用途不符合共享条件")
    assert status == 0 and "不同意" in out


def test_subscribe_usage_deadlines_and_trace(code: str, client: TestClient, db: Database) -> None:
    status, out = invoke(
        "sharing", "subscribe", "--app", "rs-shbz", "--resource", code, "--purpose", "参保核对"
    )
    assert status == 0 and "已授权" in out
    keys = {"rs": factories.application_key(db, "rs-shbz", "RS")}
    got = client.get(
        f"/api/v1/data/{code}/records/{ZHANG}", headers={**factories.bearer(keys["rs"]), **PURPOSE}
    )
    assert got.status_code == 200 and set(got.json()) == {"gmsfhm", "xm"}
    status, out = invoke("sharing", "usage", "--group", "application", "--json")
    assert [(r["key"], r["calls"], r["rows"]) for r in json.loads(out)] == [("rs-shbz", 1, 1)]
    status, out = invoke("sharing", "deadlines", "--json")
    assert status == 0 and json.loads(out) == {"reminded": [], "escalated": []}
    status, out = invoke("sharing", "trace", ZHANG, "--json")
    assert status == 0
    assert [(a["application"], a["action"]) for a in json.loads(out)["accesses"]] == [
        ("rs-shbz", "data.record")
    ]
