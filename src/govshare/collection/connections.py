"""数据源连接: the registry of source database connections (issue #12).

A mapping never carries a database URL: it names a connection (`source.connection: 公安人口库`) that the
platform administrator registered for one department, with

- `kind`: postgresql, mysql (MariaDB/MySQL) or sqlite;
- `reference`: where the URL is read, only here and only when a batch or a test connects: `env:NAME` (an
  environment variable of the node's process; `GOVSHARE_*` refused, those are the node's own secrets) or
  `file:/path` (a file holding the URL, outside the node's data directory). A SQLite connection's
  reference is the database file's path, which must lie inside `GOVSHARE_SOURCE_DIRS` once resolved
  (symlinks and `..` followed), and is never the node's own database, its `-wal`/`-shm`/`-journal`, nor
  anything in `GOVSHARE_DATA_DIR`; it is opened read-only through a `file:…?mode=ro` URI built here;
- `allowed_tables`: `table`, `schema.table` or `schema.*` entries; a mapping's `table:` and every table a
  `query:` names (parsed with sqlglot; `sqlparse` would only split) must be among them, and a query calls
  no function sqlglot does not know (`pg_read_file`, `dblink`, `LOAD_FILE` …). The query that runs is the
  one sqlglot writes back out, without comments, so MySQL's executable `/*! … */` comments cannot smuggle
  a second statement past the check.

Nothing here returns or logs a URL: `Resolved.__repr__` hides it, failures name the connection only
(`无法连接数据源“名称”`), and the cause goes to the node's log with the URL redacted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import sqlglot
import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session
from sqlglot import exp
from sqlglot.errors import SqlglotError

from govshare.audit import service as audit
from govshare.auth import scope as row_scope
from govshare.auth.actor import Actor
from govshare.auth.guard import action, internal, require_scope
from govshare.auth.permissions import Permission, Scope
from govshare.auth.scope import RowScope
from govshare.collection.repository import CollectionRepository
from govshare.core.clock import utcnow
from govshare.core.inputs import Input
from govshare.core.node import node_config
from govshare.errors import Conflict, InvalidInput, NotFound
from govshare.identity import readers as identity_readers
from govshare.models import SourceConnection

log = structlog.get_logger("govshare.collection.connections")

MANAGE = Permission.CONNECTION_MANAGE
RUN = Permission.COLLECTION_RUN
KINDS = ("postgresql", "mysql", "sqlite")
DIALECTS = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}
_NAME = r"^[A-Za-z0-9_\-\u4e00-\u9fff]+$"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_TABLE = re.compile(r"[^\W\d]\w{0,62}(\.([^\W\d]\w{0,62}|\*))?")
_SCHEMES = {"postgresql": ("postgresql", "postgres"), "mysql": ("mysql", "mariadb")}
_LOOPBACK = {"", "localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104 - compared, never bound


class ConnectionCreate(Input):
    name: str = Field(min_length=1, max_length=100, pattern=_NAME, description="连接名称（映射中引用）")
    kind: Literal["postgresql", "mysql", "sqlite"]
    department: str = Field(min_length=1, max_length=32, description="所属部门代码")
    reference: str = Field(
        min_length=1, max_length=500, description="连接地址所在：env:变量名 或 file:/路径；SQLite 为文件路径"
    )
    allowed_tables: list[str] = Field(min_length=1, max_length=500, description="允许读取的表")

    @field_validator("allowed_tables")
    @classmethod
    def _tables(cls, value: list[str]) -> list[str]:
        cleaned = []
        for entry in value:
            entry = entry.strip()
            if not _TABLE.fullmatch(entry):
                raise ValueError(f"表“{entry}”无效：写作 表、模式.表 或 模式.*")
            cleaned.append(entry)
        return list(dict.fromkeys(cleaned))


class ConnectionOut(BaseModel):
    """What is shown of a connection. `reference` (where the URL is read, never the URL) only to those who
    manage connections."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    department_id: int
    allowed_tables: list[str]
    enabled: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    reference: str | None = None


@dataclass(frozen=True)
class Resolved:
    """A connection ready to open: the URL is here and only here (never in repr, logs or errors)."""

    name: str
    kind: str
    url: str = field(repr=False)
    allowed: tuple[str, ...]
    connect_timeout: int
    read_timeout: int


def _denied(name: str) -> InvalidInput:
    # the same answer for a name that does not exist and one of another department (no enumeration)
    return InvalidInput.on("source.connection", f"数据源连接“{name}”不存在或不属于本部门")


def _visible(actor: Actor) -> RowScope:
    """Every connection for a node-wide manager or runner; else the actor's department's."""
    managed = row_scope.for_actor(actor, MANAGE)
    return managed if managed.all_departments else row_scope.for_actor(actor, RUN)


def _out(connection: SourceConnection, actor: Actor) -> ConnectionOut:
    out = ConnectionOut.model_validate(connection)
    if actor.scope_of(MANAGE) == Scope.ALL:
        out.reference = connection.reference
    else:
        out.reference = None
    return out


def _by_name(session: Session, name: str) -> SourceConnection | None:
    return CollectionRepository(session).connection_by_name(name)


# ---------------------------------------------------------------- where a node keeps itself


def _node_files(session: Session) -> list[Path]:
    """The node's own SQLite database file and its sidecars (none when the node runs on PostgreSQL)."""
    url = session.get_bind().engine.url
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return []
    base = Path(url.database).resolve()
    return [base, *(base.with_name(base.name + s) for s in ("-wal", "-shm", "-journal"))]


def _is_node_file(session: Session, path: Path) -> bool:
    data_dir = node_config(session).data_dir.resolve()
    if path == data_dir or path.is_relative_to(data_dir):
        return True
    for own in _node_files(session):
        if path == own:
            return True
        try:
            if own.exists() and path.samefile(own):  # a hard link to the node's database
                return True
        except OSError:
            continue
    return False


def _resolve_file(raw: str, where: str) -> Path:
    try:
        return Path(raw).expanduser().resolve(strict=True)
    except (OSError, RuntimeError):
        raise InvalidInput.on(where, "文件不存在或不可读") from None


@internal("checks a path the platform administrator gave; callers authorized the action")
def sqlite_path(session: Session, raw: str, where: str = "reference") -> Path:
    """A SQLite source file as it really is (symlinks and `..` followed): inside GOVSHARE_SOURCE_DIRS,
    never the node's own database or data directory."""
    config = node_config(session)
    if "?" in raw or raw.lower().startswith(("file:", "sqlite:")):
        raise InvalidInput.on(where, "SQLite 数据源只写文件路径，不能带 URI 或参数")
    path = _resolve_file(raw, where)
    if _is_node_file(session, path):
        raise InvalidInput.on(where, "不能读取节点自己的数据库或数据目录")
    roots = [d.resolve() for d in config.source_dirs]
    if not any(path.is_relative_to(root) for root in roots):
        raise InvalidInput.on(where, "文件不在平台管理员配置的数据源目录（GOVSHARE_SOURCE_DIRS）之内")
    if not path.is_file():
        raise InvalidInput.on(where, "不是文件")
    return path


@internal("the CLI's own file argument: the console operator may read any file but the node's own")
def check_operator_file(session: Session, raw: str) -> None:
    """A file named at the console (`govshare ingest FILE`): anything but the node's database and data
    directory. A file that does not exist is left to the run, which fails the batch saying so."""
    path = Path(raw).expanduser().resolve()  # not strict: symlinks and `..` of what exists are followed
    if _is_node_file(session, path):
        raise InvalidInput.on("source", "不能归集节点自己的数据库或数据目录中的文件")


def _check_reference(session: Session, kind: str, reference: str) -> None:
    if kind == "sqlite":
        sqlite_path(session, reference)
        return
    scheme, _, rest = reference.partition(":")
    if scheme == "env":
        if not _ENV_NAME.fullmatch(rest):
            raise InvalidInput.on("reference", "环境变量名不合法")
        if rest.upper().startswith("GOVSHARE_"):
            raise InvalidInput.on("reference", "不能引用节点自己的设置（GOVSHARE_ 开头的环境变量）")
        return
    if scheme == "file":
        path = Path(rest)
        if not path.is_absolute():
            raise InvalidInput.on("reference", "file: 后须是绝对路径")
        if _is_node_file(session, path.resolve()):
            raise InvalidInput.on("reference", "不能引用节点自己的数据库或数据目录中的文件")
        return
    raise InvalidInput.on("reference", "连接地址须写作 env:环境变量名 或 file:/文件路径（地址本身不入库）")


def _read_url(session: Session, connection: SourceConnection) -> str:
    """The URL the reference points at; a failure names the connection only (the cause is logged)."""
    kind, reference = connection.kind, connection.reference
    try:
        if kind == "sqlite":
            return "sqlite:///" + str(sqlite_path(session, reference))
        scheme, _, rest = reference.partition(":")
        _check_reference(session, kind, reference)
        if scheme == "env":
            url = os.environ.get(rest, "").strip()
        else:
            path = Path(rest).resolve(strict=True)
            if _is_node_file(session, path):
                raise InvalidInput.on("reference", "不能引用节点自己的数据库或数据目录中的文件")
            url = path.read_text(encoding="utf-8").strip()
        if not url:
            raise InvalidInput.on("reference", "引用的连接地址为空或未设置")
        _check_url(session, kind, url)
        return url
    except (InvalidInput, OSError, UnicodeDecodeError) as exc:
        log.warning("source connection unusable", connection=connection.name, cause=_cause(exc))
        raise InvalidInput.on(
            "source.connection", f"数据源连接“{connection.name}”不可用，请联系平台管理员"
        ) from None


def _cause(exc: BaseException) -> str:
    return getattr(exc, "message", None) or type(exc).__name__


def _check_url(session: Session, kind: str, url: str) -> None:
    try:
        given = make_url(url)
    except (ArgumentError, ValueError):
        raise InvalidInput.on("reference", "连接地址格式不正确") from None
    base = given.drivername.split("+", 1)[0].lower()
    if base not in _SCHEMES[kind]:
        raise InvalidInput.on("reference", f"连接地址的类型与连接类型 {kind} 不符")
    node = session.get_bind().engine.url
    node_base = node.drivername.split("+", 1)[0]
    if kind == "postgresql" and node_base == "postgresql" and given.database == node.database:
        same_host = (given.host or "") == (node.host or "") or (
            (given.host or "") in _LOOPBACK and (node.host or "") in _LOOPBACK
        )
        if same_host and (given.port or 5432) == (node.port or 5432):
            raise InvalidInput.on("reference", "不能连接节点自己的数据库")


# ---------------------------------------------------------------- the tables a mapping may read


def _allowed(allowed: tuple[str, ...], schema: str, table: str) -> bool:
    schema, table = schema.lower(), table.lower()
    for entry in allowed:
        owner, _, name = entry.lower().rpartition(".")
        if owner == schema and name in (table, "*"):
            return True
    return False


@internal("holds a mapping's table to its connection; callers authorized the action")
def check_table(connection: Resolved | SourceConnection, table: str) -> None:
    schema, _, name = table.rpartition(".")
    if not _allowed(_allowed_of(connection), schema, name):
        raise InvalidInput.on("source.table", f"表“{table}”不在数据源连接“{connection.name}”允许读取的范围内")


def _allowed_of(connection: Resolved | SourceConnection) -> tuple[str, ...]:
    if isinstance(connection, Resolved):
        return connection.allowed
    return tuple(connection.allowed_tables)


@internal("holds a mapping's query to its connection; callers authorized the action")
def checked_query(connection: Resolved | SourceConnection, query: str) -> str:
    """The query as it will run (rewritten by sqlglot, without comments), after checking that it is one
    SELECT that reads only allowed tables and calls only functions sqlglot knows."""
    dialect = DIALECTS[connection.kind]
    try:
        statements = [s for s in sqlglot.parse(query, read=dialect) if s is not None]
    except SqlglotError:
        raise InvalidInput.on("source.query", "查询无法解析，请检查 SQL 语法") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise InvalidInput.on("source.query", "查询须是一条 SELECT 语句")
    tree = statements[0]
    allowed = _allowed_of(connection)
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for node in tree.find_all(exp.Func):
        if isinstance(node, exp.Anonymous):
            raise InvalidInput.on("source.query", f"查询中不能调用函数 {str(node.name).lower()}")
    for table in tree.find_all(exp.Table):
        if not table.name:
            raise InvalidInput.on("source.query", "查询只能从表中读取")
        if not table.db and table.name.lower() in ctes:
            continue
        if table.catalog or not _allowed(allowed, table.db, table.name):
            written = ".".join(p for p in (table.catalog, table.db, table.name) if p)
            raise InvalidInput.on(
                "source.query", f"查询读取的表“{written}”不在数据源连接“{connection.name}”允许读取的范围内"
            )
    for forbidden in (exp.Into, exp.Lock):
        if tree.find(forbidden) is not None:
            raise InvalidInput.on("source.query", "查询只能读取数据")
    return tree.sql(dialect=dialect, comments=False)


# ---------------------------------------------------------------- actions


@action(MANAGE)
def add_connection(session: Session, actor: Actor, data: ConnectionCreate) -> ConnectionOut:
    """Register a department's source connection (the platform administrator)."""
    department = identity_readers.department_by_code(session, data.department)
    if department is None:
        raise InvalidInput.on("department", f"部门“{data.department}”不存在")
    require_scope(actor, MANAGE, department_id=department.id, action_name="collection.connection_add")
    if _by_name(session, data.name) is not None:
        raise Conflict(f"数据源连接“{data.name}”已存在")
    _check_reference(session, data.kind, data.reference)
    connection = SourceConnection(
        name=data.name,
        kind=data.kind,
        department_id=department.id,
        reference=data.reference,
        allowed_tables=data.allowed_tables,
        created_by=actor.name,
    )
    session.add(connection)
    session.flush()
    audit.record(
        session,
        actor,
        "collection.connection_add",
        target_type="connection",
        target_id=data.name,
        detail={"kind": data.kind, "department": data.department, "tables": data.allowed_tables},
    )
    return _out(connection, actor)


@action(MANAGE, RUN)
def list_connections(session: Session, actor: Actor) -> list[ConnectionOut]:
    """Every connection for the administrator; a department's staff see their own (never the URL)."""
    found = CollectionRepository(session).connections(_visible(actor))
    return [_out(c, actor) for c in found]


@action(MANAGE, RUN)
def get_connection(session: Session, actor: Actor, name: str) -> ConnectionOut:
    found = _by_name(session, name)
    if found is None or not _visible(actor).allows(found.department_id):
        raise NotFound(f"数据源连接“{name}”不存在")
    return _out(found, actor)


@action(MANAGE)
def set_enabled(session: Session, actor: Actor, name: str, enabled: bool) -> ConnectionOut:
    found = _by_name(session, name)
    if found is None:
        raise NotFound(f"数据源连接“{name}”不存在")
    found.enabled = enabled
    found.updated_at = utcnow()
    audit.record(
        session,
        actor,
        "collection.connection_enable" if enabled else "collection.connection_disable",
        target_type="connection",
        target_id=name,
    )
    return _out(found, actor)


@action(MANAGE)
def check_connection(session: Session, actor: Actor, name: str) -> str:
    """Connect and run `SELECT 1`; the answer is generic, the cause is in the node's log."""
    from govshare.collection.readers.databases import probe

    found = _by_name(session, name)
    if found is None:
        raise NotFound(f"数据源连接“{name}”不存在")
    resolved = _resolved(session, found)
    ok = probe(resolved.url, name=name, connect_timeout=resolved.connect_timeout)
    audit.record(
        session,
        actor,
        "collection.connection_test",
        target_type="connection",
        target_id=name,
        detail={"ok": ok},
    )
    return f"数据源连接“{name}”连接成功" if ok else f"无法连接数据源“{name}”"


def _resolved(session: Session, connection: SourceConnection) -> Resolved:
    config = node_config(session)
    return Resolved(
        name=connection.name,
        kind=connection.kind,
        url=_read_url(session, connection),
        allowed=tuple(connection.allowed_tables),
        connect_timeout=config.source_connect_timeout_seconds,
        read_timeout=config.source_read_timeout_seconds,
    )


def _usable(session: Session, name: str, department_id: int) -> SourceConnection:
    found = _by_name(session, name)
    if found is None or found.department_id != department_id:
        raise _denied(name)
    if not found.enabled:
        raise InvalidInput.on("source.connection", f"数据源连接“{name}”已停用")
    return found


def _check_source(
    connection: Resolved | SourceConnection, table: str | None, query: str | None
) -> str | None:
    if table is not None:
        check_table(connection, table)
        return None
    if query is not None:
        return checked_query(connection, query)
    raise InvalidInput.on("source.table", "数据库来源须指定表名（table）或查询（query）")


@internal("collection.service authorized the department's source first")
def check_mapping(
    session: Session, name: str, department_id: int, table: str | None, query: str | None
) -> str:
    """The kind of the department's usable connection `name`, after checking the mapping's table or query
    against it (registering a source, starting an ingest)."""
    found = _usable(session, name, department_id)
    _check_source(found, table, query)
    return found.kind


@dataclass(frozen=True)
class Opened:
    """What a started batch reads: the connection, and the table or the query as it will run."""

    connection: Resolved
    table: str | None
    query: str | None


@internal("collection.service opens a batch's connection after authorizing the batch")
def open_for(session: Session, name: str, department_id: int, table: str | None, query: str | None) -> Opened:
    """The connection a batch of `department_id` uses: enabled, of that department, its table or query
    within the allowed tables, its URL read now."""
    found = _usable(session, name, department_id)
    resolved = _resolved(session, found)
    return Opened(resolved, table, _check_source(resolved, table, query))
