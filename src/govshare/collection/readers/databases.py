"""Database sources: a table or a query in PostgreSQL, MariaDB/MySQL or SQLite.

Rows stream with bounded memory: a PostgreSQL server-side (named) cursor, a pymysql `SSCursor` (unbuffered)
and SQLite's own cursor, each read with `fetchmany(chunk_rows)`; each batch of row tuples becomes a
Polars frame column by column, and every value becomes text as `values` describes (booleans "1"/"0").
PostgreSQL and MariaDB sessions are read-only, SQLite is opened read-only, so a `query` cannot change
anything.

Identifiers (a table, `schema.table`, the cursor column) must be plain identifiers (letters, digits,
underscores, CJK; not starting with a digit) and are quoted for the dialect as well, so nothing can be
smuggled in through them. With `cursor_column` the read is ordered by it, and with `after` too only
rows with `cursor_column > after` are read (`after` is a bound parameter; a query is wrapped as a
subquery). The checksum is SM3 over the CSV text of the rows produced (header first). Row numbers are
record ordinals.

Every driver has a connect timeout (covering the handshake and authentication) and a read timeout
(PostgreSQL `statement_timeout`, PyMySQL's read/write timeouts, SQLite's busy timeout), so a URL pointing
at a port that answers with something else, or nothing, fails the batch instead of hanging it. Errors are
generic and name the connection only (`无法连接数据源“名称”`): a driver's message can tell an open port
from a closed one and quote the first bytes a service sent, so it goes to the node's log (password
scrubbed), never to the batch, the API or the page.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import polars as pl
import psycopg
import pymysql  # type: ignore[import-untyped]
import pymysql.cursors  # type: ignore[import-untyped]
import structlog
from cryptography.hazmat.primitives import hashes

from govshare.collection.readers.base import ReaderOptions, SourceUnreadable
from govshare.collection.readers.common import ReaderState, clean_names
from govshare.collection.readers.values import column_text

log = structlog.get_logger("govshare.collection.sources")
_IDENT = re.compile(r"[^\W\d]\w{0,62}")
_CREDENTIALS = re.compile(r"(://[^/@\s:]*):[^@\s]*@")
DRIVER_ERRORS: tuple[type[Exception], ...] = (psycopg.Error, pymysql.MySQLError, sqlite3.Error, OSError)


def _dialect(scheme: str) -> str:
    base = scheme.split("+", 1)[0].lower()
    if base in ("postgresql", "postgres"):
        return "postgresql"
    if base in ("mysql", "mariadb"):
        return "mysql"
    if base == "sqlite":
        return "sqlite"
    raise SourceUnreadable(f"不支持的数据库类型“{scheme}”（支持 postgresql、mysql/mariadb、sqlite）")


class DatabaseReader(ReaderState):
    def __init__(
        self,
        url: str,
        table: str | None,
        query: str | None,
        cursor_column: str | None,
        after: str | None,
        options: ReaderOptions,
        *,
        name: str = "数据库",
        connect_timeout: int = 10,
        read_timeout: int = 300,
    ) -> None:
        super().__init__()
        self.url, self.options, self.name = url, options, name
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        parts = urlsplit(url)
        self.dialect = _dialect(parts.scheme)
        self.password = unquote(parts.password) if parts.password else ""
        self._secrets = {s for s in (self.password, parts.password or "") if s}
        if (table is None) == (query is None):
            raise SourceUnreadable("数据库来源须且只能指定表名（table）或查询（query）其中之一")
        if table is not None:
            for part in table.split("."):
                self._check_ident(part, "表名", table)
            if table.count(".") > 1:
                raise SourceUnreadable(f"表名“{table}”无效：最多为“模式.表”两段")
            self.what = f"表 {table}"
            source = f"{'.'.join(self._quote(p) for p in table.split('.'))} AS src"
        else:
            assert query is not None
            body = query.strip().rstrip(";").strip()
            if not body:
                raise SourceUnreadable("数据库查询为空")
            self.what = "查询"
            source = f"({body}) AS src"
        self.params: list[str] = []
        sql = f"SELECT * FROM {source}"  # noqa: S608 - validated, quoted identifiers or the configured query
        if cursor_column is not None:
            self._check_ident(cursor_column, "增量字段", cursor_column)
            column = f"src.{self._quote(cursor_column)}"
            if after is not None:
                if query is not None and self.dialect != "sqlite":
                    sql = sql.replace("%", "%%")  # the drivers' %s paramstyle: a literal % is written %%
                sql += f" WHERE {column} > {'?' if self.dialect == 'sqlite' else '%s'}"
                self.params.append(after)
            sql += f" ORDER BY {column}"
        self.sql = sql

    @staticmethod
    def _check_ident(name: str, label: str, whole: str) -> None:
        if not _IDENT.fullmatch(name):
            raise SourceUnreadable(f"{label}“{whole}”无效：只能包含字母、数字、下划线或汉字，且不以数字开头")

    def _quote(self, name: str) -> str:
        return (
            f"`{name.replace('`', '``')}`" if self.dialect == "mysql" else '"' + name.replace('"', '""') + '"'
        )

    def _scrub(self, exc: BaseException) -> str:
        primary = exc.diag.message_primary if isinstance(exc, psycopg.Error) else None
        text = " ".join((primary or str(exc)).split()) or type(exc).__name__
        text = _CREDENTIALS.sub(r"\1:***@", text)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text[:500]

    def chunks(self) -> Iterator[pl.DataFrame]:
        digest = hashes.Hash(hashes.SM3())
        with ExitStack() as stack:
            try:
                cursor = self._connect(stack)
            except DRIVER_ERRORS as exc:
                log.warning("source connect failed", connection=self.name, cause=self._scrub(exc))
                raise SourceUnreadable(f"无法连接数据源“{self.name}”") from None
            try:
                cursor.execute(
                    self.sql, tuple(self.params) if self.dialect == "sqlite" else self.params or None
                )
                self.columns = clean_names([str(d[0]) for d in cursor.description or []])
                digest.update(pl.DataFrame(schema=self.columns).write_csv().encode())
                while True:
                    rows = cursor.fetchmany(self.options.chunk_rows)
                    if not rows:
                        break
                    frame = self._frame(rows)
                    text = frame.drop("_ord").write_csv(include_header=False).encode()
                    digest.update(text)
                    self.progress.bytes_done += len(text)
                    yield frame
            except DRIVER_ERRORS as exc:
                log.warning("source read failed", connection=self.name, cause=self._scrub(exc))
                raise SourceUnreadable(
                    f"读取数据源“{self.name}”的{self.what}失败（原因已记入节点日志，可请平台管理员查看）"
                ) from None
        self.checksum = digest.finalize().hex()

    def _frame(self, rows: list[Any]) -> pl.DataFrame:
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in self.columns]
        return self.emit(
            pl.DataFrame(
                [column_text(list(col)).alias(name) for name, col in zip(self.columns, columns, strict=True)]
            )
        )

    def _connect(self, stack: ExitStack) -> Any:
        """An open cursor whose `execute` / `description` / `fetchmany` stream rows (closed by `stack`)."""
        if self.dialect == "postgresql":
            url = re.sub(r"^[^:]+://", "postgresql://", self.url)
            pg = stack.enter_context(
                psycopg.connect(
                    url,
                    connect_timeout=self.connect_timeout,
                    options=f"-c statement_timeout={self.read_timeout * 1000}",
                    autocommit=False,
                )
            )
            pg.read_only = True
            pg.execute("SET TIME ZONE 'Asia/Shanghai'")
            return stack.enter_context(pg.cursor(name="govshare_read"))
        if self.dialect == "mysql":
            parts = urlsplit(self.url)
            my = pymysql.connect(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 3306,
                user=unquote(parts.username or ""),
                password=self.password,
                database=unquote(parts.path.lstrip("/")) or None,
                charset="utf8mb4",
                connect_timeout=self.connect_timeout,
                # the handshake is read with these: a port that accepts and stays silent fails in time
                read_timeout=self.connect_timeout,
                write_timeout=self.connect_timeout,
                cursorclass=pymysql.cursors.SSCursor,
            )
            stack.callback(my.close)
            # connected: reads may wait as long as a statement may run (PyMySQL reads these per read)
            my._read_timeout = my._write_timeout = self.read_timeout
            with my.cursor() as setup:
                setup.execute("SET SESSION TRANSACTION READ ONLY")
                setup.execute("SET time_zone = '+08:00'")
            return stack.enter_context(my.cursor())
        path = self.url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path  # sqlite:///rel/path, sqlite:////abs/path
        # the URI is built here from the path (quoted by as_uri): no caller-supplied URI parameters
        lite = sqlite3.connect(
            Path(path).resolve().as_uri() + "?mode=ro", uri=True, timeout=self.read_timeout
        )
        stack.callback(lite.close)
        return lite.cursor()


def open_database(
    url: str,
    *,
    table: str | None,
    query: str | None,
    cursor_column: str | None = None,
    after: str | None = None,
    options: ReaderOptions,
    name: str = "数据库",
    connect_timeout: int = 10,
    read_timeout: int = 300,
) -> DatabaseReader:
    """A reader over a database table or query (see the module docstring); `name` is the connection's,
    the only thing errors show."""
    return DatabaseReader(
        url,
        table,
        query,
        cursor_column,
        after,
        options,
        name=name,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


def probe(url: str, *, name: str, connect_timeout: int = 10) -> bool:
    """Whether the connection opens and answers `SELECT 1` (the cause of a failure is logged only)."""
    reader = DatabaseReader(
        url,
        None,
        "SELECT 1 AS ok",
        None,
        None,
        ReaderOptions(),
        name=name,
        connect_timeout=connect_timeout,
        read_timeout=connect_timeout,
    )
    try:
        for _chunk in reader.chunks():
            pass
    except SourceUnreadable:
        return False
    return True
