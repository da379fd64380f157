"""Database sources end to end, through `collection.service` and `collection.jobs`: tables and queries in
real MariaDB and PostgreSQL servers (tests/collection/readers/conftest.py; never skipped) loaded into the
PEOPLE resource of a node on SQLite and on PostgreSQL, through a connection the platform administrator
registered (`collection/connections.py`; the mappings name it, never a URL). Full loads, incremental runs of
a registered source from its saved cursor, versions and as-of reads, tombstones and full-load removals,
failures that change nothing, what registration refuses and stores, and scheduling by update cycle."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
import pymysql
import pytest
import yaml
from sqlalchemy import func, select

from govshare.collection import connections, jobs, service
from govshare.collection.connections import ConnectionCreate
from govshare.collection.schemas import BatchOut, SourceCreate, SourceOut
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.errors import InvalidInput
from govshare.models import Batch, QuarantineRow, Source
from govshare.models.audit import AuditEntry
from tests.collection.helpers import MAPPING, OPERATOR, current, ingest, person_id, quarantined, setup
from tests.collection.readers.conftest import MARIADB_URL, PG_URL

ENV = "GA_RKGL_DB"
CONNECTION = "公安人口库连接"
RESOURCE = "测试人口信息"
COLUMNS = ("身份证号", "姓名", "性别", "出生日期", "地址", "更新时间", "czbz")
T0 = datetime(2026, 1, 5, 9, 30, 0)  # the first extract
T1 = datetime(2026, 2, 1, 10, 0, 0)  # changes seen by the first incremental run
T2 = datetime(2026, 3, 1, 9, 0, 0)  # changes seen by the second

Row = tuple[str, str, str, date, str, datetime, str | None]  # the source columns, in COLUMNS order


class Person:
    """A valid ID number with its birth date and the 公安 sex code (0 男, 1 女) that agree with it."""

    def __init__(self, birth: str, sequence: int, name: str) -> None:
        self.id = person_id(birth, sequence)
        self.birth = date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
        self.sex = "0" if sequence % 2 else "1"  # the source's coding
        self.xb = "1" if sequence % 2 else "2"  # GB/T 2261.1, as stored
        self.name = name

    def row(self, address: str, updated: datetime, czbz: str | None = "U") -> Row:
        return (self.id, self.name, self.sex, self.birth, address, updated, czbz)


A = Person("19900307", 11, "张三")
B = Person("19851111", 22, "李四")
C = Person("19720130", 33, "王ＡＢ")  # full-width letters: `normalize: text` stores 王AB
D = Person("20010615", 44, "赵六")
E = Person("19990909", 55, "钱七")
F = Person("19950505", 67, "孙八")
G = Person("19881212", 78, "周九")
H = Person("19770707", 89, "吴十")
_BAD = person_id("19900307", 96)
BAD_ID = _BAD[:-1] + ("0" if _BAD[-1] != "0" else "1")  # wrong check digit: quarantined


def address(person: Person, version: int = 1) -> str:
    return f"北京市朝阳区测试路{person.id[-4:]}号（第{version}版）"


class SourceTable:
    """A people table in a real source database (MariaDB, or a schema of PostgreSQL's `postgres` database),
    written through the database's own driver; dropped by `drop`."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.kind = "mysql" if dialect == "mariadb" else "postgresql"  # the mapping's source.kind
        suffix = uuid.uuid4().hex[:12]
        if dialect == "mariadb":
            parts = urlsplit(MARIADB_URL)
            self.url = MARIADB_URL
            self.table = f"rk_{suffix}"
            self.conn: Any = pymysql.connect(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 3306,
                user=unquote(parts.username or "root"),
                password=unquote(parts.password or ""),
                database=parts.path.lstrip("/"),
                charset="utf8mb4",
                autocommit=True,
            )
            self.execute(
                f"CREATE TABLE {self.table} (身份证号 VARCHAR(18), 姓名 VARCHAR(40), 性别 CHAR(1), "
                "出生日期 DATE, 地址 VARCHAR(100), 更新时间 DATETIME, czbz CHAR(1)) DEFAULT CHARSET=utf8mb4"
            )
        else:
            self.url = PG_URL
            self.schema = f"src_{suffix}"
            self.table = f"{self.schema}.rk_jbxx"
            self.conn = psycopg.connect(PG_URL, autocommit=True)
            self.conn.execute("SET TIME ZONE 'Asia/Shanghai'")  # the times written are Beijing time
            self.conn.execute(f"CREATE SCHEMA {self.schema}")
            # 性别 as a number and 更新时间 with a time zone: the reader turns both into the text we map
            self.execute(
                f"CREATE TABLE {self.table} (身份证号 varchar(18), 姓名 varchar(40), 性别 smallint, "
                "出生日期 date, 地址 varchar(100), 更新时间 timestamptz, czbz char(1))"
            )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self.dialect == "mariadb":
            with self.conn.cursor() as cursor:
                cursor.execute(sql, tuple(params) or None)
        else:
            self.conn.execute(sql, tuple(params) or None)

    def insert(self, *rows: Row) -> None:
        for row in rows:
            values: list[Any] = list(row)
            if self.dialect == "postgresql":
                values[2] = int(values[2])
            marks = ", ".join(["%s"] * len(COLUMNS))
            self.execute(f"INSERT INTO {self.table} ({', '.join(COLUMNS)}) VALUES ({marks})", values)

    def update(self, person: Person, **values: Any) -> None:
        names = {"address": "地址", "updated": "更新时间", "czbz": "czbz", "name": "姓名"}
        assignments = ", ".join(f"{names[k]} = %s" for k in values)
        self.execute(
            f"UPDATE {self.table} SET {assignments} WHERE 身份证号 = %s", [*values.values(), person.id]
        )

    def delete(self, person: Person) -> None:
        self.execute(f"DELETE FROM {self.table} WHERE 身份证号 = %s", [person.id])

    @property
    def allowed(self) -> list[str]:
        return [self.table] if self.dialect == "mariadb" else [f"{self.schema}.*"]

    def drop(self) -> None:
        try:
            if self.dialect == "mariadb":
                self.execute(f"DROP TABLE IF EXISTS {self.table}")
            else:
                self.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        finally:
            self.conn.close()


def connect(db: Database, table: SourceTable) -> None:
    """The platform administrator registers the source database for GA: its URL in ${GA_RKGL_DB}."""
    with db.transaction() as session:
        connections.add_connection(
            session,
            OPERATOR,
            ConnectionCreate(
                name=CONNECTION,
                kind=table.kind,
                department="GA",
                reference=f"env:{ENV}",
                allowed_tables=table.allowed,
            ),
        )


@pytest.fixture(params=["mariadb", "postgresql"])
def source_table(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, node: Database
) -> Iterator[SourceTable]:
    """A source table on each source server, registered as GA's connection; ${GA_RKGL_DB} holds its URL."""
    table = SourceTable(request.param)
    monkeypatch.setenv(ENV, table.url)
    connect(node, table)
    yield table
    table.drop()


@pytest.fixture
def maria(monkeypatch: pytest.MonkeyPatch, node: Database) -> Iterator[SourceTable]:
    table = SourceTable("mariadb")
    monkeypatch.setenv(ENV, table.url)
    connect(node, table)
    yield table
    table.drop()


@pytest.fixture
def node(db: Database) -> Database:
    """The node (SQLite or PostgreSQL) with the PEOPLE resource published."""
    setup(db)
    return db


def db_mapping(
    kind: str | None,
    *,
    table: str | None = None,
    query: str | None = None,
    mode: str = "full",
    deleted: bool = False,
    connection: str = CONNECTION,
) -> str:
    """helpers.MAPPING reading a database table or query (through the connection) instead of a file."""
    data = yaml.safe_load(MAPPING)
    data["source"] = {
        **({"kind": kind} if kind else {}),
        "connection": connection,
        **({"table": table} if table is not None else {"query": query}),
    }
    data["mode"] = mode
    if deleted:
        data["deleted"] = {"column": "czbz", "values": ["D"]}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def register(db: Database, mapping: str, name: str = "公安人口库", cycle: str | None = None) -> SourceOut:
    with db.transaction() as session:
        return service.register_source(
            session, OPERATOR, SourceCreate(resource=RESOURCE, name=name, mapping=mapping, update_cycle=cycle)
        )


def run_source(db: Database, source_id: int, mode: str | None = None) -> BatchOut:
    with db.transaction() as session:
        started = service.start_source_run(session, OPERATOR, source_id, mode=mode)
    batch = jobs.run_started(db, OPERATOR, started)
    return batch_out(db, batch.id)


def batch_out(db: Database, batch_id: int) -> BatchOut:
    with db.transaction(readonly=True) as session:
        out = service.get_batch(session, OPERATOR, batch_id)
    assert out.read == out.accounted, f"read {out.read} != accounted {out.accounted}: {out}"
    return out


def source_state(db: Database, source_id: int) -> SourceOut:
    with db.transaction(readonly=True) as session:
        (found,) = [s for s in service.list_sources(session, OPERATOR) if s.id == source_id]
    return found


def counts(batch: BatchOut) -> dict[str, int]:
    names = ("read", "inserted", "updated", "unchanged", "superseded", "deleted", "empty", "rejected")
    return {n: getattr(batch, n) for n in (*names, "warnings", "removed")}


def expect(**given: int) -> dict[str, int]:
    names = ("read", "inserted", "updated", "unchanged", "superseded", "deleted", "empty", "rejected")
    return {n: given.get(n, 0) for n in (*names, "warnings", "removed")}


def by_id(db: Database) -> dict[str, dict[str, Any]]:
    return {r["gmsfhm"]: r for r in current(db)}


def as_of(db: Database, when: datetime, person: Person) -> list[dict[str, Any]]:
    with db.transaction() as session:
        return service.records(session, OPERATOR, RESOURCE, where={"gmsfhm": person.id}, as_of=when)


def now() -> datetime:
    return utcnow().replace(tzinfo=None)  # as the record tables store times (naive UTC)


def load_first_extract(node: Database, source: SourceTable) -> BatchOut:
    """The first extract (five people, an older duplicate of A, one bad ID number) loaded in full."""
    source.insert(
        (BAD_ID, "坏号码", "0", date(1990, 3, 7), "无", T0 - timedelta(days=2), "U"),
        A.row("旧地址（被同批较新的一行覆盖）", T0 - timedelta(days=1)),
        A.row(address(A), T0),
        B.row(address(B), T0 + timedelta(minutes=1)),
        C.row(address(C), T0 + timedelta(minutes=2)),
        D.row(address(D), T0 + timedelta(minutes=3)),
        E.row(address(E), T0 + timedelta(minutes=4)),
    )
    batch = ingest(node, None, db_mapping(source.kind, table=source.table))
    assert batch.status == "succeeded", batch.error
    return batch


# --- full, then incremental from the saved cursor --------------------------------------------------------


@pytest.mark.parametrize("registered_as", ["table", "query"])
def test_full_load_then_incremental_runs_from_the_saved_cursor(
    node: Database, source_table: SourceTable, registered_as: str
) -> None:
    full = load_first_extract(node, source_table)
    assert counts(full) == expect(read=7, inserted=5, superseded=1, rejected=1)
    assert full.mode == "full" and full.checksum and len(full.checksum) == 64
    assert full.cursor_to == "2026-01-05 09:34:00"
    (bad,) = quarantined(node, full.id)
    assert bad.column == "gmsfhm" and bad.row_no == 1  # record ordinal, the read is ordered by the cursor
    assert json.loads(bad.raw)["身份证号"] == BAD_ID

    stored = by_id(node)
    assert set(stored) == {A.id, B.id, C.id, D.id, E.id}
    a = stored[A.id]
    assert (a["xm"], a["xb"], a["csrq"], a["jzdz"], a["gxsj"]) == (
        "张三",
        "1",  # 公安 0 → GB/T 2261.1 1 (男)
        date(1990, 3, 7),
        address(A),
        T0,
    )
    assert type(a["csrq"]) is date and type(a["gxsj"]) is datetime
    assert a["_batch_id"] == full.id and a["_source_id"] is None and a["_valid_to"] is None
    assert (stored[B.id]["xb"], stored[C.id]["xm"], stored[C.id]["xb"]) == ("2", "王AB", "1")
    after_full = now()

    # Changes in the source: A moves, F is new.
    source_table.update(A, address=address(A, 2), updated=T1)
    source_table.insert(F.row(address(F), T1 + timedelta(hours=1)))
    query = (
        f"SELECT 身份证号, 姓名, 性别, 出生日期, 地址, 更新时间 FROM {source_table.table} "
        "WHERE 地址 NOT LIKE '%停用%'"
    )
    mapping = (
        db_mapping(source_table.kind, table=source_table.table, mode="incremental")
        if registered_as == "table"
        else db_mapping(source_table.kind, query=query, mode="incremental")
    )
    registered = register(node, mapping)
    assert registered.kind == ("mysql" if source_table.dialect == "mariadb" else "postgresql")
    assert registered.mode == "incremental" and registered.cursor_value is None

    # The source's first run has no cursor yet: it reads everything and upserts.
    first = run_source(node, registered.id)
    assert first.status == "succeeded", first.error
    assert first.mode == "incremental" and first.source_id == registered.id
    assert counts(first) == expect(read=8, inserted=1, updated=1, unchanged=4, superseded=1, rejected=1)
    state = source_state(node, registered.id)
    assert state.cursor_value == "2026-02-01 11:00:00" == first.cursor_to
    assert state.last_success_at is not None
    after_first = now()

    # More changes: B moves; G is new; H is new but out of service (the query leaves it out); C changes with
    # an update time before the cursor (a late commit: the documented blind spot of cursor reads).
    source_table.update(B, address=address(B, 2), updated=T2)
    source_table.insert(
        G.row(address(G), T2 + timedelta(hours=1)), H.row("北京市测试路（停用）", T2 + timedelta(minutes=30))
    )
    source_table.update(C, address=address(C, 2), updated=T0 + timedelta(days=3))

    second = run_source(node, registered.id)
    assert second.status == "succeeded", second.error
    if registered_as == "table":
        assert counts(second) == expect(read=3, inserted=2, updated=1)
    else:
        assert counts(second) == expect(read=2, inserted=1, updated=1)
    state = source_state(node, registered.id)
    assert state.cursor_value == "2026-03-01 10:00:00" == second.cursor_to

    stored = by_id(node)
    expected_ids = {A.id, B.id, C.id, D.id, E.id, F.id, G.id} | (
        {H.id} if registered_as == "table" else set()
    )
    assert set(stored) == expected_ids
    assert stored[B.id]["jzdz"] == address(B, 2) and stored[B.id]["gxsj"] == T2
    assert stored[B.id]["_batch_id"] == second.id and stored[B.id]["_source_id"] == registered.id
    assert stored[C.id]["jzdz"] == address(C)  # the late row was not read
    assert stored[G.id]["xb"] == "2" and stored[G.id]["csrq"] == date(1988, 12, 12)

    # Updates are versions: the old values are still there as of a time before the change.
    assert [r["jzdz"] for r in as_of(node, after_full, A)] == [address(A)]
    assert [r["jzdz"] for r in as_of(node, after_first, A)] == [address(A, 2)]
    assert [r["jzdz"] for r in as_of(node, after_first, B)] == [address(B)]
    assert [r["jzdz"] for r in as_of(node, now(), B)] == [address(B, 2)]
    assert as_of(node, after_full, F) == []

    # Nothing newer: nothing read, the cursor stays.
    third = run_source(node, registered.id)
    assert counts(third) == expect()
    assert third.status == "succeeded" and third.cursor_to is None
    assert source_state(node, registered.id).cursor_value == "2026-03-01 10:00:00"


# --- tombstones and removals -----------------------------------------------------------------------------


def test_tombstones_close_records_and_a_full_run_removes_vanished_rows(
    node: Database, source_table: SourceTable
) -> None:
    source_table.insert(
        A.row(address(A), T0),
        B.row(address(B), T0 + timedelta(minutes=1)),
        C.row(address(C), T0 + timedelta(minutes=2), czbz=None),  # no marker: a live row
        D.row(address(D), T0 + timedelta(minutes=3)),
    )
    registered = register(
        node, db_mapping(source_table.kind, table=source_table.table, mode="incremental", deleted=True)
    )
    full = run_source(node, registered.id, mode="full")
    assert full.status == "succeeded", full.error
    assert full.mode == "full"
    assert counts(full) == expect(read=4, inserted=4)
    assert source_state(node, registered.id).cursor_value == "2026-01-05 09:33:00"
    before_delete = now()

    # A is deleted at the source (with a name too long for the item: a tombstone only checks its key);
    # F was never loaded; the last tombstone has a bad key.
    source_table.update(A, czbz="D", updated=T1, name="张" * 30)
    source_table.insert(
        F.row(address(F), T1 + timedelta(minutes=1), czbz="D"),
        (BAD_ID, "坏号码", "0", date(1990, 3, 7), "无", T1 + timedelta(minutes=2), "D"),
    )
    incremental = run_source(node, registered.id)
    assert incremental.status == "succeeded", incremental.error
    assert incremental.mode == "incremental"
    assert counts(incremental) == expect(read=3, deleted=1, unchanged=1, rejected=1)
    assert set(by_id(node)) == {B.id, C.id, D.id}
    assert [r["xm"] for r in as_of(node, before_delete, A)] == ["张三"]  # history keeps the closed record
    (bad,) = quarantined(node, incremental.id)
    assert bad.column == "gmsfhm"

    # B vanishes from the source; a full run closes it.
    source_table.delete(B)
    reconcile = run_source(node, registered.id, mode="full")
    assert reconcile.status == "succeeded", reconcile.error
    # read: A (tombstone, nothing current), C, D, F (tombstone, nothing current), the bad key
    assert counts(reconcile) == expect(read=5, unchanged=4, rejected=1, removed=1)
    assert set(by_id(node)) == {C.id, D.id}
    assert [r["jzdz"] for r in as_of(node, before_delete, B)] == [address(B)]


# --- failures change nothing -----------------------------------------------------------------------------

_MY = urlsplit(MARIADB_URL)
BAD_URLS = {
    "wrong-password": (
        f"mysql://{_MY.username or 'root'}:Wr0ng-Secret@{_MY.hostname}:{_MY.port or 3306}{_MY.path}",
        "Wr0ng-Secret",
        f"无法连接数据源“{CONNECTION}”",
    ),
    "unreachable": ("mysql://root:S3cret-Pw@127.0.0.1:1/test", "S3cret-Pw", f"无法连接数据源“{CONNECTION}”"),
}


@pytest.mark.parametrize("case", list(BAD_URLS))
def test_an_unreachable_database_fails_the_batch_and_changes_nothing(
    node: Database, maria: SourceTable, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    first = load_first_extract(node, maria)
    registered = register(node, db_mapping(maria.kind, table=maria.table, mode="incremental"))
    good = run_source(node, registered.id)
    assert good.status == "succeeded", good.error
    before_records = current(node)
    before_source = source_state(node, registered.id)
    maria.update(B, address=address(B, 2), updated=T1)  # there would be something to load

    url, password, message = BAD_URLS[case]
    monkeypatch.setenv(ENV, url)
    failed_run = run_source(node, registered.id)
    failed_ingest = ingest(node, None, db_mapping(maria.kind, table=maria.table))
    for failed in (failed_run, failed_ingest):
        assert failed.status == "failed" and failed.phase == "done"
        assert failed.error == message, failed.error  # the connection's name only: no URL, host or cause
        assert password not in _stored_text(node)
        assert counts(failed) == expect()
        assert quarantined(node, failed.id) == []
    assert current(node) == before_records
    after_source = source_state(node, registered.id)
    assert (after_source.cursor_value, after_source.last_success_at) == (
        before_source.cursor_value,
        before_source.last_success_at,
    )
    with node.transaction(readonly=True) as session:
        statuses = session.execute(select(Batch.id, Batch.status).order_by(Batch.id)).all()
    assert [tuple(s) for s in statuses] == [
        (first.id, "succeeded"),
        (good.id, "succeeded"),
        (failed_run.id, "failed"),
        (failed_ingest.id, "failed"),
    ]

    # Fixed: the next run loads what was waiting.
    monkeypatch.setenv(ENV, maria.url)
    fixed = run_source(node, registered.id)
    assert counts(fixed) == expect(read=1, updated=1)


def test_an_unset_connection_url_starts_no_batch(
    node: Database, maria: SourceTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered = register(node, db_mapping(maria.kind, table=maria.table))
    monkeypatch.delenv(ENV)
    with pytest.raises(InvalidInput, match=f"数据源连接“{CONNECTION}”不可用") as caught:
        run_source(node, registered.id)
    assert ENV not in caught.value.message
    with node.transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 0


# --- registration ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [{"kind": "csv", "path": "/data/ga/rk.csv"}, {"path": "rk.xlsx"}, {"kind": "json", "path": "../rk.json"}],
)
def test_registration_refuses_a_local_file(node: Database, source: dict[str, str]) -> None:
    data = yaml.safe_load(MAPPING)
    data["source"] = source
    with pytest.raises(InvalidInput, match="本机文件路径"):
        register(node, yaml.safe_dump(data, allow_unicode=True))
    with node.transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0


def _stored_text(db: Database) -> str:
    """Everything the node stored about sources, batches, quarantine and audit, as one text."""
    with db.transaction(readonly=True) as session:
        parts = [
            *(s.mapping for s in session.scalars(select(Source))),
            *(
                f"{b.mapping}\n{b.origin}\n{b.error}\n{b.cursor_from}\n{b.cursor_to}"
                for b in session.scalars(select(Batch))
            ),
            *(f"{q.raw}\n{q.message}" for q in session.scalars(select(QuarantineRow))),
            *(json.dumps(e.detail, ensure_ascii=False) for e in session.scalars(select(AuditEntry))),
        ]
    return "\n".join(parts)


def test_the_stored_mapping_names_the_connection_never_the_url(
    node: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = SourceTable("postgresql")
    try:
        connect(node, source)
        source.insert(A.row(address(A), T0), B.row(address(B), T0))
        # PostgreSQL trusts local connections: the password is carried and ignored, so the run succeeds.
        secret = "S3cret-Pw-9f2c"
        url = urlsplit(PG_URL)
        monkeypatch.setenv(
            ENV, f"{url.scheme}://postgres:{secret}@{url.hostname}:{url.port or 5432}/postgres"
        )
        registered = register(node, db_mapping(source.kind, table=source.table))
        with node.transaction(readonly=True) as session:
            stored = session.scalars(select(Source.mapping).where(Source.id == registered.id)).one()
        assert yaml.safe_load(stored)["source"]["connection"] == CONNECTION
        batch = run_source(node, registered.id)
        assert batch.status == "succeeded", batch.error
        assert batch.inserted == 2
        everything = _stored_text(node)
        assert CONNECTION in everything
        assert secret not in everything and ENV not in everything and "postgres:" not in everything
    finally:
        source.drop()


def test_the_database_kind_comes_from_the_connection(node: Database, source_table: SourceTable) -> None:
    """docs/collection.md: `source: {connection: 公安人口库, table: rk_jbxx}` — no kind: the connection's."""
    source_table.insert(A.row(address(A), T0), B.row(address(B), T0))
    batch = ingest(node, None, db_mapping(None, table=source_table.table))
    assert batch.status == "succeeded", batch.error
    assert batch.inserted == 2
    registered = register(node, db_mapping(None, table=source_table.table, mode="incremental"))
    assert registered.kind == source_table.kind


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root:Wr0ng-Secret@127.0.0.1:3306/test",
        "mysql://root:${GA_DB_PW}@127.0.0.1:3306/test",  # the form accepted before connections
        "${GA_RKGL_DB}",
    ],
)
def test_a_url_written_into_the_mapping_is_refused(node: Database, url: str) -> None:
    """docs/collection.md: a mapping names a connection; a URL, with or without ${…}, is refused."""
    data = yaml.safe_load(db_mapping(None, table="rk_jbxx"))
    data["source"] = {"url": url, "table": "rk_jbxx"}
    literal = yaml.safe_dump(data, allow_unicode=True)
    with pytest.raises(InvalidInput, match=r"source\.connection") as caught:
        register(node, literal)
    assert caught.value.errors[0].field == "source.url"
    with contextlib.suppress(InvalidInput):
        ingest(node, None, literal)
    assert "Wr0ng-Secret" not in _stored_text(node)
    with node.transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0


def test_a_table_outside_the_connection_is_refused_at_registration(
    node: Database, source_table: SourceTable
) -> None:
    with pytest.raises(InvalidInput, match="允许读取的范围") as caught:
        register(node, db_mapping(None, table="public.app_user"))
    assert caught.value.errors[0].field == "source.table"
    with pytest.raises(InvalidInput, match="允许读取的范围") as caught:
        register(node, db_mapping(None, query=f"SELECT * FROM {source_table.table} JOIN app_user ON true"))
    assert caught.value.errors[0].field == "source.query"


# --- scheduling ------------------------------------------------------------------------------------------


def test_a_registered_database_source_is_due_until_it_has_run(node: Database, maria: SourceTable) -> None:
    maria.insert(A.row(address(A), T0), B.row(address(B), T0), C.row(address(C), T0))
    pulled = register(node, db_mapping(maria.kind, table=maria.table, mode="incremental"))
    data = yaml.safe_load(MAPPING)
    data["source"] = {"kind": "push"}
    pushed = register(node, yaml.safe_dump(data, allow_unicode=True), name="公安推送")
    assert pushed.kind == "push"

    with node.transaction(readonly=True) as session:
        due = service.due_sources(session, OPERATOR)
    assert [(d.source.id, d.due_since) for d in due] == [(pulled.id, None)]  # never run; push never due
    assert due[0].cycle == "daily"  # the resource's 每日

    finished = jobs.run_due(node, OPERATOR)
    assert [b.source_id for b in finished] == [pulled.id]
    ran = batch_out(node, finished[0].id)
    assert ran.status == "succeeded", ran.error
    assert counts(ran) == expect(read=3, inserted=3)
    assert set(by_id(node)) == {A.id, B.id, C.id}

    last = source_state(node, pulled.id).last_success_at
    assert last is not None
    with node.transaction(readonly=True) as session:
        assert service.due_sources(session, OPERATOR) == []
        assert service.due_sources(session, OPERATOR, now=last + timedelta(hours=23)) == []
        later = service.due_sources(session, OPERATOR, now=last + timedelta(days=1, minutes=1))
    assert [(d.source.id, d.due_since) for d in later] == [(pulled.id, last + timedelta(days=1))]
    assert jobs.run_due(node, OPERATOR) == []  # not due: nothing runs
