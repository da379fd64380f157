"""Issue #12, findings 1–3: source connections.

1. A data steward could point a mapping at the node's own database (or any other) and read password hashes
   and every department's records into their quarantine. Databases are now reached only through connections
   the platform administrator registered for a department, held to their allowed tables.
2. `${GOVSHARE_SECRET_KEY}` in a steward's URL was expanded and echoed back. Mappings hold no URL and no
   `${…}`; only the registry reads a URL.
3. Errors told open ports from closed ones and quoted the first bytes a service sent, and a MySQL URL at a
   silent port hung a batch forever. Every driver has timeouts, errors name the connection only, and a
   watchdog fails stuck batches.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from structlog.testing import capture_logs
from typer.testing import CliRunner

from govshare.auth.actor import Actor, grants_for_roles
from govshare.auth.permissions import Role
from govshare.cli.main import app as cli_app
from govshare.collection import connections, jobs, pipeline, service
from govshare.collection.connections import ConnectionCreate
from govshare.collection.mapping import load_mapping
from govshare.collection.schemas import SourceCreate
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.errors import InvalidInput, PermissionDenied
from govshare.models import Batch, Department, Resource, Source
from govshare.settings import Settings
from tests import factories
from tests.collection.helpers import MAPPING, setup
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET

ADMIN = Actor.system("test:admin")
RESOURCE = "测试人口信息"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    sources = tmp_path / "sources"
    sources.mkdir()
    return settings.model_copy(update={"source_dirs": str(sources), "source_connect_timeout_seconds": 2})


@pytest.fixture
def node(db: Database) -> Database:
    setup(db)
    return db


def mapping_with(source: dict[str, object]) -> str:
    data = yaml.safe_load(MAPPING)
    data["source"] = source
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def add(db: Database, name: str, kind: str, department: str, reference: str, tables: list[str]) -> None:
    with db.transaction() as session:
        connections.add_connection(
            session,
            ADMIN,
            ConnectionCreate(
                name=name, kind=kind, department=department, reference=reference, allowed_tables=tables
            ),
        )


def node_db_path(db: Database) -> Path | None:
    url = db.engine.url
    return Path(url.database).resolve() if url.drivername.startswith("sqlite") and url.database else None


# --- 1 and 2: a mapping holds no URL and no ${…} --------------------------------------------------------


def hostile_urls(db: Database) -> list[str]:
    own = node_db_path(db)
    urls = ["${GOVSHARE_DATABASE_URL}", "postgresql://postgres:${GOVSHARE_SECRET_KEY}@127.0.0.1:1/x"]
    if own is not None:
        urls += [f"sqlite:///{own}", f"sqlite:///{own}?mode=rw"]
    return urls


def test_a_steward_cannot_point_a_mapping_at_the_nodes_database_or_expand_its_secrets(
    node: Database, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", str(node.engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("GOVSHARE_SECRET_KEY", TEST_SECRET)
    headers = factories.login(client, "ga.steward")
    for index, url in enumerate(hostile_urls(node)):
        for source in (
            {"kind": "sqlite", "url": url, "query": "SELECT username, password_hash FROM app_user"},
            {"kind": "postgresql", "url": url, "table": "audit_entry"},
        ):
            response = client.post(
                "/api/v1/collection/sources",
                json={"resource": RESOURCE, "name": f"偷看{index}", "mapping": mapping_with(source)},
                headers=headers,
            )
            assert response.status_code == 422, (url, response.text)
            fields = {e["field"] for e in response.json()["errors"]}
            assert fields & {"source.url", "mapping.source.url"}, response.json()
            assert TEST_SECRET not in response.text and TEST_AUDIT_KEY not in response.text
    with node.transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0
        assert session.scalar(select(func.count()).select_from(Batch)) == 0


@pytest.mark.parametrize(
    "source",
    [
        {"kind": "csv", "encoding": "${GOVSHARE_SECRET_KEY}"},
        {"kind": "postgresql", "connection": "${GOVSHARE_AUDIT_KEY}", "table": "t"},
        {"kind": "postgresql", "connection": "公安人口库", "query": "SELECT '${GOVSHARE_SECRET_KEY}'"},
    ],
)
def test_any_environment_reference_in_a_mapping_is_refused_with_its_field(
    node: Database, source: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVSHARE_SECRET_KEY", TEST_SECRET)
    with pytest.raises(InvalidInput) as caught, node.transaction() as session:
        service.register_source(
            session, ADMIN, SourceCreate(resource=RESOURCE, name="x", mapping=mapping_with(source))
        )
    assert any(e.field.startswith("source.") for e in caught.value.errors), caught.value.errors
    assert "环境变量" in caught.value.message and TEST_SECRET not in caught.value.message


def test_a_connection_of_another_department_is_refused(
    node: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MZ_DB", "postgresql://postgres@127.0.0.1:5432/postgres")
    add(node, "民政库", "postgresql", "MZ", "env:MZ_DB", ["public.*"])
    steward = _steward(node, "GA")
    mapping = mapping_with({"connection": "民政库", "table": "public.dbdx"})
    with pytest.raises(InvalidInput, match="不存在或不属于本部门"), node.transaction() as session:
        service.register_source(
            session, steward, SourceCreate(resource=RESOURCE, name="借用", mapping=mapping)
        )


def _steward(db: Database, department: str) -> Actor:
    """The department's data steward, as the web edge builds the actor."""
    with db.transaction(readonly=True) as session:
        department_id = session.scalars(select(Department.id).where(Department.code == department)).one()
    roles = frozenset({Role.DATA_STEWARD})
    return Actor(
        kind="user",
        name=f"{department.lower()}.steward",
        department_id=department_id,
        department_code=department,
        roles=roles,
        grants=grants_for_roles(roles),
    )


# --- the administrator's registry --------------------------------------------------------------------------


def test_sqlite_connections_stay_inside_the_source_dirs_whatever_the_spelling(
    node: Database, settings: Settings, tmp_path: Path
) -> None:
    sources = Path(settings.source_dirs)
    good = sources / "ga.db"
    good.write_bytes(b"")
    outside = tmp_path / "elsewhere.db"
    outside.write_bytes(b"")
    data_file = settings.data_dir / "secret.db"
    data_file.parent.mkdir(parents=True, exist_ok=True)
    data_file.write_bytes(b"")
    refused = [str(outside), str(data_file), f"{sources}/../elsewhere.db", f"{good}?mode=rw", f"file:{good}"]
    own = node_db_path(node)
    if own is not None:
        (sources / "link.db").symlink_to(own)
        os.link(own, sources / "hard.db")
        refused += [str(own), str(sources / "link.db"), str(sources / "hard.db"), f"{sources}/../node.db"]
    (sources / "to_data").symlink_to(settings.data_dir)
    refused.append(str(sources / "to_data" / "secret.db"))
    for index, reference in enumerate(refused):
        with pytest.raises(InvalidInput):
            add(node, f"坏{index}", "sqlite", "GA", reference, ["t"])
    for reference in ("env:GOVSHARE_DATABASE_URL", "env:govshare_secret_key", "postgresql://u:p@h/db"):
        with pytest.raises(InvalidInput, match=r"GOVSHARE_|env:"):
            add(node, "坏环境", "postgresql", "GA", reference, ["t"])
    add(node, "公安库", "sqlite", "GA", str(good), ["rk"])


def test_stewards_see_their_departments_connections_never_where_the_url_is(
    node: Database, client: TestClient
) -> None:
    add(node, "公安人口库", "postgresql", "GA", "env:GA_RK_DB", ["rk.*"])
    add(node, "民政库", "mysql", "MZ", "file:/etc/govshare/mz.url", ["dbdx"])
    headers = factories.login(client, "ga.steward")
    seen = client.get("/api/v1/connections")
    assert seen.status_code == 200
    assert [(c["name"], c["reference"]) for c in seen.json()] == [("公安人口库", None)]
    assert "GA_RK_DB" not in seen.text
    assert client.get("/api/v1/connections/民政库").status_code == 404
    body = {"name": "x", "kind": "sqlite", "department": "GA", "reference": "/x.db", "allowed_tables": ["t"]}
    assert client.post("/api/v1/connections", json=body, headers=headers).status_code == 403
    assert client.post("/api/v1/connections/公安人口库/disable", headers=headers).status_code == 403
    admin = factories.login(client, "admin")
    listed = client.get("/api/v1/connections").json()
    assert {c["name"]: c["reference"] for c in listed} == {
        "公安人口库": "env:GA_RK_DB",
        "民政库": "file:/etc/govshare/mz.url",
    }
    assert client.post("/api/v1/connections/民政库/disable", headers=admin).json()["enabled"] is False


def _resolved(kind: str, tables: tuple[str, ...]) -> connections.Resolved:
    return connections.Resolved("公安人口库", kind, "unused://", tables, 1, 1)


@pytest.mark.parametrize(
    ("kind", "query"),
    [
        ("postgresql", "SELECT username, password_hash FROM app_user"),
        ("postgresql", "SELECT * FROM rk.jbxx UNION ALL SELECT * FROM public.audit_entry"),
        ("postgresql", "SELECT * FROM rk.jbxx WHERE 身份证号 IN (SELECT detail FROM audit_entry)"),
        ("postgresql", "SELECT pg_read_file('/etc/passwd')"),
        ("postgresql", "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)"),
        ("postgresql", "SELECT * FROM pg_catalog.pg_authid"),
        ("postgresql", "SELECT * FROM rk.jbxx; DELETE FROM rk.jbxx"),
        ("postgresql", "DELETE FROM rk.jbxx RETURNING *"),
        ("postgresql", "SELECT * FROM other_db.rk.jbxx"),
        ("mysql", "SELECT load_file('/etc/passwd') FROM jbxx"),
        ("mysql", "SELECT * FROM mysql.user"),
        ("sqlite", "SELECT * FROM rs_1"),
    ],
)
def test_a_query_cannot_escape_its_connections_tables(kind: str, query: str) -> None:
    allowed = ("rk.*", "jbxx") if kind != "sqlite" else ("jbxx",)
    with pytest.raises(InvalidInput) as caught:
        connections.checked_query(_resolved(kind, allowed), query)
    assert caught.value.errors[0].field == "source.query"


def test_a_checked_query_runs_without_its_comments() -> None:
    """MySQL executes /*! … */ comments; the query that runs is sqlglot's, without comments."""
    checked = connections.checked_query(
        _resolved("mysql", ("jbxx",)), "SELECT 身份证号 FROM jbxx /*! UNION SELECT user FROM mysql.user */"
    )
    assert "mysql.user" not in checked and "jbxx" in checked
    cte = "WITH x AS (SELECT * FROM rk.jbxx) SELECT * FROM x"
    assert "rk.jbxx" in connections.checked_query(_resolved("postgresql", ("rk.*",)), cte)


# --- 3: timeouts, generic errors, the watchdog -------------------------------------------------------------


class FakeService:
    """A local TCP port that accepts connections and sends `greeting` (or nothing), then stays silent."""

    def __init__(self, greeting: bytes) -> None:
        self.greeting = greeting
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.clients: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.clients.append(conn)
            if self.greeting:
                conn.sendall(self.greeting)

    def close(self) -> None:
        self.server.close()
        for conn in self.clients:
            conn.close()


@pytest.fixture(params=[b"", b"HTTP/1.1 400 Bad Request\r\nServer: Xyzzy-7\r\n\r\n"], ids=["silent", "http"])
def fake_service(request: pytest.FixtureRequest) -> Iterator[FakeService]:
    service_ = FakeService(request.param)
    yield service_
    service_.close()


@pytest.mark.parametrize("scheme", ["mysql", "postgresql"])
def test_a_port_that_is_no_database_fails_the_batch_in_time_with_a_generic_message(
    node: Database,
    client: TestClient,
    fake_service: FakeService,
    monkeypatch: pytest.MonkeyPatch,
    scheme: str,
    cli_env: None,
) -> None:
    url = f"{scheme}://root:Pw-9x2@127.0.0.1:{fake_service.port}/test"
    monkeypatch.setenv("GA_RK_DB", url)
    add(node, "公安人口库", scheme, "GA", "env:GA_RK_DB", ["rk"])
    mapping = mapping_with({"connection": "公安人口库", "table": "rk"})
    with node.transaction() as session:
        source = service.register_source(
            session, ADMIN, SourceCreate(resource=RESOURCE, name="人口库", mapping=mapping)
        )
        started = service.start_source_run(session, ADMIN, source.id)
    began = time.monotonic()
    with capture_logs() as logs:
        batch = jobs.run_started(node, ADMIN, started)
    logged = repr(logs)
    assert "source connect failed" in logged and "Pw-9x2" not in logged and url not in logged
    assert time.monotonic() - began < 2 * 2 + 3  # the connect timeout (2 s, handshake included), not forever
    assert batch.status == "failed"
    assert batch.error == "无法连接数据源“公安人口库”"
    factories.login(client, "ga.steward")
    answer = client.get(f"/api/v1/collection/batches/{batch.id}").text
    cli = CliRunner().invoke(cli_app, ["batches", "show", str(batch.id)])
    for shown in (answer, cli.stdout, batch.origin, batch.mapping):
        for leak in (
            str(fake_service.port),
            "127.0.0.1",
            "Pw-9x2",
            "HTTP",
            "Xyzzy",
            "GA_RK_DB",
            scheme + "://",
        ):
            assert leak not in shown, (leak, shown)


def _stuck_batch(db: Database, minutes: int = 60) -> int:
    """A running batch of this very (live) process whose heartbeat stopped `minutes` ago."""
    host, pid = pipeline.process_identity()
    with db.transaction() as session:
        resource = session.scalars(select(Resource)).first()
        assert resource is not None
        then = utcnow() - timedelta(minutes=minutes)
        batch = Batch(
            resource_id=resource.id,
            department_id=resource.department_id,
            kind="run",
            origin="卡住的批次",
            mapping="-",
            mode="full",
            status="running",
            started_by="test",
            started_at=utcnow() - timedelta(seconds=1),
            heartbeat_at=then,
            host=host,
            pid=pid,
        )
        session.add(batch)
        session.flush()
        return batch.id


def test_the_watchdog_verb_fails_stuck_batches_and_frees_their_resource(
    node: Database, cli_env: None
) -> None:
    stuck = _stuck_batch(node)
    result = CliRunner().invoke(cli_app, ["batches", "watchdog", "--json"])
    assert result.exit_code == 0, result.stdout
    with node.transaction(readonly=True) as session:
        batch = session.get_one(Batch, stuck)
        assert (batch.status, batch.phase) == ("failed", "done")
        assert batch.error is not None and "心跳" in batch.error


def test_any_start_fails_the_nodes_stuck_batches(node: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    stuck = _stuck_batch(node)
    with node.transaction() as session:
        session.execute(
            Batch.__table__.update().where(Batch.id == stuck).values(resource_id=_other_resource(node))
        )
    with node.transaction() as session:
        service.start_push(session, ADMIN, _push_source(node), 1)
    with node.transaction(readonly=True) as session:
        assert session.get_one(Batch, stuck).status == "failed"


def _other_resource(db: Database) -> int:
    from tests.catalog.helpers import apply
    from tests.collection.helpers import PEOPLE

    apply(db, {**PEOPLE, "name": "测试人口信息副本"})
    with db.transaction(readonly=True) as session:
        return max(session.scalars(select(Resource.id)))


def _push_source(db: Database) -> int:
    with db.transaction() as session:
        return service.register_source(
            session,
            ADMIN,
            SourceCreate(resource=RESOURCE, name="推送", mapping=mapping_with({"kind": "push"})),
        ).id


def test_only_the_platform_admin_registers_connections(node: Database) -> None:
    with pytest.raises(PermissionDenied), node.transaction() as session:
        connections.add_connection(
            session,
            _steward(node, "GA"),
            ConnectionCreate(name="x", kind="sqlite", department="GA", reference="/x", allowed_tables=["t"]),
        )


def test_the_console_cannot_ingest_the_nodes_own_files(
    node: Database, settings: Settings, tmp_path: Path
) -> None:
    """`govshare ingest RESOURCE FILE`: the operator's file may be anywhere but the node's database and data
    directory (another batch's scratch files, download caches)."""
    scratch = settings.data_dir / "work" / "batch-1-quarantine.csv"
    scratch.parent.mkdir(parents=True, exist_ok=True)
    scratch.write_text("身份证号\n", encoding="utf-8")
    (tmp_path / "to_data").symlink_to(settings.data_dir)
    refused = [scratch, tmp_path / "to_data" / "work" / "batch-1-quarantine.csv"]
    own = node_db_path(node)
    if own is not None:
        (tmp_path / "people.csv").symlink_to(own)
        refused += [own, tmp_path / "people.csv", Path(f"{own}-wal")]
    for path in refused:
        with pytest.raises(InvalidInput, match="节点自己的数据库或数据目录"), node.transaction() as session:
            service.start_ingest(
                session, ADMIN, RESOURCE, load_mapping(MAPPING, base_dir=tmp_path), source_path=str(path)
            )
    with node.transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 0


def test_the_scheduler_round_fails_stuck_batches(node: Database) -> None:
    stuck = _stuck_batch(node)
    assert jobs.run_due(node, ADMIN) == []  # nothing due
    with node.transaction(readonly=True) as session:
        assert session.get_one(Batch, stuck).status == "failed"


def test_the_connections_module_declares_every_check() -> None:
    """tests/web/test_route_authorization.py walks modules named *service; the registry is `connections`."""
    import inspect

    undeclared = [
        name
        for name, function in inspect.getmembers(connections, inspect.isfunction)
        if not name.startswith("_")
        and function.__module__ == connections.__name__
        and not hasattr(function, "__govshare_action__")
    ]
    assert undeclared == []


@pytest.mark.postgres_only  # on SQLite the node's file is refused by path (see the SQLite test)
def test_a_connection_to_the_nodes_own_postgresql_database_is_refused_when_used(
    node: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even the administrator's connection cannot reach the node's own database (whatever the variable's
    name, and with localhost for 127.0.0.1); the run starts no batch."""
    url = node.engine.url
    assert url.drivername.startswith("postgresql")
    spelled = url.set(drivername="postgresql", host="localhost").render_as_string(hide_password=False)
    monkeypatch.setenv("GA_RK_DB", spelled)
    add(node, "公安人口库", "postgresql", "GA", "env:GA_RK_DB", ["public.*"])
    mapping = mapping_with({"connection": "公安人口库", "table": "public.app_user"})
    with node.transaction() as session:
        source = service.register_source(
            session, ADMIN, SourceCreate(resource=RESOURCE, name="自身", mapping=mapping)
        )
    with pytest.raises(InvalidInput, match="不可用") as caught, node.transaction() as session:
        service.start_source_run(session, ADMIN, source.id)
    assert "localhost" not in caught.value.message and str(url.database) not in caught.value.message
    with node.transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 0
