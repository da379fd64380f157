"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint says "on this node the chain had reached entry `seq`, whose hash was `hash`", signed, and
chained to the previous checkpoint by digest. Files are written to `GOVSHARE_AUDIT_CHECKPOINT_DIR`, which in
production is a place the database administrator cannot rewrite (another host's mount, a WORM store), so
someone who truncates the log and rewinds its head is caught by the newest checkpoint beyond the cut.

One file per checkpoint, `checkpoint-<n, 8 digits>.json`, written once (temporary file, fsync, then a hard
link that fails if the name exists), mode 0600 in a 0700 directory:

    {"format", "node", "n", "seq", "hash", "occurred_at", "written_at", "prev_checkpoint_digest",
     "alg", "key_id", "sig"}

`sig` covers every other field (`signed_bytes`). Signing sits behind `Signer`: today HMAC-SM3 under a key
derived from the audit key (the DBA does not hold it); each file names its algorithm so node signatures
(SM2, Ed25519) can be added for checkpoints sent to the parent node.

What this does not catch, by construction: an intruder who controls both the database and the checkpoint
directory can delete the newest files and cut the log back to the newest remaining one (the log names the
checkpoints it wrote, so they must also cut below those entries); an intruder holding the audit key can forge
everything. A node whose directory is empty (never written, or wiped together with the log) has only the
keyed head to rely on.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from govshare.audit.chain import derived_key
from govshare.core.clock import utcnow
from govshare.core.sm import hmac_sm3_hex, sm3_hex

FORMAT = "govshare-audit-checkpoint/1"
FILE_NAME = re.compile(r"^checkpoint-(\d{8})\.json$")
MAX_FILE_BYTES = 16 * 1024
HEX64 = r"^[0-9a-f]{64}$"
NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})


class Signer(Protocol):
    """Signs and checks checkpoints under one algorithm and key."""

    @property
    def alg(self) -> str: ...

    @property
    def key_id(self) -> str: ...

    def sign(self, message: bytes) -> str: ...

    def verify(self, message: bytes, sig: str) -> bool: ...


@dataclass(frozen=True)
class HmacSm3Signer:
    """HMAC-SM3 under the checkpoint key derived from the audit key (symmetric: the node checks its own)."""

    key: bytes = field(repr=False)
    alg: ClassVar[str] = "HMAC-SM3"

    @classmethod
    def from_audit_key(cls, audit_key: bytes) -> HmacSm3Signer:
        return cls(derived_key(audit_key, "checkpoint-mac/v1"))

    @property
    def key_id(self) -> str:
        return hmac_sm3_hex(self.key, b"govshare-checkpoint-key-id")[:16]

    def sign(self, message: bytes) -> str:
        return hmac_sm3_hex(self.key, message)

    def verify(self, message: bytes, sig: str) -> bool:
        return hmac.compare_digest(self.sign(message), sig)


def verifiers(audit_key: bytes) -> dict[str, Signer]:
    """The algorithms this node checks checkpoints with, by name."""
    signer = HmacSm3Signer.from_audit_key(audit_key)
    return {signer.alg: signer}


class CheckpointDoc(BaseModel):
    """A checkpoint file's content, checked field by field before its signature is."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    format: Literal["govshare-audit-checkpoint/1"]
    node: str = Field(max_length=200)
    n: int = Field(ge=1, le=99_999_999)
    seq: int = Field(ge=0)
    hash: str = Field(pattern=HEX64)
    occurred_at: str | None = Field(max_length=40)
    written_at: str = Field(max_length=40)
    prev_checkpoint_digest: str | None = Field(pattern=HEX64)
    alg: str = Field(max_length=32)
    key_id: str = Field(max_length=64)
    sig: str = Field(max_length=512)


def _canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signed_bytes(doc: dict[str, Any]) -> bytes:
    """What the signature covers: every field but `sig`, canonical JSON."""
    return _canonical({k: v for k, v in doc.items() if k != "sig"})


def digest(doc: dict[str, Any]) -> str:
    """SM3 of the whole checkpoint (signature included): the next checkpoint's `prev_checkpoint_digest`."""
    return sm3_hex(_canonical(doc))


@dataclass(frozen=True)
class Checkpoint:
    doc: CheckpointDoc
    file_name: str

    @property
    def number(self) -> int:
        return self.doc.n

    @property
    def seq(self) -> int:
        return self.doc.seq

    @property
    def hash(self) -> str:
        return self.doc.hash

    @property
    def digest(self) -> str:
        return digest(self.doc.model_dump())


@dataclass(frozen=True)
class Forged:
    number: int
    file_name: str
    reason: str


@dataclass(frozen=True)
class Loaded:
    """Every checkpoint file in the directory: those whose signature holds, in order, and those that fail."""

    valid: list[Checkpoint]
    forged: list[Forged]

    @property
    def latest(self) -> Checkpoint | None:
        return self.valid[-1] if self.valid else None


def name_for(number: int) -> str:
    return f"checkpoint-{number:08d}.json"


def _numbered_files(directory: Path) -> list[tuple[int, Path]]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    found = [(int(m.group(1)), directory / name) for name in names if (m := FILE_NAME.match(name))]
    return sorted(found)


def any_checkpoint(directory: Path) -> bool:
    """Whether this node has ever written a checkpoint here (files are never deleted by govshare)."""
    return bool(_numbered_files(directory))


def _read(path: Path, number: int, checkers: dict[str, Signer]) -> Checkpoint | Forged:
    try:
        raw = _read_regular_file(path)
        if raw is None:
            return Forged(number, path.name, "不是普通文件")
        if len(raw) > MAX_FILE_BYTES:
            return Forged(number, path.name, "文件过大")
        doc = CheckpointDoc.model_validate(json.loads(raw.decode("utf-8")))
    except (OSError, UnicodeDecodeError, ValueError, ValidationError):
        return Forged(number, path.name, "内容无法解析")
    if doc.n != number:
        return Forged(number, path.name, "编号与文件名不符")
    checker = checkers.get(doc.alg)
    if checker is None:
        return Forged(number, path.name, f"签名算法“{doc.alg[:32]}”不受支持")
    if not checker.verify(signed_bytes(doc.model_dump()), doc.sig):
        return Forged(number, path.name, "签名不符")
    return Checkpoint(doc, path.name)


def _read_regular_file(path: Path) -> bytes | None:
    """At most MAX_FILE_BYTES + 1 bytes of a regular file; None for a symlink, FIFO, device or directory
    (a FIFO put in the directory must not hang verification)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)


def load(directory: Path, checkers: dict[str, Signer]) -> Loaded:
    valid: list[Checkpoint] = []
    forged: list[Forged] = []
    for number, path in _numbered_files(directory):
        found = _read(path, number, checkers)
        (forged if isinstance(found, Forged) else valid).append(found)  # type: ignore[arg-type]
    return Loaded(valid, forged)


def load_latest(directory: Path, checkers: dict[str, Signer]) -> Checkpoint | Forged | None:
    """The newest checkpoint file only (the next one chains to it), checked; None when there is none."""
    files = _numbered_files(directory)
    if not files:
        return None
    number, path = files[-1]
    return _read(path, number, checkers)


def _timestamp(value: datetime | None) -> str | None:
    return value.isoformat(timespec="microseconds") if value else None


def write_checkpoint(
    directory: Path,
    signer: Signer,
    *,
    node: str,
    seq: int,
    entry_hash: str,
    occurred_at: datetime | None,
    previous: Checkpoint | None = None,
) -> Checkpoint:
    """Write the next checkpoint after `previous` (numbered after it, chained to its digest), once.

    Raises FileExistsError if that number was written meanwhile and OSError if the directory cannot be
    written; nothing is left half-written (the file appears whole or not at all).
    """
    number = previous.number + 1 if previous else 1
    doc: dict[str, Any] = {
        "format": FORMAT,
        "node": node,
        "n": number,
        "seq": seq,
        "hash": entry_hash,
        "occurred_at": _timestamp(occurred_at),
        "written_at": _timestamp(utcnow()),
        "prev_checkpoint_digest": previous.digest if previous else None,
        "alg": signer.alg,
        "key_id": signer.key_id,
    }
    doc["sig"] = signer.sign(signed_bytes(doc))
    checkpoint = Checkpoint(CheckpointDoc.model_validate(doc), name_for(number))
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()
    temporary = directory / f".{checkpoint.file_name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _publish(temporary, directory / checkpoint.file_name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    _fsync_directory(directory)
    return checkpoint


def _publish(temporary: Path, target: Path) -> None:
    """Give the written file its name, never replacing an existing one: a hard link (fails if the name
    exists). Where the file system has no hard links (some network and object-store mounts), a rename after
    checking the name is free; writers of one node are serialised by the audit head's lock meanwhile."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in NO_HARD_LINKS:
            raise
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "checkpoint exists") from exc
        os.rename(temporary, target)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
