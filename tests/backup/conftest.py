"""A seeded node with a backup key, and fresh nodes to restore it onto (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from govshare.core.db import Database
from govshare.settings import Settings
from tests.collection.helpers import ingest as collection_ingest
from tests.collection.helpers import person_id, setup, write_csv
from tests.conftest import PG_ADMIN_URL, _pg_execute

BACKUP_KEY = "test-backup-key-0123456789-abcdefghijklmnopq"


@pytest.fixture
def node(settings: Settings, tmp_path: Path) -> Settings:
    """The live node's settings, with backups configured (off-site directory included)."""
    return settings.model_copy(
        update={
            "backup_key": SecretStr(BACKUP_KEY),
            "backup_dir": tmp_path / "backups",
            "backup_offsite_dir": tmp_path / "offsite",
        }
    )


@pytest.fixture
def seeded(node: Settings, db: Database, tmp_path: Path) -> Settings:
    """A small city: departments, officers, a published resource, a record table loaded from a file, and a
    file of the node under its data directory."""
    setup(db)
    rows = [
        [person_id("19900307", 123), "张三", "0", "1990-03-07", "北京市东城区", "2024-01-01 08:00:00"],
        [person_id("19850101", 24), "李四", "1", "1985-01-01", "上海市黄浦区", "2024-01-02 09:30:00"],
        [person_id("20000229", 11), "王五", "0", "2000-02-29", "", "2024-01-03 10:00:00"],
    ]
    collection_ingest(db, write_csv(tmp_path / "people.csv", rows))
    keep = node.data_dir / "uploads" / "样例.csv"
    keep.parent.mkdir(parents=True, exist_ok=True)
    keep.write_text("身份证号,姓名\n", encoding="utf-8")
    return node


@pytest.fixture
def fresh(node: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A fresh node of the same kind: an empty database that does not yet exist (SQLite) or has no tables
    (PostgreSQL), its own data directory, the same audit and backup keys."""
    if make_url(node.resolved_database_url).get_backend_name() == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh' / 'govshare.db'}"
        yield node.model_copy(update={"database_url": url, "data_dir": tmp_path / "fresh"})
        return
    name = f"govshare_fresh_{uuid.uuid4().hex[:12]}"
    _pg_execute(f"CREATE DATABASE {name}")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield node.model_copy(update={"database_url": url, "data_dir": tmp_path / "fresh"})
    finally:
        _pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
