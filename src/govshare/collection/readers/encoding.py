"""Text files: encoding detection and one streaming pass that turns a source file into clean UTF-8.

Why a pass of our own before DuckDB parses anything:
- DuckDB's CSV reader reads only UTF-8 (its encodings extension is broken on GB18030 and cannot be loaded
  offline), so GBK/GB18030 files must be transcoded anyway.
- A "mismatched encodings" file (mostly UTF-8 with a few GBK lines, or the reverse, as produced by
  concatenating exports) must not stop the read: lines whose bytes are not in the file's encoding are kept
  as `Malformed(rule="encoding")` and replaced in the output by a *marker line*, which the CSV reader
  recognises among DuckDB's rejects, so such a line is never also read as a good row.
- Blank lines are replaced by the same marker line. DuckDB skips blank lines but still counts them in its
  record numbers; as markers they become rejects with known positions, which keeps row numbers exact.
- Line ends are normalised to "\\n" (DuckDB's strict mode fails on a file that mixes "\\r\\n" and "\\n",
  and on any lone "\\r": those are written as `lone_cr`, for the CSV reader a marker it turns back).
- The SM3 checksum is taken over the original bytes while they stream by.

The pass works on big blocks cut at line ends (a multi-byte character never contains the byte 0x0A in
UTF-8 or GB18030), so a whole block is decoded by one C call; only a block that fails to decode is split
into lines.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives import hashes

from govshare.collection.readers.base import Malformed, Progress, SourceUnreadable
from govshare.collection.readers.common import cut_raw
from govshare.collection.readers.quotes import StrayQuotes

BLOCK = 8 << 20  # bytes read at a time
SAMPLE = 4 << 20  # bytes sniffed for the encoding and the header
MARKER = "\ufdd0"  # a Unicode noncharacter: never part of interchanged text (see module docstring)
CR_MARK = "\ufdd1"  # stands for a lone "\r" inside a line (DuckDB's strict CSV parser fails on one)
_GB_NAMES = {"gbk", "gb2312", "gb18030", "cp936", "936", "gb-18030", "euc-cn", "hz-gb-2312"}
_UTF8_NAMES = {"utf-8", "utf8", "utf_8", "u8"}
# Control bytes that do not occur in text (TAB, LF, VT, FF, CR and ESC do).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27)) + b"\x7f"
# A UTF-8 line inside a GB18030 file decodes without an error, into the wrong characters. The filter for
# such lines: map bytes to classes (L: a UTF-8 lead byte of a CJK character, E3-E9; C: a continuation byte,
# 80-BF) and look for two CJK characters in a row, "LCCLCC": a C-speed translate and find (a regex is 10x
# slower), with no hit on GBK text in our measurements; each hit is confirmed by decoding its line.
_CLASSES = bytes(
    ord("L") if 0xE3 <= b <= 0xE9 else ord("C") if 0x80 <= b <= 0xBF else ord("x") for b in range(256)
)
_UTF8_CJK_RUN = b"LCCLCC"
_BLANK_LINE = re.compile(rb"(?:^|(?<=\n))(?=\n)")


def _label(encoding: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GB18030"}.get(encoding, encoding.upper())


def normalize_encoding(name: str) -> str:
    """The codec we read a given encoding name with ("gbk" and "gb2312" are read as their superset)."""
    key = name.strip().lower()
    if key in _GB_NAMES:
        return "gb18030"
    if key in _UTF8_NAMES:
        return "utf-8"
    if key in {"utf-8-sig", "utf8-sig", "utf_8_sig"}:
        return "utf-8-sig"
    try:
        codec = codecs.lookup(key).name
    except LookupError:
        raise SourceUnreadable(f"不支持的文件编码“{name}”") from None
    if codec.startswith(("utf-16", "utf-32")):
        raise SourceUnreadable(f"不支持 {name} 编码的文件，请另存为 UTF-8 或 GBK 后再上传")
    return codec


@dataclass
class Sniffed:
    encoding: str  # utf-8, utf-8-sig, gb18030 or a given codec name
    text: str  # the decoded sample (whole lines, BOM removed, line ends normalised)
    cr_only: bool  # the file ends lines with a bare "\r" (old Mac style)


def sniff(path: Path, display: str, given: str | None) -> Sniffed:
    """Read the first few MB: reject binary files, detect (or take) the encoding, decode the sample."""
    try:
        with path.open("rb") as f:
            head = f.read(SAMPLE)
            at_end = not f.read(1)
    except OSError as exc:
        raise SourceUnreadable(f"文件 {display} 无法打开：{exc.strerror or exc}") from None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SourceUnreadable(f"文件 {display} 是 UTF-16 编码，请另存为 UTF-8 或 GBK 后再上传")
    sample = head if at_end else head[: head.rfind(b"\n") + 1] or head
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if b"\x00" in sample or controls > max(8, len(sample) // 100):
        raise SourceUnreadable(f"文件 {display} 不是文本文件（含二进制内容），无法读取")
    if given and given.strip().lower() != "auto":
        encoding = normalize_encoding(given)
        if encoding == "utf-8" and sample.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
    elif sample.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8" if _mostly_utf8(sample) else "gb18030"
    body = sample[3:] if encoding == "utf-8-sig" else sample
    cr_only = b"\r" in body and b"\n" not in body
    text = _normalize_newlines(body, cr_only).decode(_codec(encoding), errors="replace")
    return Sniffed(encoding, text, cr_only)


def _mostly_utf8(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError:
        pass
    good = bad = 0  # only runs when the sample is not pure UTF-8: count non-ASCII lines either way
    for line in sample.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return good > bad


def _codec(encoding: str) -> str:
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _other(encoding: str) -> str:
    return "gb18030" if _codec(encoding) == "utf-8" else "utf-8"


def _normalize_newlines(data: bytes, cr_only: bool) -> bytes:
    return data.replace(b"\r", b"\n") if cr_only else data.replace(b"\r\n", b"\n")


@dataclass
class TextPass:
    """What the streaming pass wrote and found."""

    lines: int = 0  # lines written (each ends with "\n"; a sentinel, if any, is not counted)
    has_quote: bool = False  # the quote character occurs in the written text
    marked: bool = False  # at least one marker line was written
    malformed: list[Malformed] = field(default_factory=list)
    checksum: str = ""
    blocks: list[tuple[int, int]] = field(default_factory=list)  # (output offset, lines before) per block
    first_char: str = ""  # the first non-blank character written (JSON: "[" or "{")
    lone_cr: bool = False  # a lone "\r" was replaced


class Transcoder:
    """One streaming pass: hash the original bytes, skip `skip_lines` lines (title rows and the header),
    decode the rest, and write it as UTF-8 to `out`.

    `marker_line` replaces blank lines and lines in the wrong encoding (None: blank lines are kept and a
    wrong-encoding line is decoded with errors="replace" instead, for formats whose records are not lines).
    `sentinel` is appended after the last line (the CSV reader's quote and marker; see csv_reader), and a
    lone "\\r" inside a line is written as `lone_cr` when that is given.
    """

    def __init__(
        self,
        path: Path,
        display: str,
        sniffed: Sniffed,
        *,
        skip_lines: int = 0,
        marker_line: str | None = MARKER,
        quote: str = '"',
        sentinel: str = "",
        lone_cr: str | None = None,
        progress: Progress | None = None,
        quotes: StrayQuotes | None = None,
    ) -> None:
        self.path, self.display, self.sniffed = path, display, sniffed
        self.codec = _codec(sniffed.encoding)
        self.skip_lines = skip_lines
        self.marker = marker_line.encode() + b"\n" if marker_line is not None else None
        self.quote = quote.encode()
        self.sentinel = sentinel.encode()
        self.lone_cr = lone_cr.encode() if lone_cr is not None and not sniffed.cr_only else None
        self.progress = progress or Progress()
        self.quotes = quotes  # the stray-quote filter (CSV), run on the UTF-8 lines before they are written
        self.result = TextPass()
        self._line_no = 0  # source lines consumed so far (1-based numbering of what follows)

    def run(self, out: BinaryIO) -> TextPass:
        digest = hashes.Hash(hashes.SM3())
        written = 0
        carry = b""
        try:
            with self.path.open("rb") as f:
                self.progress.bytes_total = self.path.stat().st_size
                first = True
                while True:
                    block = f.read(BLOCK)
                    digest.update(block)
                    self.progress.bytes_done += len(block)
                    data = carry + block
                    if first and self.sniffed.encoding == "utf-8-sig" and data.startswith(codecs.BOM_UTF8):
                        data = data[3:]
                    first = False
                    if not block:
                        if data and not data.endswith(b"\r" if self.sniffed.cr_only else b"\n"):
                            data += b"\n"
                        carry = b""
                    else:
                        cut = max(data.rfind(b"\n"), data.rfind(b"\r") if self.sniffed.cr_only else -1) + 1
                        data, carry = data[:cut], data[cut:]
                    if data:
                        written += self._block(data, out, written)
                    if not block:
                        break
        except OSError as exc:
            raise SourceUnreadable(f"文件 {self.display} 读取失败：{exc.strerror or exc}") from None
        if self.quotes is not None:
            self._write(self.quotes.finish(), out, written)
        if self.sentinel:
            out.write(self.sentinel)
        self.result.checksum = digest.finalize().hex()
        return self.result

    def _block(self, raw: bytes, out: BinaryIO, offset: int) -> int:
        raw = _normalize_newlines(raw, self.sniffed.cr_only)
        if self.skip_lines:
            raw = self._skip(raw)
            if not raw:
                return 0
        converted = self._convert(raw)
        if self.lone_cr is not None and b"\r" in converted:
            converted = converted.replace(b"\r", self.lone_cr)
            self.result.lone_cr = True
        if self.marker is not None and (converted.startswith(b"\n") or b"\n\n" in converted):
            converted = _BLANK_LINE.sub(self.marker[:-1].replace(b"\\", b"\\\\"), converted)
            self.result.marked = True
        first_line = self._line_no + 1
        self._line_no += converted.count(b"\n")
        if self.quotes is not None:
            converted = self.quotes.feed(converted, first_line)
        return self._write(converted, out, offset)

    def _write(self, converted: bytes, out: BinaryIO, offset: int) -> int:
        if not converted:
            return 0
        res = self.result
        if not res.first_char and converted.strip():
            res.first_char = chr(converted.lstrip()[0])
        if not res.has_quote and self.quote and self.quote in converted:
            res.has_quote = True
        res.blocks.append((offset, res.lines))
        res.lines += converted.count(b"\n")
        out.write(converted)
        return len(converted)

    def _skip(self, raw: bytes) -> bytes:
        pos = 0
        while self.skip_lines and pos < len(raw):
            pos = raw.index(b"\n", pos) + 1
            self.skip_lines -= 1
            self._line_no += 1
        return raw[pos:]

    def _convert(self, raw: bytes) -> bytes:
        """Decode a block of whole lines; fall back to line by line only when the block has a bad line."""
        try:
            text = raw.decode(self.codec)
        except UnicodeDecodeError:
            return self._by_line(raw)
        if self.codec == "gb18030" and self._has_utf8_line(raw):
            return self._by_line(raw)
        return raw if self.codec == "utf-8" else text.encode("utf-8")

    @staticmethod
    def _has_utf8_line(raw: bytes) -> bool:
        classes = raw.translate(_CLASSES)
        pos = classes.find(_UTF8_CJK_RUN)
        while pos != -1:
            start = raw.rfind(b"\n", 0, pos) + 1
            end = raw.find(b"\n", pos)
            end = len(raw) if end == -1 else end
            if _is_utf8(raw[start:end]):
                return True
            pos = classes.find(_UTF8_CJK_RUN, end)
        return False

    def _by_line(self, raw: bytes) -> bytes:
        parts: list[bytes] = []
        other = _other(self.codec)
        for index, line in enumerate(raw[:-1].split(b"\n")):
            try:
                text = line.decode(self.codec)
                if self.codec == "gb18030" and not line.isascii() and _is_utf8(line):
                    raise UnicodeDecodeError(self.codec, line, 0, 1, "UTF-8 line in a GB18030 file")
            except UnicodeDecodeError:
                row = self._line_no + index + 1
                shown = line.decode(other, errors="replace")
                self.result.malformed.append(
                    Malformed(
                        row=row,
                        raw=cut_raw(shown),
                        rule="encoding",
                        message=f"第{row}行：不是 {_label(self.sniffed.encoding)} 编码"
                        f"（疑为 {_label(other)}，原文按 {_label(other)} 显示）",
                    )
                )
                if self.marker is not None:
                    parts.append(self.marker)
                    continue
                text = line.decode(self.codec, errors="replace")
            parts.append(text.encode("utf-8") + b"\n")
        return b"".join(parts)


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
