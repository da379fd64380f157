"""Workbooks checked before any parser opens them: zip bombs and oversized containers are refused.

An .xlsx file is a zip archive. A 155 KB workbook whose `sharedStrings.xml` unpacks to 150 MB took a
node from 343 MB to 3.4 GB through calamine, and openpyxl does no better, so every path that reads a
workbook (collection samples, uploads, reprocess, code-set and catalog imports) calls `check_workbook`
first. For an .xlsx it reads the central directory and refuses, before parsing, when the entry count,
any entry's unpacked size, the total unpacked size or an entry's compression ratio passes its limit.
Zip headers can lie (a small declared size over a stream that unpacks far larger), so each entry is
then unpacked once as a stream and thrown away: `zipfile` stops at the declared size and checks the
CRC, so a lying entry ends as "damaged" after at most the declared bytes, never more.

An .xls file (OLE2 compound document) is not compressed: what a parser builds is bounded by the file
size, which is capped at the same unpacked limit.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from govshare.settings import Settings

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
RATIO_FLOOR_BYTES = 1024 * 1024  # small parts (styles, a short sheet) may compress far; they cannot hurt
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class WorkbookLimits:
    max_unpacked_bytes: int = 256 * 1024 * 1024
    max_entries: int = 10_000
    max_ratio: int = 100

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkbookLimits:
        return cls(
            max_unpacked_bytes=settings.xlsx_max_unpacked_mb * 1024 * 1024,
            max_entries=settings.xlsx_max_entries,
            max_ratio=settings.xlsx_max_ratio,
        )

    def at_most(self, max_unpacked_bytes: int, max_entries: int | None = None) -> WorkbookLimits:
        """These limits, tightened by a caller's own caps (a catalog template needs less than a dataset)."""
        return WorkbookLimits(
            min(self.max_unpacked_bytes, max_unpacked_bytes),
            min(self.max_entries, max_entries or self.max_entries),
            self.max_ratio,
        )

    @property
    def max_unpacked_mb(self) -> int:
        return self.max_unpacked_bytes // 1024 // 1024


class WorkbookRefused(ValueError):
    """The workbook is refused before parsing; `message` (Chinese) names the file and says why."""

    def __init__(self, message: str, *, damaged: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.damaged = damaged  # not a complete, readable zip (rather than one too big to unpack)


def node_limits() -> WorkbookLimits:
    """The limits of this process's settings (`GOVSHARE_XLSX_*`)."""
    from govshare.settings import get_settings

    return WorkbookLimits.from_settings(get_settings())


def check_workbook(
    source: Path | bytes, limits: WorkbookLimits | None = None, *, name: str | None = None
) -> None:
    """Refuse `source` (a path or the file's bytes) with WorkbookRefused when it is an .xlsx whose
    unpacking would pass `limits` (the node's settings by default), or an .xls larger than the unpacked
    limit. A file that is neither is left to the parser, which reports it in its own words. `name` is the
    file's name as the person knows it (default: the path's name)."""
    limits = limits or node_limits()
    shown = name or (source.name if isinstance(source, Path) else "上传的文件")
    handle: IO[bytes]
    if isinstance(source, Path):
        try:
            handle = source.open("rb")
        except OSError:
            return  # the parser says the file is missing, in its own words
    else:
        handle = io.BytesIO(source)
    with handle:
        magic = handle.read(8)
        handle.seek(0, io.SEEK_END)
        size = handle.tell()
        handle.seek(0)
        if magic == OLE2_MAGIC:
            if size > limits.max_unpacked_bytes:
                raise WorkbookRefused(f"文件“{shown}”超过 {limits.max_unpacked_mb} MB，已拒绝")
            return
        if magic[:4] != ZIP_MAGIC:
            return
        _check_zip(handle, limits, shown)


def _check_zip(handle: IO[bytes], limits: WorkbookLimits, shown: str) -> None:
    bomb = f"文件“{shown}”解压后超过 {limits.max_unpacked_mb} MB，疑似压缩炸弹，已拒绝"
    damaged = f"文件“{shown}”已损坏或不完整，不是有效的 Excel 文件"
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise WorkbookRefused(damaged, damaged=True) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise WorkbookRefused(
                f"文件“{shown}”包含 {len(infos)} 个压缩条目，超过 {limits.max_entries} 个的上限，已拒绝"
            )
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > limits.max_unpacked_bytes or total > limits.max_unpacked_bytes:
                raise WorkbookRefused(bomb)
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
                part = info.filename[:100]
                raise WorkbookRefused(
                    f"文件“{shown}”中的“{part}”压缩比超过 {limits.max_ratio} 倍，疑似压缩炸弹，已拒绝"
                )
        # The declared sizes may lie: unpack each entry as a stream and throw it away. zipfile stops at the
        # declared size and checks the CRC, so a lying entry fails as damaged; the count is a second guard.
        unpacked = 0
        try:
            for info in infos:
                if info.is_dir():
                    continue
                with archive.open(info) as part_file:
                    while block := part_file.read(_CHUNK):
                        unpacked += len(block)
                        if unpacked > limits.max_unpacked_bytes:
                            raise WorkbookRefused(bomb)
        except WorkbookRefused:
            raise
        except Exception:  # a CRC mismatch, a malformed deflate stream (zlib.error), encryption, an unknown
            raise WorkbookRefused(damaged, damaged=True) from None  # method: nothing a parser should open
