"""The rules of backing up: which key, what is kept, which files belong in a backup."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from govshare.errors import GovshareError, InvalidInput
from govshare.settings import Settings

# govshare-<division>-<UTC time, to the millisecond>-<random>.gsbk: names sort by time, even for backups taken
# within one second (a scheduled run right after a manual one).
NAME = re.compile(
    r"^govshare-(?P<division>\d{6})-(?P<stamp>\d{8}T\d{6})(?:\.(?P<ms>\d{3}))?Z-(?P<tag>[0-9a-f]{6})\.gsbk$"
)
_KEEP = re.compile(r"^(?P<n>[1-9]\d{0,5})(?P<days>d?)$")
# Under the data directory, never part of a backup: scratch space and caches that are rebuilt from the
# database (collection batches' spill files, generated open-data downloads).
SKIPPED_DIRS = ("work", "opendata")


class BackupNotConfigured(GovshareError):
    code = "backup_not_configured"
    title = "未配置备份密钥"


def backup_key(settings: Settings) -> str:
    key = getattr(settings, "backup_key", None)
    if key is None or not key.get_secret_value():
        raise BackupNotConfigured(
            "未设置 GOVSHARE_BACKUP_KEY：备份以它加密（至少 32 个字符，不能与 GOVSHARE_SECRET_KEY 或 "
            "GOVSHARE_AUDIT_KEY 相同），请保存在数据库与备份之外"
        )
    return str(key.get_secret_value())


def backup_dir(settings: Settings) -> Path:
    configured: Path | None = getattr(settings, "backup_dir", None)
    return configured if configured is not None else settings.data_dir / "backups"


def checkpoint_dir(settings: Settings) -> Path | None:
    """The audit checkpoint directory (the audit log's signed heads), when the node keeps one."""
    value = getattr(settings, "resolved_audit_checkpoint_dir", None) or getattr(
        settings, "audit_checkpoint_dir", None
    )
    return Path(value) if value else None


@dataclass(frozen=True)
class Retention:
    count: int | None = None
    days: int | None = None

    def describe(self) -> str:
        return f"保留最近 {self.count} 份" if self.count else f"保留 {self.days} 天内的备份"


def parse_keep(value: str) -> Retention:
    """`7` keeps the newest seven backups; `30d` keeps those of the last thirty days."""
    match = _KEEP.match(value.strip())
    if match is None:
        raise InvalidInput.on("GOVSHARE_BACKUP_KEEP", "应为份数（如 7）或天数（如 30d），且大于 0")
    number = int(match.group("n"))
    return Retention(days=number) if match.group("days") else Retention(count=number)


def created_at(name: str) -> datetime | None:
    match = NAME.match(name)
    if match is None:
        return None
    stamp = datetime.strptime(match.group("stamp"), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return stamp + timedelta(milliseconds=int(match.group("ms") or 0))


def to_remove(names: list[str], retention: Retention, now: datetime) -> list[str]:
    """The backups (our own names only) that retention lets go; the newest one is always kept."""
    ours = sorted((n for n in names if NAME.match(n)), key=lambda n: (created_at(n), n), reverse=True)
    if not ours:
        return []
    candidates = ours[1:]
    if retention.count is not None:
        return sorted(ours[retention.count :])
    assert retention.days is not None
    limit = now - timedelta(days=retention.days)
    return sorted(n for n in candidates if (created_at(n) or now) < limit)


def node_files(settings: Settings, database_file: Path | None, exclude: list[Path]) -> list[tuple[str, Path]]:
    """The node's own files under the data directory, as (relative POSIX name, path), sorted.

    Left out: the SQLite database and its journal files (copied through the backup API), the scratch and
    cache directories (`SKIPPED_DIRS`), the backup directory and the audit checkpoint directory (its own
    part), and anything that is not a regular file (symbolic links are not followed)."""
    root = settings.data_dir
    if not root.is_dir():
        return []
    skipped = {(root / d).resolve() for d in SKIPPED_DIRS} | {p.resolve() for p in exclude}
    database_names: set[Path] = set()
    if database_file is not None:
        resolved = database_file.resolve()
        database_names = {resolved.with_name(resolved.name + s) for s in ("", "-wal", "-shm", "-journal")}
    out: list[tuple[str, Path]] = []
    for path in sorted(root.rglob("*")):
        resolved = path.resolve()
        if any(resolved == s or s in resolved.parents for s in skipped):
            continue
        if path.is_symlink() or not path.is_file() or resolved in database_names:
            continue
        out.append((path.relative_to(root).as_posix(), path))
    return out


def directory_files(root: Path | None) -> list[tuple[str, Path]]:
    if root is None or not root.is_dir():
        return []
    return [
        (p.relative_to(root).as_posix(), p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    ]
