"""Taking a consistent copy of the database, and putting one back, on SQLite and PostgreSQL.

- SQLite: the online backup API copies the database in one step under a read lock (writers carry on under
  WAL), into a file that the digest is then computed on. Restoring copies the pages into the target with the
  same API.
- PostgreSQL: a REPEATABLE READ transaction exports its snapshot; `pg_dump -Fc --snapshot` dumps exactly what
  that transaction sees while the digest is computed in it, so the dump and its digest describe the same
  instant. `pg_restore --single-transaction` loads a dump into an empty database. The connection settings,
  password included, reach the client tools through libpq's environment variables, never through argv.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import Connection, create_engine, literal, select, table, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from govshare.backup.digest import ContentDigest, content_digest, table_names
from govshare.errors import Conflict, GovshareError, ServiceUnavailable

PG_TIMEOUT_SECONDS = 6 * 3600
_LIBPQ_QUERY = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
}


@dataclass(frozen=True)
class Snapshot:
    kind: str  # sqlite / postgresql
    part: Path  # the file holding the copy
    digest: ContentDigest
    audit_head: dict[str, object]
    server_version: str
    tool: str
    revision: str | None


def backend(url: str | URL) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise GovshareError(f"不支持备份或恢复这种数据库：{name}（只支持 SQLite 与 PostgreSQL）")
    return name


def _head_and_revision(connection: Connection) -> tuple[dict[str, object], str | None]:
    names = set(table_names(connection))
    head: dict[str, object] = {"seq": 0, "entry_hash": None, "key_check": None}
    if "audit_head" in names:
        row = connection.execute(text("SELECT seq, entry_hash, key_check FROM audit_head")).first()
        if row is not None:
            head = {"seq": int(row[0]), "entry_hash": row[1], "key_check": row[2]}
    revision = None
    if "alembic_version" in names:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return head, revision


# ---------------------------------------------------------------- SQLite


def sqlite_path(url: str | URL) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise GovshareError("内存中的 SQLite 数据库无法备份或恢复：请使用数据库文件")
    return Path(database)


def snapshot_sqlite(url: str | URL, target: Path) -> Snapshot:
    source_path = sqlite_path(url)
    if not source_path.exists():
        raise GovshareError(f"SQLite 数据库文件不存在：{source_path.name}")
    source = sqlite3.connect(source_path.resolve().as_uri() + "?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # pages=-1: one step, one read lock, a consistent copy
    finally:
        copy.close()
        source.close()
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            digest = content_digest(connection)
            head, revision = _head_and_revision(connection)
    finally:
        engine.dispose()
    version = sqlite3.sqlite_version
    return Snapshot("sqlite", target, digest, head, version, f"sqlite3 backup API {version}", revision)


def restore_sqlite(part: Path, url: str | URL) -> None:
    target_path = sqlite_path(url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(part.resolve().as_uri() + "?mode=ro", uri=True)
    target_path.touch(mode=0o600, exist_ok=True)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    target_path.chmod(0o600)  # the node's records: readable by the node's account only


# ---------------------------------------------------------------- PostgreSQL


@contextmanager
def libpq_env(url: str | URL) -> Iterator[dict[str, str]]:
    """The libpq environment that connects the client tools to `url`. The password goes into a temporary
    password file (mode 0600, removed afterwards) named by PGPASSFILE: never on argv, never in the
    environment, where `ps e` could show it."""
    parsed = make_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGDATABASE", parsed.database),
    ):
        if value is not None and str(value) != "":
            env[key] = str(value)
    for name, variable in _LIBPQ_QUERY.items():
        query_value = parsed.query.get(name)
        if isinstance(query_value, str):
            env[variable] = query_value
    if not parsed.password:
        yield env
        return
    escaped = str(parsed.password).replace("\\", "\\\\").replace(":", "\\:")
    fd, passfile = tempfile.mkstemp(prefix="govshare-pgpass-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"*:*:*:*:{escaped}\n")
        env["PGPASSFILE"] = passfile
        yield env
    finally:
        Path(passfile).unlink(missing_ok=True)


def _tool(bin_dir: Path | None, name: str) -> str:
    candidate = (bin_dir / name) if bin_dir else shutil.which(name)
    if candidate is None or not Path(candidate).exists():
        raise ServiceUnavailable(
            f"找不到 PostgreSQL 客户端程序 {name}：请安装与服务器同一大版本的客户端，"
            "或设置 GOVSHARE_BACKUP_PG_BIN_DIR"
        )
    return str(candidate)


def _tool_major(tool: str) -> tuple[int, str]:
    # S603: our own argument list (the configured client program), no shell, no secret on it.
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True, timeout=60).stdout  # noqa: S603
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if match is None:
        raise ServiceUnavailable(f"无法识别 {Path(tool).name} 的版本")
    return int(match.group(1)), out.strip()


def scrub(message: str, url: str | URL) -> str:
    password = make_url(url).password
    message = message.strip()[-800:]
    return message.replace(str(password), "***") if password else message


def conninfo(url: str | URL) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlalchemy_url(url: str | URL) -> URL:
    return make_url(url).set(drivername="postgresql+psycopg")


def snapshot_postgresql(url: str | URL, target: Path, bin_dir: Path | None) -> Snapshot:
    tool = _tool(bin_dir, "pg_dump")
    major, tool_version = _tool_major(tool)
    engine = create_engine(_sqlalchemy_url(url))
    try:
        with engine.connect() as plain:
            connection = plain.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                server_num = int(connection.execute(text("SHOW server_version_num")).scalar_one())
                server_version = str(connection.execute(text("SHOW server_version")).scalar_one())
                if major < server_num // 10000:
                    raise ServiceUnavailable(
                        f"pg_dump 版本（{major}）低于数据库服务器（{server_version}）："
                        "请安装同一大版本的客户端，或设置 GOVSHARE_BACKUP_PG_BIN_DIR"
                    )
                snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                with libpq_env(url) as env:
                    dump = subprocess.Popen(  # noqa: S603 - our argument list; the password is in a 0600 passfile
                        [
                            tool,
                            "--format=custom",
                            f"--snapshot={snapshot_id}",
                            "--no-password",
                            f"--file={target}",
                        ],
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                    try:
                        digest = content_digest(connection)  # in the same snapshot, while pg_dump reads it
                        head, revision = _head_and_revision(connection)
                        _, errors = dump.communicate(timeout=PG_TIMEOUT_SECONDS)
                    finally:
                        if dump.poll() is None:
                            dump.kill()
                            dump.wait()
                if dump.returncode != 0:
                    raise ServiceUnavailable(f"pg_dump 失败：{scrub(errors, url)}")
    finally:
        engine.dispose()
    return Snapshot("postgresql", target, digest, head, server_version, tool_version, revision)


def restore_postgresql(part: Path, url: str | URL, bin_dir: Path | None) -> None:
    """Load a dump into the (empty, or emptied) database at `url`, all or nothing."""
    tool = _tool(bin_dir, "pg_restore")
    database = make_url(url).database or ""
    with libpq_env(url) as env:
        done = _run_restore(tool, database, part, env)
    if done.returncode != 0:
        raise ServiceUnavailable(f"pg_restore 失败（目标数据库未改变）：{scrub(done.stderr, url)}")


def _run_restore(
    tool: str, database: str, part: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our argument list; the password is in a 0600 passfile
        [
            tool,
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={database}",
            str(part),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=PG_TIMEOUT_SECONDS,
        check=False,
    )


@contextmanager
def scratch_postgresql(server_url: str | URL) -> Iterator[str]:
    """A throwaway database on the server of `server_url`, dropped afterwards (needs CREATEDB)."""
    name = f"govshare_verify_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(conninfo(server_url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise ServiceUnavailable(
            "无法创建校验用的临时数据库（需要 CREATEDB 权限，或设置 GOVSHARE_BACKUP_VERIFY_DATABASE_URL）："
            f"{scrub(str(exc), server_url)}"
        ) from exc
    try:
        yield _sqlalchemy_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo(server_url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# ---------------------------------------------------------------- targets


def occupied_tables(url: str | URL) -> tuple[list[str], list[str]]:
    """(tables, tables holding rows) of the database at `url`; `alembic_version` alone is not content."""
    kind = backend(url)
    if kind == "sqlite" and not sqlite_path(url).exists():
        return [], []
    engine = create_engine(_sqlalchemy_url(url) if kind == "postgresql" else make_url(url))
    try:
        try:
            connection = engine.connect()
        except OperationalError as exc:
            raise ServiceUnavailable(f"无法连接目标数据库：{scrub(str(exc.orig), url)}") from exc
        with connection:
            names = table_names(connection)
            filled = [
                n
                for n in names
                if n != "alembic_version"
                and connection.execute(select(literal(1)).select_from(table(n)).limit(1)).first() is not None
            ]
    finally:
        engine.dispose()
    return names, filled


def clear_postgresql(url: str | URL) -> None:
    """Drop every table of the target's `public` schema (its sequences and triggers go with them), and the
    audit trigger function, so the dump loads into a clean schema."""
    with psycopg.connect(conninfo(url), autocommit=False) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        for name in tables:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier("public", name)))
        functions = conn.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.prokind = 'f' "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
        ).fetchall()
        for (signature,) in functions:
            conn.execute(sql.SQL("DROP FUNCTION IF EXISTS {} CASCADE").format(sql.SQL(signature)))
        conn.commit()


def content_digest_of(url: str | URL) -> ContentDigest:
    """The digest of the database at `url`, read in one transaction (REPEATABLE READ on PostgreSQL)."""
    kind = backend(url)
    if kind == "sqlite":
        path = sqlite_path(url)
        if not path.exists():
            raise GovshareError(f"SQLite 数据库文件不存在：{path.name}")
        engine = create_engine(make_url(url))
    else:
        engine = create_engine(_sqlalchemy_url(url))
    try:
        with engine.connect() as plain:
            connection = (
                plain.execution_options(isolation_level="REPEATABLE READ") if kind != "sqlite" else plain
            )
            with connection.begin():
                return content_digest(connection)
    finally:
        engine.dispose()


def ensure_target_is_empty(url: str | URL, *, force: bool) -> list[str]:
    """Refuse a target database that holds data unless `force`; returns its tables (to clear).

    Fresh means: no tables, or a schema that migrations created and nobody used. Migrations seed some tables
    themselves (code sets, the audit head), so "used" is read from the audit log: every change made through
    govshare writes an entry, and records (`rs_*`) only arrive through audited batches."""
    names, filled = occupied_tables(url)
    unused = (
        "audit_entry" in names
        and "audit_entry" not in filled
        and not any(n.startswith("rs_") for n in filled)
    )
    if filled and not unused and not force:
        shown = "、".join(filled[:5]) + ("等" if len(filled) > 5 else "")
        raise Conflict(
            f"目标数据库不是空的（{shown} 共 {len(filled)} 张表有数据）：只能恢复到新节点；"
            "确需覆盖请加 --force（现有数据将被删除）"
        )
    return names
