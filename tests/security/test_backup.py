"""Hostile backups: a flipped byte anywhere, a cut-off file, the wrong key, chunks moved, dropped or taken
from another backup, and archives crafted by someone holding the key (path traversal, links, members the
manifest does not list). Each is refused with a precise message, and nothing is restored or written outside
the scratch directory. Also: the backup key's rules, and no secret on a command line or in an answer."""

from __future__ import annotations

import gzip
import io
import json
import re
import struct
import tarfile
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy.engine import make_url

from govshare.auth.actor import Actor
from govshare.backup import engines, service
from govshare.backup.archive import read_archive
from govshare.backup.container import (
    MAGIC,
    BackupInvalid,
    BackupWrongKey,
    DecryptedReader,
    EncryptedWriter,
)
from govshare.core.db import Database
from govshare.core.sm import sm3_hex
from govshare.errors import GovshareError
from govshare.settings import Settings
from tests import factories
from tests.backup.conftest import BACKUP_KEY
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET

OPERATOR = Actor.system("test:backup-hostile")
OTHER_KEY = "another-backup-key-0123456789-abcdefghijklm"


def _encrypt(data: bytes, key: str = BACKUP_KEY, chunk_size: int = 64) -> bytes:
    sink = io.BytesIO()
    writer = EncryptedWriter(sink, key, chunk_size=chunk_size)
    writer.write(data)
    writer.close()
    return sink.getvalue()


def _decrypt(blob: bytes, key: str = BACKUP_KEY) -> bytes:
    reader = DecryptedReader(io.BytesIO(blob), key)
    out = reader.read()
    reader.drain()
    return out


def _frames(blob: bytes) -> tuple[bytes, list[bytes]]:
    """Split a container into its header and its frames."""
    (length,) = struct.unpack(">I", blob[len(MAGIC) : len(MAGIC) + 4])
    offset = len(MAGIC) + 4 + length
    head, frames = blob[:offset], []
    while offset < len(blob):
        (size,) = struct.unpack(">I", blob[offset + 1 : offset + 5])
        end = offset + 5 + size + 16
        frames.append(blob[offset:end])
        offset = end
    return head, frames


def test_the_container_round_trips_and_refuses_every_kind_of_tampering() -> None:
    data = bytes(range(256)) * 3  # 768 bytes: eleven chunks of 64, then the final one (never empty here)
    blob = _encrypt(data)
    assert _decrypt(blob) == data
    head, frames = _frames(blob)
    assert len(frames) == 12
    with pytest.raises(BackupInvalid, match="第 2 块校验失败"):
        _decrypt(head + frames[0] + frames[2] + frames[1] + b"".join(frames[3:]))  # reordered
    with pytest.raises(BackupInvalid, match="第 2 块校验失败"):
        _decrypt(head + frames[0] + b"".join(frames[2:]))  # a chunk dropped
    with pytest.raises(BackupInvalid, match="缺少结束块"):
        _decrypt(head + b"".join(frames[:-1]))  # cut exactly at a chunk boundary
    with pytest.raises(BackupInvalid, match="多余的数据"):
        _decrypt(blob + b"\x00")
    with pytest.raises(
        BackupInvalid, match="第 11 块校验失败"
    ):  # the last chunk dropped, the one before marked final
        _decrypt(head + b"".join(frames[:-2]) + b"\x01" + frames[-2][1:])
    # The final chunk of another backup made with the same key does not fit (its file key differs).
    _, other_frames = _frames(_encrypt(data))
    with pytest.raises(BackupInvalid, match="第 12 块校验失败"):
        _decrypt(head + b"".join(frames[:-1]) + other_frames[-1])
    with pytest.raises(BackupWrongKey, match="GOVSHARE_BACKUP_KEY"):
        _decrypt(blob, OTHER_KEY)


def test_a_flipped_byte_anywhere_is_named_as_damage_not_as_a_wrong_key() -> None:
    blob = _encrypt(b"x" * 300)
    for position in range(len(blob)):
        damaged = bytearray(blob)
        damaged[position] ^= 0x01
        with pytest.raises(BackupInvalid):
            _decrypt(bytes(damaged))
    for cut in range(len(blob)):
        with pytest.raises(BackupInvalid):
            _decrypt(blob[:cut])


def test_a_hostile_chunk_length_is_refused_before_reading_it() -> None:
    head, frames = _frames(_encrypt(b"abc"))
    huge = bytes([1]) + struct.pack(">I", 2**31) + frames[0][5:]
    with pytest.raises(BackupInvalid, match="第 1 块已损坏"):
        _decrypt(head + huge)


def _crafted(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    """An archive made by someone who holds the backup key: correctly encrypted, hostile inside."""
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb") as zipped, tarfile.open(fileobj=zipped, mode="w|") as tar:
        for info, body in members:
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body) if body or info.isfile() else None)
    return _encrypt(raw.getvalue(), chunk_size=4096)


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("files/../../escaped.txt", tarfile.REGTYPE, "不合法的成员名"),
        ("/etc/escaped.txt", tarfile.REGTYPE, "不合法的成员名"),
        ("secrets/escaped.txt", tarfile.REGTYPE, "不合法的成员名"),
        ("files/link", tarfile.SYMTYPE, "不是普通文件"),
        ("files/dir", tarfile.DIRTYPE, "不是普通文件"),
    ],
)
def test_an_archive_crafted_with_the_key_cannot_write_outside_its_scratch_directory(
    tmp_path: Path, name: str, kind: bytes, message: str
) -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    if kind == tarfile.SYMTYPE:
        info.linkname = "/etc/passwd"
    blob = _crafted([(info, b"pwned" if kind == tarfile.REGTYPE else b"")])
    into = tmp_path / "scratch"
    into.mkdir()
    with pytest.raises(BackupInvalid, match=message):
        read_archive(io.BytesIO(blob), BACKUP_KEY, into)
    assert not (tmp_path / "escaped.txt").exists() and not list(into.rglob("*"))


def test_parts_the_manifest_does_not_list_or_that_differ_are_refused(tmp_path: Path) -> None:
    part = tarfile.TarInfo("files/extra.txt")
    manifest = tarfile.TarInfo("manifest.json")
    body = {
        "node_name": "x",
        "division_code": "990100",
        "created_at": "2026-01-01T00:00:00+00:00",
        "govshare_version": "0",
        "database": {
            "kind": "sqlite",
            "part": "database/sqlite.db",
            "server_version": "3",
            "tool": "t",
            "revision": None,
        },
        "content_digest": {"value": "0" * 64, "tables": {}},
        "audit_head": {"seq": 0},
        "parts": [],
    }
    blob = _crafted([(part, b"smuggled"), (manifest, json.dumps(body).encode())])
    with pytest.raises(BackupInvalid, match=re.escape("files/extra.txt 不在清单中")):
        read_archive(io.BytesIO(blob), BACKUP_KEY, tmp_path)
    body["parts"] = [{"name": "files/extra.txt", "size": 8, "sm3": "1" * 64}]
    blob = _crafted([(part, b"smuggled"), (manifest, json.dumps(body).encode())])
    with pytest.raises(BackupInvalid, match="大小或 SM3 摘要与清单不符"):
        read_archive(io.BytesIO(blob), BACKUP_KEY, tmp_path / "again")
    with pytest.raises(BackupInvalid, match="没有清单"):
        read_archive(io.BytesIO(_crafted([(part, b"smuggled")])), BACKUP_KEY, tmp_path / "third")
    body["parts"] = [{"name": "files/extra.txt", "size": 8, "sm3": sm3_hex(b"smuggled")}]
    blob = _crafted([(part, b"smuggled"), (manifest, json.dumps(body).encode())])
    with pytest.raises(BackupInvalid, match="没有数据库部分"):
        read_archive(io.BytesIO(blob), BACKUP_KEY, tmp_path / "fourth")
    body["database"]["part"] = "files/extra.txt"  # type: ignore[index]
    blob = _crafted([(part, b"smuggled"), (manifest, json.dumps(body).encode())])
    with pytest.raises(BackupInvalid, match="备份清单无效"):
        read_archive(io.BytesIO(blob), BACKUP_KEY, tmp_path / "fifth")


def _node(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={"backup_key": SecretStr(BACKUP_KEY), "backup_dir": tmp_path / "backups"}
    )


def _flip_salt(blob: bytes) -> bytes:
    """Change one hex digit of the header's salt: still a well-formed header, but not this file's."""
    at = blob.index(b'"salt": "') + len(b'"salt": "')
    return blob[:at] + (b"1" if blob[at : at + 1] == b"0" else b"0") + blob[at + 1 :]


def test_a_damaged_cut_or_foreign_key_backup_fails_verify_and_restores_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    node = _node(settings, tmp_path)
    db = Database.from_settings(node)
    try:
        factories.department(db, "GA")
    finally:
        db.dispose()
    good = Path(service.create_backup(node, OPERATOR).path)
    blob = good.read_bytes()
    cases = {
        "flipped": blob[: len(blob) // 2] + bytes([blob[len(blob) // 2] ^ 0x40]) + blob[len(blob) // 2 + 1 :],
        "truncated": blob[: len(blob) - 7],
        "header": _flip_salt(blob),
    }
    for label, damaged in cases.items():
        path = tmp_path / f"{label}.gsbk"
        path.write_bytes(damaged)
        report = service.verify_backup(node, OPERATOR, path)
        assert not report.ok and report.code == "backup_invalid", (label, report)
    wrong = node.model_copy(update={"backup_key": SecretStr(OTHER_KEY)})
    report = service.verify_backup(wrong, OPERATOR, good)
    assert not report.ok and report.code == "backup_wrong_key"
    assert service.verify_backup(node, OPERATOR, good).ok
    if engines.backend(node.resolved_database_url) == "postgresql":  # every scratch database was dropped
        with psycopg.connect(engines.conninfo(node.resolved_database_url)) as connection:
            left = connection.execute(
                "SELECT count(*) FROM pg_database WHERE datname LIKE 'govshare_verify_%'"
            )
            assert left.fetchone() == (0,)

    target = (
        f"sqlite:///{tmp_path / 'fresh.db'}"
        if engines.backend(node.resolved_database_url) == "sqlite"
        else make_url(node.resolved_database_url)
        .set(database="govshare_never_created")
        .render_as_string(False)
    )
    with pytest.raises(BackupInvalid):
        service.restore_backup(node, OPERATOR, tmp_path / "flipped.gsbk", target_url=target)
    assert not (tmp_path / "fresh.db").exists()


def test_the_backup_key_is_long_and_its_own() -> None:
    def make(key: str) -> Settings:
        return Settings(
            _env_file=None,  # type: ignore[call-arg]
            env="production",
            secret_key=SecretStr(TEST_SECRET),
            audit_key=SecretStr(TEST_AUDIT_KEY),
            backup_key=SecretStr(key),
        )

    with pytest.raises(ValidationError, match="GOVSHARE_BACKUP_KEY 至少需要 32 个字符"):
        make("short-key")
    with pytest.raises(ValidationError, match="不能与 GOVSHARE_SECRET_KEY 或 GOVSHARE_AUDIT_KEY 相同"):
        make(TEST_AUDIT_KEY)
    with pytest.raises(ValidationError, match="不能与 GOVSHARE_SECRET_KEY 或 GOVSHARE_AUDIT_KEY 相同"):
        make(TEST_SECRET)
    assert BACKUP_KEY not in repr(make(BACKUP_KEY))


def test_backups_refuse_to_run_without_a_key(settings: Settings) -> None:
    with pytest.raises(GovshareError, match="未设置 GOVSHARE_BACKUP_KEY"):
        service.create_backup(settings, OPERATOR)


def test_the_database_password_never_reaches_argv_or_the_environment() -> None:
    url = "postgresql+psycopg://backup:p%3Aa%5Css%40word@db.example:5433/govshare?sslmode=require"
    with engines.libpq_env(url) as env:
        passfile = Path(env["PGPASSFILE"])
        assert passfile.stat().st_mode & 0o777 == 0o600
        assert passfile.read_text(encoding="utf-8") == "*:*:*:*:p\\:a\\\\ss@word\n"
        assert "PGPASSWORD" not in env and not any("p:a" in v for k, v in env.items() if k != "PGPASSFILE")
        assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGSSLMODE"]) == (
            "db.example",
            "5433",
            "backup",
            "require",
        )
    assert not passfile.exists()
    assert "p:a" not in engines.scrub("FATAL: password p:a\\ss@word rejected", url)


def test_an_off_site_copy_that_differs_is_removed_not_kept(tmp_path: Path) -> None:
    source = tmp_path / "govshare-990100-20260301T020000Z-abcdef.gsbk"
    source.write_bytes(b"backup bytes")
    offsite = tmp_path / "offsite"
    with pytest.raises(BackupInvalid, match="异地副本与本地备份不一致"):
        service._copy_offsite(source, offsite, "0" * 64)  # as if the copy had been altered on its way
    assert list(offsite.iterdir()) == []
    copied = service._copy_offsite(source, offsite, sm3_hex(b"backup bytes"))
    assert copied.read_bytes() == b"backup bytes" and copied.stat().st_mode & 0o777 == 0o600


def test_an_unreachable_target_is_named_without_its_password() -> None:
    url = "postgresql+psycopg://postgres:Sekr1t-pw@127.0.0.1:5432/govshare_no_such_database"
    with pytest.raises(GovshareError, match="无法连接目标数据库") as caught:
        engines.ensure_target_is_empty(url, force=False)
    assert "Sekr1t-pw" not in caught.value.message
