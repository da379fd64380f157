"""The encrypted container a backup is written in: SM4-GCM in chunks, the key derived with HKDF-SM3.

Layout (all integers big-endian)::

    "GSBACKUP" 0x01 | u32 header length | header (JSON)
    frame*          | frame = flag (1 byte: 0 more, 1 final) | u32 ciphertext length | ciphertext | tag (16)

- The header names the cipher, the KDF, a random 16-byte salt, the chunk size and a key check value, with
  an SM3 checksum of those fields (so a damaged header is told apart from a wrong key).
- Per file, `HKDF-SM3(backup key, salt, info)` derives the 128-bit SM4 key and, with another `info`, the key
  check (so a wrong key is named as such before any chunk is opened; the check reveals nothing of the key).
- Chunk `i` is encrypted with nonce `i` (96 bits; unique, since the key is unique to the file) and the
  additional data `SM3(header) | i | flag`: a chunk cannot be moved, dropped, replayed from another backup or
  have its header edited, and the last chunk carries the final flag, so a cut-off file is refused.
- Memory stays constant: one chunk (1 MiB by default) at a time.
"""

from __future__ import annotations

import hmac
import io
import json
import os
import struct
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from govshare.errors import GovshareError

MAGIC = b"GSBACKUP\x01"
FORMAT = 1
CHUNK_SIZE = 1024 * 1024
MAX_CHUNK_SIZE = 16 * 1024 * 1024
MAX_HEADER = 64 * 1024
TAG_SIZE = 16
SALT_SIZE = 16
MORE, FINAL = 0, 1
_FRAME = struct.Struct(">BI")
_INFO_KEY = b"govshare-backup-v1 sm4-gcm key"
_INFO_CHECK = b"govshare-backup-v1 key check"


class BackupInvalid(GovshareError):
    """A backup file that cannot be trusted: damaged, cut off, edited, or not a backup at all."""

    status = 422
    code = "backup_invalid"
    title = "备份文件无效"


class BackupWrongKey(GovshareError):
    status = 422
    code = "backup_wrong_key"
    title = "备份密钥与备份文件不符"


def _derive(key: str, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SM3(), length=16, salt=salt, info=info).derive(key.encode("utf-8"))


def _sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _fields_sm3(fields: dict[str, Any]) -> str:
    """An unkeyed checksum of the header's fields: damage to the header (say, its salt) is then named as
    damage, not mistaken for a wrong key. Tampering is caught anyway: every chunk authenticates the header."""
    return _sm3(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hex()


def _aad(header_digest: bytes, index: int, flag: int) -> bytes:
    return header_digest + index.to_bytes(8, "big") + bytes([flag])


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


class EncryptedWriter(io.RawIOBase):
    """A write-only stream that encrypts what it is given into `sink`; `close()` writes the final chunk."""

    def __init__(self, sink: BinaryIO, key: str, *, chunk_size: int = CHUNK_SIZE) -> None:
        super().__init__()
        salt = os.urandom(SALT_SIZE)
        self._key = _derive(key, salt, _INFO_KEY)
        fields = {
            "format": FORMAT,
            "cipher": "SM4-GCM",
            "kdf": "HKDF-SM3",
            "salt": salt.hex(),
            "key_check": _derive(key, salt, _INFO_CHECK).hex(),
            "chunk_size": chunk_size,
        }
        header = json.dumps({**fields, "sm3": _fields_sm3(fields)}, sort_keys=True).encode()
        head = MAGIC + struct.pack(">I", len(header)) + header
        self._header_digest = _sm3(head)
        self._sink = sink
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._index = 0
        sink.write(head)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._buffer += view
        while len(self._buffer) > self._chunk_size:  # keep at least one byte back for the final chunk
            self._emit(bytes(self._buffer[: self._chunk_size]), MORE)
            del self._buffer[: self._chunk_size]
        return len(view)

    def _emit(self, plain: bytes, flag: int) -> None:
        encryptor = Cipher(algorithms.SM4(self._key), modes.GCM(_nonce(self._index))).encryptor()
        encryptor.authenticate_additional_data(_aad(self._header_digest, self._index, flag))
        cipher = encryptor.update(plain) + encryptor.finalize()
        self._sink.write(_FRAME.pack(flag, len(cipher)) + cipher + encryptor.tag)
        self._index += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), FINAL)
            self._buffer.clear()
            self._sink.flush()
        super().close()


def _read_exact(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    while len(data) < size:
        more = source.read(size - len(data))
        if not more:
            break
        data += more
    return data


def read_header(source: BinaryIO) -> tuple[dict[str, Any], bytes]:
    """The header and the bytes it was read from; refuses anything that is not a backup of this format."""
    magic = _read_exact(source, len(MAGIC))
    if magic[:8] != MAGIC[:8]:
        raise BackupInvalid("不是 govshare 备份文件（文件头不符）")
    if magic != MAGIC:
        raise BackupInvalid(f"不支持的备份格式版本 {magic[8:]!r}")
    raw_length = _read_exact(source, 4)
    if len(raw_length) < 4:
        raise BackupInvalid("备份文件不完整：文件头被截断")
    (length,) = struct.unpack(">I", raw_length)
    if length > MAX_HEADER:
        raise BackupInvalid("备份文件头过长，文件已损坏")
    header_bytes = _read_exact(source, length)
    try:
        header = json.loads(header_bytes)
        checksum = header.pop("sm3")
        if not isinstance(checksum, str) or not hmac.compare_digest(checksum, _fields_sm3(header)):
            raise ValueError("checksum")
        salt = bytes.fromhex(header["salt"])
        chunk_size = int(header["chunk_size"])
        bytes.fromhex(header["key_check"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupInvalid("备份文件头已损坏（校验和不符或格式错误）") from exc
    if header.get("cipher") != "SM4-GCM" or header.get("kdf") != "HKDF-SM3" or len(salt) != SALT_SIZE:
        raise BackupInvalid("备份文件头已损坏（算法或盐不符）")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise BackupInvalid("备份文件头已损坏（分块大小不合理）")
    return header, magic + raw_length + header_bytes


class DecryptedReader(io.RawIOBase):
    """A read-only stream of the plaintext; every chunk is authenticated before any of it is returned.

    Raises `BackupWrongKey` at once when the key check differs, and `BackupInvalid` on a modified, reordered,
    missing or cut-off chunk, or on bytes after the final one."""

    def __init__(self, source: BinaryIO, key: str) -> None:
        super().__init__()
        header, head = read_header(source)
        salt = bytes.fromhex(header["salt"])
        if not hmac.compare_digest(_derive(key, salt, _INFO_CHECK).hex(), header["key_check"]):
            raise BackupWrongKey(
                "备份密钥与这个备份文件不符：请用创建备份时的 GOVSHARE_BACKUP_KEY（文件未被解密）"
            )
        self._key = _derive(key, salt, _INFO_KEY)
        self._header_digest = _sm3(head)
        self._max_cipher = int(header["chunk_size"])
        self._source = source
        self._index = 0
        self._pending = b""
        self._finished = False

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bytes:
        frame = _read_exact(self._source, _FRAME.size)
        if not frame:
            raise BackupInvalid(f"备份文件不完整：第 {self._index + 1} 块之前被截断（缺少结束块）")
        if len(frame) < _FRAME.size:
            raise BackupInvalid(f"备份文件不完整：第 {self._index + 1} 块被截断")
        flag, length = _FRAME.unpack(frame)
        if flag not in (MORE, FINAL) or length > self._max_cipher:
            raise BackupInvalid(f"备份文件第 {self._index + 1} 块已损坏")
        body = _read_exact(self._source, length + TAG_SIZE)
        if len(body) < length + TAG_SIZE:
            raise BackupInvalid(f"备份文件不完整：第 {self._index + 1} 块被截断")
        cipher, tag = body[:length], body[length:]
        decryptor = Cipher(algorithms.SM4(self._key), modes.GCM(_nonce(self._index), tag)).decryptor()
        decryptor.authenticate_additional_data(_aad(self._header_digest, self._index, flag))
        try:
            plain = decryptor.update(cipher) + decryptor.finalize()
        except InvalidTag as exc:
            raise BackupInvalid(
                f"备份文件第 {self._index + 1} 块校验失败：内容被修改、调换或不属于这个备份"
            ) from exc
        self._index += 1
        if flag == FINAL:
            self._finished = True
            if self._source.read(1):
                raise BackupInvalid("备份文件在结束块之后还有多余的数据")
        return plain

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts = [self._pending]
            while not self._finished:
                parts.append(self._next_chunk())
            self._pending = b""
            return b"".join(parts)
        while not self._pending and not self._finished:
            self._pending = self._next_chunk()
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        """Read to the end, so the final chunk (and nothing after it) is checked."""
        while not self._finished:
            self._next_chunk()
        self._pending = b""
