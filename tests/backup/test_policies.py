"""Retention and the rules that need no database: what is kept, what is pruned, which files are backed up,
and scheduled runs that would overlap."""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from govshare.auth.actor import Actor
from govshare.backup import jobs, policies
from govshare.errors import Conflict, InvalidInput
from govshare.settings import Settings
from tests.backup.conftest import BACKUP_KEY

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def _name(day: int, tag: str = "abcdef") -> str:
    return f"govshare-990100-202603{day:02d}T020000Z-{tag}.gsbk"


def test_keep_is_a_count_or_days_and_nothing_else() -> None:
    assert policies.parse_keep("7") == policies.Retention(count=7)
    assert policies.parse_keep("30d") == policies.Retention(days=30)
    for bad in ("0", "-1", "7x", "d", "", "1.5", "30 days"):
        with pytest.raises(InvalidInput, match="GOVSHARE_BACKUP_KEEP"):
            policies.parse_keep(bad)
    with pytest.raises(ValidationError):
        Settings(_env_file=None, backup_keep="0")  # type: ignore[call-arg]


def test_retention_removes_only_our_old_backups_and_always_keeps_the_newest() -> None:
    names = [_name(d) for d in (1, 10, 20, 29, 30)] + ["damaged.gsbk", "notes.txt", "govshare-x.gsbk"]
    assert policies.to_remove(names, policies.Retention(count=2), NOW) == [_name(1), _name(10), _name(20)]
    assert policies.to_remove(names, policies.Retention(days=5), NOW) == [_name(1), _name(10), _name(20)]
    assert policies.to_remove(names, policies.Retention(days=365), NOW) == []
    # Even when every backup is older than the limit, the newest one stays.
    assert policies.to_remove([_name(1), _name(2)], policies.Retention(days=1), NOW) == [_name(1)]
    # Two backups within one second: the millisecond decides, not the random tag.
    first, second = (
        "govshare-990100-20260330T020000.120Z-ffffff.gsbk",
        "govshare-990100-20260330T020000.450Z-000000.gsbk",
    )
    assert policies.to_remove([first, second], policies.Retention(count=1), NOW) == [first]


def test_the_backed_up_files_leave_out_the_database_scratch_caches_and_backups(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for relative in (
        "govshare.db",
        "govshare.db-wal",
        "work/batch-1-x/spill.bin",
        "opendata/main/x.csv",
        "backups/govshare-990100-20260301T020000Z-abcdef.gsbk",
        "audit-checkpoints/checkpoint-00000001.json",
        "demo-credentials.txt",
        "uploads/a.csv",
    ):
        path = data / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    (data / "link.csv").symlink_to(tmp_path / "outside.csv")
    (tmp_path / "outside.csv").write_text("secret", encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
    names = [
        n
        for n, _ in policies.node_files(
            settings, data / "govshare.db", [data / "backups", data / "audit-checkpoints"]
        )
    ]
    assert names == ["demo-credentials.txt", "uploads/a.csv"]


def test_scheduled_runs_do_not_overlap(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        backup_dir=tmp_path / "backups",
        backup_key=SecretStr(BACKUP_KEY),
    )
    (tmp_path / "backups").mkdir()
    fd = os.open(tmp_path / "backups" / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(Conflict, match="另一次定时备份正在运行"):
            jobs.run_scheduled(settings, Actor.system("test:timer"))
    finally:
        os.close(fd)
    assert not list((tmp_path / "backups").glob("*.gsbk"))
