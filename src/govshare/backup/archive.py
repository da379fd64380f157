"""What is inside the encrypted container: a gzip-compressed tar stream of parts, then the manifest.

Members, in order: `database/sqlite.db` or `database/postgresql.dump`, `files/<path>` (the node's files
under the data directory), `checkpoints/<path>` (the audit checkpoints), and last `manifest.json`, which
lists every part with its size and SM3. The manifest is inside the authenticated encryption, so it cannot be
edited; reading refuses a member that is not a regular file with a plain relative name, a part the manifest
does not list, a listed part that is missing, and any size or SM3 that differs.
"""

from __future__ import annotations

import gzip
import json
import tarfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

from cryptography.hazmat.primitives import hashes
from pydantic import ValidationError

from govshare.backup.container import BackupInvalid, DecryptedReader, EncryptedWriter
from govshare.backup.schemas import Manifest, Part
from govshare.core.validation import describe

MANIFEST = "manifest.json"
PREFIXES = ("database/", "files/", "checkpoints/")
COPY_BUFFER = 1024 * 1024
GZIP_LEVEL = 3


class _Hashing:
    """Reads from `source` and hashes what passes (SM3), for tarfile's `addfile`."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._digest = hashes.Hash(hashes.SM3())
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self._digest.update(data)
        self.size += len(data)
        return data

    def hexdigest(self) -> str:
        return self._digest.finalize().hex()


class HashingSink:
    """A file-like sink that writes through to `target` and hashes the bytes (SM3 of the backup file)."""

    def __init__(self, target: BinaryIO) -> None:
        self._target = target
        self._digest = hashes.Hash(hashes.SM3())
        self.size = 0

    def write(self, data: bytes) -> int:
        self._target.write(data)
        self._digest.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self._target.flush()

    def hexdigest(self) -> str:
        return self._digest.finalize().hex()


def sm3_file(path: Path) -> str:
    digest = hashes.Hash(hashes.SM3())
    with path.open("rb") as handle:
        while chunk := handle.read(COPY_BUFFER):
            digest.update(chunk)
    return digest.finalize().hex()


@dataclass(frozen=True)
class Source:
    name: str  # the member name inside the archive
    path: Path


def write_archive(sink: BinaryIO, key: str, sources: Iterable[Source], manifest: dict[str, Any]) -> Manifest:
    """Stream `sources` into an encrypted archive, then the manifest (with the parts' sizes and SM3s)."""
    parts: list[Part] = []
    writer = EncryptedWriter(sink, key)
    with (
        gzip.GzipFile(fileobj=writer, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        for source in sources:
            info = tarfile.TarInfo(source.name)
            info.size = source.path.stat().st_size
            info.mode = 0o600
            with source.path.open("rb") as handle:
                hashing = _Hashing(handle)
                tar.addfile(info, hashing)
            if hashing.size != info.size:
                raise BackupInvalid(f"备份过程中文件 {source.name} 被修改，请重新备份")
            parts.append(Part(name=source.name, size=hashing.size, sm3=hashing.hexdigest()))
        final = Manifest.model_validate({**manifest, "parts": [p.model_dump() for p in parts]})
        body = json.dumps(final.model_dump(mode="json"), ensure_ascii=False, indent=1).encode("utf-8")
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(body)
        info.mode = 0o600
        tar.addfile(info, _BytesReader(body))
    writer.close()
    return final


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._offset + size
        out = self._data[self._offset : end]
        self._offset += len(out)
        return out


def _member_path(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if (
        path.is_absolute()
        or ".." in path.parts
        or not name.startswith(PREFIXES)
        or "\\" in name
        or any(ord(c) < 32 for c in name)
    ):
        raise BackupInvalid(f"备份中有不合法的成员名：{name[:200]!r}")
    return path


def read_archive(source: BinaryIO, key: str, into: Path | None) -> Manifest:
    """Decrypt and check a whole archive; with `into`, write its parts there (`into/<member name>`).

    Every chunk is authenticated, every part hashed against the manifest; nothing is trusted until the end."""
    reader = DecryptedReader(source, key)
    seen: dict[str, Part] = {}
    manifest_body: bytes | None = None
    try:
        with (
            gzip.GzipFile(fileobj=reader, mode="rb") as zipped,
            tarfile.open(fileobj=zipped, mode="r|") as tar,
        ):
            for member in tar:
                if manifest_body is not None:
                    raise BackupInvalid("备份中清单之后还有成员")
                if not member.isfile():
                    raise BackupInvalid(f"备份中有不是普通文件的成员：{member.name[:200]!r}")
                extracted = tar.extractfile(member)
                assert extracted is not None
                if member.name == MANIFEST:
                    manifest_body = extracted.read()
                    continue
                path = _member_path(member.name)
                if member.name in seen:
                    raise BackupInvalid(f"备份中成员重复：{member.name[:200]}")
                seen[member.name] = _copy_member(extracted, into / path if into else None, member.name)
            reader.drain()
    except (tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise BackupInvalid(f"备份内容无法解包：{type(exc).__name__}") from exc
    if manifest_body is None:
        raise BackupInvalid("备份中没有清单（manifest.json）")
    try:
        manifest = Manifest.model_validate_json(manifest_body)
    except ValidationError as exc:
        raise BackupInvalid(f"备份清单无效：{describe(exc, limit=1)}") from exc
    listed = {p.name: p for p in manifest.parts}
    for name in sorted(set(listed) | set(seen)):
        if name not in seen:
            raise BackupInvalid(f"备份清单列出的 {name} 不在备份中")
        if name not in listed:
            raise BackupInvalid(f"备份中的 {name} 不在清单中")
        if listed[name] != seen[name]:
            raise BackupInvalid(f"{name} 的大小或 SM3 摘要与清单不符")
    if manifest.database.part not in listed:
        raise BackupInvalid(f"备份中没有数据库部分 {manifest.database.part}")
    return manifest


def _copy_member(extracted: IO[bytes], target: Path | None, name: str) -> Part:
    digest = hashes.Hash(hashes.SM3())
    size = 0
    handle = None
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = target.open("xb")
    try:
        while chunk := extracted.read(COPY_BUFFER):
            digest.update(chunk)
            size += len(chunk)
            if handle is not None:
                handle.write(chunk)
    finally:
        if handle is not None:
            handle.close()
    return Part(name=name, size=size, sm3=digest.finalize().hex())
