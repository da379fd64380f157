"""Backups: create, verify, restore, prune, and the content digest.

These actions run at the console (`Actor.system()`, who holds the database credentials anyway), and they work
on the node's settings rather than on a request's session: a backup runs for minutes and must not hold a
transaction (on SQLite, the write lock) while it does. Each action writes its audit entry afterwards in a
short transaction of its own, in the live node (create, verify, prune) or in the restored node (restore).

Order inside a backup: the audit checkpoints are copied first, then the database snapshot is taken, so the
checkpoints never name an entry the snapshot does not hold.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from govshare import __version__
from govshare.audit import chain
from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.backup import engines, policies
from govshare.backup.archive import HashingSink, Source, read_archive, sm3_file, write_archive
from govshare.backup.container import BackupInvalid
from govshare.backup.digest import ContentDigest
from govshare.backup.schemas import CreateReport, Manifest, PruneReport, RestoreReport, VerifyReport
from govshare.core.clock import utcnow
from govshare.core.db import Database
from govshare.core.node import NodeConfig
from govshare.errors import Conflict, GovshareError, ServiceUnavailable
from govshare.settings import Settings

SUCCESS, FAILURE = "success", "failure"


def _record(
    settings: Settings, actor: Actor, name: str, target: str, outcome: str, detail: dict[str, Any]
) -> None:
    db = Database.from_settings(settings)
    try:
        with db.short_write() as session:
            audit.record(
                session, actor, name, target_type="backup", target_id=target, outcome=outcome, detail=detail
            )
    finally:
        db.dispose()


@contextmanager
def _scratch(settings: Settings, prefix: str) -> Iterator[Path]:
    """A private temporary directory beside the backups (same file system, so nothing crosses devices)."""
    parent = policies.backup_dir(settings)
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = Path(tempfile.mkdtemp(prefix=f".{prefix}-", dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _shown(url: str) -> str:
    """A database URL fit for output: no password, no query (which may hold one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///{Path(parsed.database or '').name}"
    return parsed.set(password=None, query={}).render_as_string(hide_password=True)


# ---------------------------------------------------------------- digest


@action(Permission.BACKUP_MANAGE)
def digest(settings: Settings, actor: Actor, database_url: str | None = None) -> ContentDigest:
    """The content digest of the node's database (or of `database_url`). A read; not audited."""
    return engines.content_digest_of(database_url or settings.resolved_database_url)


# ---------------------------------------------------------------- create


def _collect(settings: Settings, staging: Path, url: str, kind: str) -> tuple[list[Source], Any, int]:
    checkpoints_dir = policies.checkpoint_dir(settings)
    sources: list[Source] = []
    # 1. checkpoints first: copied before the snapshot, they cannot name an entry the snapshot lacks.
    for name, path in policies.directory_files(checkpoints_dir):
        copy = staging / "checkpoints" / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
        sources.append(Source(f"checkpoints/{name}", copy))
    # 2. the database, with its digest, in one snapshot.
    part = staging / ("sqlite.db" if kind == "sqlite" else "postgresql.dump")
    if kind == "sqlite":
        snapshot = engines.snapshot_sqlite(url, part)
    else:
        snapshot = engines.snapshot_postgresql(url, part, settings.backup_pg_bin_dir)
    database_sources = [Source(f"database/{part.name}", part)]
    # 3. the node's files under the data directory.
    exclude = [policies.backup_dir(settings)] + ([checkpoints_dir] if checkpoints_dir else [])
    database_file = engines.sqlite_path(url) if kind == "sqlite" else None
    files = [
        Source(f"files/{name}", path) for name, path in policies.node_files(settings, database_file, exclude)
    ]
    return database_sources + sources + files, snapshot, len(files)


@action(Permission.BACKUP_MANAGE)
def create_backup(settings: Settings, actor: Actor) -> CreateReport:
    """Write an encrypted, self-describing backup of the node, copy it off-site, and audit it."""
    key = policies.backup_key(settings)
    url = settings.resolved_database_url
    kind = engines.backend(url)
    directory = policies.backup_dir(settings)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = utcnow()
    stamp = f"{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z"
    name = f"govshare-{settings.node_division_code}-{stamp}-{secrets.token_hex(3)}.gsbk"
    final = directory / name
    partial = directory / f".{name}.part"
    try:
        with _scratch(settings, "create") as staging:
            sources, snapshot, _ = _collect(settings, staging, url, kind)
            manifest = {
                "node_name": settings.node_name,
                "division_code": settings.node_division_code,
                "created_at": now.isoformat(),
                "govshare_version": __version__,
                "database": {
                    "kind": kind,
                    "part": sources[0].name,
                    "server_version": snapshot.server_version,
                    "tool": snapshot.tool,
                    "revision": snapshot.revision,
                },
                "content_digest": snapshot.digest.as_dict(),
                "audit_head": snapshot.audit_head,
                "checkpoint_dir": any(s.name.startswith("checkpoints/") for s in sources),
            }
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                sink = HashingSink(handle)
                written = write_archive(sink, key, sources, manifest)  # type: ignore[arg-type]
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    report = CreateReport(
        path=str(final),
        size=sink.size,
        sm3=sink.hexdigest(),
        content_digest=written.content_digest.value,
        database=kind,
        parts=len(written.parts),
        audit_seq=written.audit_head.seq,
    )
    offsite = settings.backup_offsite_dir
    offsite_error: GovshareError | None = None
    if offsite is not None:
        try:
            report = replace(report, offsite=str(_copy_offsite(final, offsite, report.sm3)))
        except OSError as exc:
            offsite_error = ServiceUnavailable(f"备份已写入本地，但复制到异地目录失败：{exc.strerror or exc}")
        except BackupInvalid as exc:
            offsite_error = exc
    _record(
        settings,
        actor,
        "backup.create",
        name,
        SUCCESS if offsite_error is None else FAILURE,
        {
            **({"offsite_error": offsite_error.message} if offsite_error else {}),
            "size": report.size,
            "sm3": report.sm3,
            "content_digest": report.content_digest,
            "database": kind,
            "audit_seq": report.audit_seq,
            "offsite": report.offsite is not None,
        },
    )
    if offsite_error is not None:
        raise offsite_error
    return report


def _copy_offsite(path: Path, directory: Path, expected_sm3: str) -> Path:
    """Copy a backup to the off-site directory: under a temporary name, synced, read back and compared
    (SM3) before it takes its real name, so a half-copied or corrupted copy never looks like a backup."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / path.name
    partial = directory / f".{path.name}.part"
    try:
        with path.open("rb") as source, partial.open("xb") as handle:
            shutil.copyfileobj(source, handle, 1024 * 1024)
            handle.flush()
            os.fsync(handle.fileno())
        partial.chmod(0o600)
        copied = sm3_file(partial)
        if copied != expected_sm3:
            raise BackupInvalid(
                f"异地副本与本地备份不一致（SM3 {copied[:12]}… ≠ {expected_sm3[:12]}…），已删除副本"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


# ---------------------------------------------------------------- verify


def _open_backup(path: Path) -> Path:
    if not path.is_file():
        raise GovshareError(f"备份文件不存在：{path.name}")
    return path


def _check_chain(config: NodeConfig, url: str, checkpoints: Path | None, actor: Actor) -> dict[str, Any]:
    """Verify the audit chain of the database at `url` (and its checkpoints: those in `checkpoints`, else the
    node's own directory) with the audit module's own verification, read-only where the module offers it."""
    database = Database(url, config)
    try:
        with database.transaction() as session:
            read_only_check = getattr(audit, "verify_chain", None)
            if read_only_check is not None:
                return dict(read_only_check(session, checkpoint_dir=checkpoints).as_dict())
            return audit.verify(session, actor).as_dict()
    finally:
        database.dispose()


def _restore_database(manifest: Manifest, unpacked: Path, url: str, settings: Settings) -> None:
    part = unpacked / manifest.database.part
    if manifest.database.kind == "sqlite":
        engines.restore_sqlite(part, url)
    else:
        engines.restore_postgresql(part, url, settings.backup_pg_bin_dir)


def _scratch_server(settings: Settings) -> str:
    candidates = [settings.backup_verify_database_url, settings.resolved_database_url]
    for url in candidates:
        if url and engines.backend(url) == "postgresql":
            return url
    raise GovshareError(
        "校验 PostgreSQL 备份需要一个 PostgreSQL 服务器：请设置 GOVSHARE_BACKUP_VERIFY_DATABASE_URL"
    )


def _verify_unpacked(settings: Settings, actor: Actor, manifest: Manifest, unpacked: Path) -> dict[str, Any]:
    """Restore into a scratch database (never the live one), compare digests, verify the audit chain."""
    config = NodeConfig.from_settings(settings)
    checkpoints = unpacked / "checkpoints" if manifest.checkpoint_dir else unpacked / "no-checkpoints"
    checker = Actor.system(f"{actor.name}:backup-verify")

    def check(url: str) -> dict[str, Any]:
        _restore_database(manifest, unpacked, url, settings)
        restored = engines.content_digest_of(url)
        expected = ContentDigest.from_dict(manifest.content_digest.model_dump())
        if restored.value != expected.value:
            differing = "、".join(expected.differences(restored)[:5])
            raise BackupInvalid(f"恢复后的内容摘要与备份清单不符：{differing}")
        return _check_chain(config, url, checkpoints, checker)

    if manifest.database.kind == "sqlite":
        return check(f"sqlite:///{unpacked / 'scratch.db'}")
    with engines.scratch_postgresql(_scratch_server(settings)) as url:
        return check(url)


@action(Permission.BACKUP_MANAGE)
def verify_backup(settings: Settings, actor: Actor, path: Path) -> VerifyReport:
    """Prove a backup restorable without touching the live node: decrypt it, check every SM3 against the
    manifest, restore it into a scratch database, compare the content digest and verify the audit chain
    there. The outcome is audited in the live node; a failed verification is a report, not an error."""
    key = policies.backup_key(settings)
    _open_backup(path)
    try:
        with _scratch(settings, "verify") as unpacked:
            with path.open("rb") as handle:
                manifest = read_archive(handle, key, unpacked)
            chain_report = _verify_unpacked(settings, actor, manifest, unpacked)
    except GovshareError as exc:  # damaged, wrong key, or not restorable: a failed verification
        report = VerifyReport(False, str(path), exc.message, code=exc.code)
    else:
        ok = bool(chain_report.get("ok"))
        report = VerifyReport(
            ok,
            str(path),
            "备份可恢复：摘要一致，审计日志哈希链完整"
            if ok
            else f"备份内容完整，但其审计日志哈希链校验失败：{chain_report.get('message')}",
            content_digest=manifest.content_digest.value,
            database=manifest.database.kind,
            created_at=manifest.created_at,
            parts=len(manifest.parts),
            chain=chain_report,
            code=None if ok else "backup_chain_broken",
        )
    _record(
        settings,
        actor,
        "backup.verify",
        path.name,
        SUCCESS if report.ok else FAILURE,
        {"message": report.message, "content_digest": report.content_digest, "code": report.code},
    )
    return report


# ---------------------------------------------------------------- restore


def _ensure_fresh_files(directory: Path, names: list[str], force: bool) -> None:
    existing = [n for n in names if (directory / n).exists()]
    if existing and not force:
        raise Conflict(
            f"目标目录中已有同名文件（{'、'.join(existing[:3])} 等 {len(existing)} 个）：只能恢复到新节点；"
            "确需覆盖请加 --force"
        )


def _refuse_overlaps(settings: Settings, files: list[str], target_url: str, checkpoints: Path | None) -> None:
    """A backed-up file must not land on the target's database file, in its backup directory or in its
    audit checkpoint directory (say, when the source node kept its database elsewhere and a file of the same
    name under its data directory)."""
    protected: set[Path] = set()
    if engines.backend(target_url) == "sqlite":
        database = engines.sqlite_path(target_url).resolve()
        protected = {database.with_name(database.name + s) for s in ("", "-wal", "-shm", "-journal")}
    directories = [policies.backup_dir(settings).resolve()] + ([checkpoints.resolve()] if checkpoints else [])
    for name in files:
        path = (settings.data_dir / name).resolve()
        if path in protected or any(d == path or d in path.parents for d in directories):
            raise GovshareError(
                f"备份中的文件 {name} 会落在目标节点的数据库文件、备份目录或审计检查点目录上：请为新节点另选"
                "数据目录或数据库位置（未做任何改动）"
            )


def _place(unpacked: Path, prefix: str, directory: Path) -> int:
    root = unpacked / prefix
    count = 0
    for name, path in policies.directory_files(root):
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        target.chmod(0o600)
        count += 1
    return count


@action(Permission.BACKUP_MANAGE)
def restore_backup(
    settings: Settings, actor: Actor, path: Path, *, target_url: str, force: bool = False
) -> RestoreReport:
    """Restore a backup onto a fresh node: its database at `target_url`, its files under this node's data
    directory, its checkpoints into this node's checkpoint directory. Refuses a target holding data unless
    `force`, a target of another database kind, and a node whose audit key is not the backup's chain's. The
    restored content digest must equal the backup's; then the restored audit chain is verified and the restore
    is recorded in the restored node's audit log."""
    key = policies.backup_key(settings)
    _open_backup(path)
    kind = engines.backend(target_url)
    with _scratch(settings, "restore") as unpacked:
        with path.open("rb") as handle:
            manifest = read_archive(handle, key, unpacked)
        if manifest.database.kind != kind:
            raise GovshareError(
                f"备份是 {manifest.database.kind} 数据库的，目标是 {kind}：只能恢复到同一种数据库"
            )
        config = NodeConfig.from_settings(settings)
        head_key = manifest.audit_head.key_check
        if head_key and head_key != chain.key_check(config.audit_key):
            raise GovshareError(
                "本节点的审计密钥（GOVSHARE_AUDIT_KEY）不是备份中审计日志使用的密钥：恢复后的节点将无法写入"
                "审计记录。请用原节点的审计密钥（未做任何改动）"
            )
        tables = engines.ensure_target_is_empty(target_url, force=force)
        files = [n for n, _ in policies.directory_files(unpacked / "files")]
        checkpoints_dir = policies.checkpoint_dir(settings)
        _refuse_overlaps(settings, files, target_url, checkpoints_dir)
        _ensure_fresh_files(settings.data_dir, files, force)
        if checkpoints_dir is not None:
            _ensure_fresh_files(
                checkpoints_dir, [n for n, _ in policies.directory_files(unpacked / "checkpoints")], force
            )
        if tables and kind == "postgresql":
            engines.clear_postgresql(target_url)
        _restore_database(manifest, unpacked, target_url, settings)
        restored = engines.content_digest_of(target_url)
        expected = ContentDigest.from_dict(manifest.content_digest.model_dump())
        if restored.value != expected.value:
            raise BackupInvalid(
                "恢复后的内容摘要与备份清单不符："
                + "、".join(expected.differences(restored)[:5])
                + "（请勿启用这个节点）"
            )
        file_count = _place(unpacked, "files", settings.data_dir)
        checkpoint_count = _place(unpacked, "checkpoints", checkpoints_dir) if checkpoints_dir else 0
    chain_report = _check_chain(config, target_url, None, actor)
    restored_settings = settings.model_copy(update={"database_url": target_url})
    _record(
        restored_settings,
        actor,
        "backup.restore",
        path.name,
        SUCCESS if chain_report.get("ok") else FAILURE,
        {
            "content_digest": restored.value,
            "backup_created_at": manifest.created_at,
            "source_node": manifest.node_name,
            "files": file_count,
            "checkpoints": checkpoint_count,
            "chain_ok": bool(chain_report.get("ok")),
        },
    )
    return RestoreReport(
        path=str(path),
        target=_shown(target_url),
        database=kind,
        content_digest=restored.value,
        files=file_count,
        checkpoints=checkpoint_count,
        chain=chain_report,
    )


# ---------------------------------------------------------------- retention


def _backups_in(directory: Path | None) -> list[str]:
    if directory is None or not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if policies.NAME.match(p.name) and p.is_file())


@action(Permission.BACKUP_MANAGE)
def prune_backups(settings: Settings, actor: Actor) -> PruneReport:
    """Remove the backups that `GOVSHARE_BACKUP_KEEP` lets go, locally and off-site (our own names only)."""
    retention = policies.parse_keep(settings.backup_keep)
    now = utcnow()
    removed: list[str] = []
    kept: list[str] = []
    for directory in (policies.backup_dir(settings), settings.backup_offsite_dir):
        names = _backups_in(directory)
        gone = policies.to_remove(names, retention, now)
        for name in gone:
            assert directory is not None
            (directory / name).unlink(missing_ok=True)
        removed += [str(directory / n) for n in gone if directory is not None]
        kept += [str(directory / n) for n in names if n not in gone and directory is not None]
    if removed:
        _record(
            settings,
            actor,
            "backup.prune",
            retention.describe(),
            SUCCESS,
            {"removed": [Path(r).name for r in removed][:200], "kept": len(kept)},
        )
    return PruneReport(kept=kept, removed=removed)
