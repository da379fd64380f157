"""Scenarios built once per test session and copied into each test's database.

A scenario (a city with users, a published resource with loaded records, a grant) takes seconds to build,
mostly in argon2 password hashing; dozens of tests start from the same one. `seeded(db, name, build)` runs
`build()` into the first test's fresh database, keeps a copy (a SQLite file, or a PostgreSQL template
database, the way `tests/conftest.py` keeps the migrated empty database) with what `build()` returned,
and restores that copy into every later test's database instead of building again. Per xdist worker:
the copies live in the worker's session.

A copy is used only when nothing can tell it from a fresh build: the database is still empty (no
department), and the node's configuration (audit key, secret key, jurisdiction, limits) is the one the
copy was built under. Anything else builds as before, and so does every scenario when
`GOVSHARE_TEST_BUILD_SCENARIOS=1` is set (to compare timings, or to rule the copies out).
"""

from __future__ import annotations

import atexit
import copy as copying
import dataclasses
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from govshare.core import security
from govshare.core.db import Database
from govshare.models import Department

T = TypeVar("T")

PG_ADMIN_URL = os.environ.get("GOVSHARE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
_PATHS = {"work_dir", "audit_checkpoint_dir", "data_dir", "source_dirs"}


@dataclasses.dataclass
class _Copy:
    database: str  # a SQLite file, or a PostgreSQL template database's name
    data_dir: Path  # the node's files (audit checkpoints…) as the build left them
    value: Any


_COPIES: dict[tuple[str, str, str], _Copy] = {}
_SCRATCH: list[Path] = []


def _admin(sql: str) -> None:
    conninfo = make_url(PG_ADMIN_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _config_key(db: Database) -> str:
    """The node configuration without its per-test paths, and the password hasher's cost (a test may
    cheapen it): a copy is only reused under the same ones."""
    hasher = security._hasher
    return repr(
        [(f.name, getattr(db.config, f.name)) for f in dataclasses.fields(db.config) if f.name not in _PATHS]
        + [("argon2", hasher.time_cost, hasher.memory_cost, hasher.parallelism)]
    )


def _is_empty(db: Database) -> bool:
    with db.transaction(readonly=True) as session:
        return not session.scalar(select(func.count()).select_from(Department))


def _scratch() -> Path:
    if not _SCRATCH:
        _SCRATCH.append(Path(os.environ.get("TMPDIR", "/tmp")) / f"govshare-scenarios-{uuid.uuid4().hex[:8]}")
        _SCRATCH[0].mkdir(mode=0o700)
    return _SCRATCH[0]


def seeded(db: Database, name: str, build: Callable[[], T]) -> T:
    """What `build()` returns, with its data in `db`: built the first time in this session (for this
    database kind and configuration), copied from then on."""
    key = (name, db.backend, _config_key(db))
    copy = _COPIES.get(key)
    if os.environ.get("GOVSHARE_TEST_BUILD_SCENARIOS") or not _is_empty(db):
        return build()
    if copy is not None:
        _restore(db, copy)
        return copying.deepcopy(copy.value)  # type: ignore[no-any-return]
    value = build()
    if not _COPIES:
        atexit.register(drop_copies)
    _COPIES[key] = _keep(db, copying.deepcopy(value))
    return value


def _keep(db: Database, value: Any) -> _Copy:
    db.engine.dispose()
    scratch = _scratch() / uuid.uuid4().hex[:12]
    files = scratch / "data"
    if db.config.data_dir.exists():
        shutil.copytree(db.config.data_dir, files, symlinks=True)
    else:
        files.mkdir(parents=True)
    if db.is_sqlite:
        target = scratch / "node.db"
        with sqlite3.connect(str(db.url.database)) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return _Copy(str(target), files, value)
    template = f"govshare_sc_{uuid.uuid4().hex[:12]}"
    current = db.url.database
    _admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{current}'")
    _admin(f"CREATE DATABASE {template} TEMPLATE {current}")
    return _Copy(template, files, value)


def _restore(db: Database, copy: _Copy) -> None:
    db.engine.dispose()
    if db.is_sqlite:
        target = Path(str(db.url.database))
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(copy.database, target)
    else:
        name = db.url.database
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _admin(f"CREATE DATABASE {name} TEMPLATE {copy.database}")
    shutil.copytree(copy.data_dir, db.config.data_dir, symlinks=True, dirs_exist_ok=True)


def drop_copies() -> None:
    """When the session's process exits: the PostgreSQL templates and the scratch files."""
    for copy in _COPIES.values():
        if not copy.database.endswith(".db"):
            _admin(f"DROP DATABASE IF EXISTS {copy.database} WITH (FORCE)")
    _COPIES.clear()
    for scratch in _SCRATCH:
        shutil.rmtree(scratch, ignore_errors=True)
    _SCRATCH.clear()
