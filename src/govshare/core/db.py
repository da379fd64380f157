"""Engine and transactions, the same on SQLite (embedded default) and PostgreSQL (production).

Only the edge (a request, a job, a CLI command) opens a transaction with `Database.transaction()`;
services receive the session and flush, never commit.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, create_engine, event, func
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from govshare.core.node import NodeConfig
from govshare.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 10_000


class Database:
    def __init__(self, url: str | URL, config: NodeConfig, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.config = config
        self.engine = _create_engine(self.url, echo=echo)
        info = {"node": config}
        self._writer = sessionmaker(bind=self.engine, expire_on_commit=False, info=info)
        # Read-only sessions refuse writes (SQLite: query_only; PostgreSQL: a READ ONLY transaction), so a
        # write that strays into one fails loudly instead of being rolled back unseen when it closes.
        reader_engine = self.engine.execution_options(
            **({"sqlite_begin": "DEFERRED"} if self.is_sqlite else {"postgresql_readonly": True})
        )
        self._reader = sessionmaker(bind=reader_engine, expire_on_commit=False, info=info)
        # Short write transactions of this process queue here, in order, instead of in SQLite's busy
        # handler (which sleeps up to 100 ms between tries and made the data API's p99 seconds long).
        self.write_queue = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        # the node's own directories, as an earlier version may have left them (0755), tightened at start-up
        for directory in (settings.data_dir, settings.work_dir):
            tighten_directory(directory)
        return cls(settings.resolved_database_url, NodeConfig.from_settings(settings))

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    def session(self, *, readonly: bool = False) -> Session:
        return (self._reader if readonly else self._writer)()

    @contextmanager
    def short_write(self) -> Iterator[Session]:
        """A brief write transaction (e.g. a data call's audit record). On SQLite the process's writers
        take turns through `write_queue` first; PostgreSQL has row locks and needs no queue."""
        if not self.is_sqlite:
            with self.transaction() as session:
                yield session
            return
        with self.write_queue, self.transaction() as session:
            yield session

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Session]:
        """One unit of work (`core/uow.py`): commit on success, roll back on any error; a read-only one runs
        the writes its services deferred afterwards. For jobs and scripts; the request and CLI edges open
        a `UnitOfWork` themselves to audit refusals."""
        from govshare.core.uow import UnitOfWork

        with UnitOfWork(self, readonly=readonly) as unit:
            yield unit.session

    def dispose(self) -> None:
        self.engine.dispose()


PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def tighten_directory(directory: Path) -> None:
    """Make an existing directory of the node's private (0700): records, uploads and keys live there. A
    shared directory (sticky, like /tmp) is left alone: the node does not own it."""
    try:
        mode = directory.stat().st_mode
    except FileNotFoundError:
        return
    if mode & stat.S_ISVTX or directory.resolve() == Path(directory.anchor or "/"):
        return
    if stat.S_IMODE(mode) != PRIVATE_DIRECTORY and directory.stat().st_uid == os.geteuid():
        directory.chmod(PRIVATE_DIRECTORY)


def private_directory(directory: Path) -> Path:
    """`directory`, created 0700 when missing (an existing one is left as it is)."""
    if not directory.is_dir():
        directory.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    return directory


def _private_sqlite_file(path: Path) -> None:
    """The database file and its -wal/-shm (which SQLite creates with the database file's mode) are 0600:
    created so before SQLite opens the file, and tightened when an earlier version left them 0644."""
    private_directory(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))  # an empty file is an empty database
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if stat.S_IMODE(file.stat().st_mode) != PRIVATE_FILE:
                file.chmod(PRIVATE_FILE)
        except FileNotFoundError:
            continue


def _create_engine(url: URL, *, echo: bool) -> Engine:
    if url.get_backend_name() == "sqlite":
        database = url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            _private_sqlite_file(Path(database))
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and transactions we begin ourselves.

    pysqlite's own transaction handling begins lazily and DEFERRED: a transaction that has read and then
    writes after another connection committed fails with SQLITE_BUSY_SNAPSHOT. Writers therefore begin
    IMMEDIATE (they queue for the write lock up front); read-only sessions begin DEFERRED, with
    `query_only` on (a write in them is an error).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        # A pooled connection serves readers and writers in turn: a transaction switches query_only when
        # the connection's last one was of the other kind. Set on the driver's connection, like the PRAGMAs
        # above: connection configuration, not a statement of the unit of work.
        read_only = mode == "DEFERRED"
        if connection.info.get("query_only") != read_only:
            connection.connection.driver_connection.execute(
                f"PRAGMA query_only = {'ON' if read_only else 'OFF'}"
            )
            connection.info["query_only"] = read_only
        connection.exec_driver_sql(f"BEGIN {mode}")


def beijing_period(
    session: Session, column: ColumnElement[Any] | InstrumentedAttribute[Any], *, month: bool = False
) -> ColumnElement[str]:
    """The Beijing calendar day (`YYYY-MM-DD`) or month (`YYYY-MM`) of a UTC timestamp column, in SQL: charts
    group by the day people lived, not the UTC day (before 08:00 in Beijing it is still yesterday in UTC).
    China keeps no daylight saving time, so SQLite's fixed `+8 hours` is exact."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM" if month else "YYYY-MM-DD")
    return func.strftime("%Y-%m" if month else "%Y-%m-%d", column, "+8 hours")
