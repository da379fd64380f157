"""CSV and TSV through DuckDB's `read_csv`.

We read the header ourselves from the sniffed sample (so IDs stay text and title rows above the header are
skipped), stream the data lines through `encoding.Transcoder` into a clean UTF-8 file, and let DuckDB
parse that file with `auto_detect=false`, every column VARCHAR, `strict_mode`, `store_rejects` and
`parallel=false` into a staging table (see `stage`).

What DuckDB 2.0 does that shapes this code (found by experiment):
- `reject_errors.line` counts *records* (blank lines included), not physical lines: a record with embedded
  newlines counts once. One record can have several reject rows (e.g. one per missing column); we merge
  them by `line`. `csv_line` is the record's text, capped at 10,000 characters, and after a CRLF or blank
  line it can start with "\\n". `line_byte_position` is sometimes one byte late after an over-long line.
- A quote left open until the end of the file makes DuckDB drop everything from that record on, without
  a reject. We append a sentinel after the last line, a quote followed by the marker character: on a
  clean file it opens a quoted field that never closes, which DuckDB drops silently; a runaway quote is
  closed by it, and the marker right after the closing quote makes that record a reject we report.
- Mixed line ends make strict mode fail outright, hence the normalisation to "\\n" in the transcoder.
- A line longer than `max_line_size` (2,000,000 bytes by default) becomes a `LINE SIZE OVER MAXIMUM`
  reject and the parser carries on.

Row numbers are exact file lines: rejects are placed by their byte offsets (`lines.line_numbers`), a
reject's span follows from the next reject's position, and good records with embedded newlines are found
by one extra query when the line count says they exist (see `_place`). Empty fields read as null.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from govshare.collection.readers.base import Malformed, ReaderOptions, SourceUnreadable
from govshare.collection.readers.common import (
    HEADER_SEARCH_ROWS,
    ReaderState,
    clean_names,
    cut_raw,
    pick_header,
)
from govshare.collection.readers.encoding import CR_MARK, MARKER, Transcoder, sniff
from govshare.collection.readers.lines import RowMap, line_numbers
from govshare.collection.readers.quotes import StrayQuotes
from govshare.collection.readers.stage import Stage, sql_str


def find_header(
    text: str, delimiter: str, quote: str, header_row: int | None, expected: list[str], display: str
) -> tuple[list[str], int, int]:
    """(header cells, the header's first line, its last line) from the decoded sample.

    Given `header_row` (a 1-based line): the record starting on that line. Otherwise the first of the
    first 30 records holding the most of `expected` (at least one); failing that, the first record.
    """
    csv.field_size_limit(1 << 30)
    reader = csv.reader(
        io.StringIO(text),
        delimiter=delimiter,
        quotechar=quote or None,
        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
        strict=False,
    )
    candidates: list[tuple[list[str], int, int]] = []
    end = 0
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num
            if header_row is not None:
                if start <= header_row <= end:
                    if not any(cell.strip() for cell in cells):
                        raise SourceUnreadable(f"文件 {display} 第{header_row}行是空行，不是表头")
                    return cells, start, end
                continue
            if any(cell.strip() for cell in cells):
                candidates.append((cells, start, end))
                if len(candidates) >= HEADER_SEARCH_ROWS:
                    break
    except csv.Error:
        pass  # an unparsable line before the header: search among what came before it
    if header_row is not None:
        raise SourceUnreadable(f"文件 {display} 没有第{header_row}行，找不到指定的表头行")
    if not candidates:
        raise SourceUnreadable(f"文件 {display} 是空文件，没有表头")
    return candidates[pick_header([list(c[0]) for c in candidates], expected)]


class CsvReader(ReaderState):
    def __init__(self, path: Path, kind: str, options: ReaderOptions) -> None:
        super().__init__()
        self.path, self.display, self.options = path, path.name, options
        self.delimiter = options.delimiter or ("\t" if kind == "tsv" else ",")
        self.quote = options.quote or ""
        if len(self.delimiter) != 1 or self.delimiter in "\r\n" or self.delimiter == self.quote:
            raise SourceUnreadable(f"文件 {self.display} 的分隔符设置“{self.delimiter}”无效")
        if len(self.quote) > 1 or (self.quote in "\r\n" and self.quote):
            raise SourceUnreadable(f"文件 {self.display} 的引号设置“{self.quote}”无效")
        self.sniffed = sniff(path, self.display, options.encoding)
        self.encoding = self.sniffed.encoding
        cells, self.header_row, self.header_end = find_header(
            self.sniffed.text,
            self.delimiter,
            self.quote,
            options.header_row,
            options.expected_columns,
            self.display,
        )
        self.columns = clean_names(list(cells))
        self.rows = RowMap(self.header_end)
        # A blank line becomes a one-field marker line, a reject for any file of two or more columns;
        # for a one-column file the marker has two fields, so it is still a reject.
        # After the last line: a quote and a marker (see the module docstring).
        self.sentinel = self.quote + MARKER if self.quote else ""
        self.marker_line = MARKER if len(self.columns) > 1 else MARKER + self.delimiter + MARKER
        # A stray quote is decided per line before DuckDB parses (see `quotes`); an ASCII quote only.
        self.quotes = (
            StrayQuotes(
                self.delimiter,
                self.quote,
                len(self.columns),
                self.marker_line.encode(),
                span_lines=options.quote_span_lines,
                span_bytes=options.quote_span_bytes,
            )
            if len(self.quote.encode()) == 1
            else None
        )

    def chunks(self) -> Iterator[pl.DataFrame]:
        stage = Stage(self.options.scratch_dir, self.options.memory_mb)
        try:
            yield from self._read(stage)
        finally:
            stage.close()

    def _read(self, stage: Stage) -> Iterator[pl.DataFrame]:
        text_path = stage.path("data.csv")
        with text_path.open("wb") as out:
            passed = Transcoder(
                self.path,
                self.display,
                self.sniffed,
                skip_lines=self.header_end,
                marker_line=self.marker_line,
                quote=self.quote,
                sentinel=self.sentinel,
                lone_cr=CR_MARK,
                progress=self.progress,
                quotes=self.quotes,
            ).run(out)
        if self.quotes is not None:
            self.recovered = self.quotes.recovered
            self.malformed.extend(self.quotes.malformed)
        self.checksum = passed.checksum
        internal = [f"c{i}" for i in range(len(self.columns))]
        columns = ", ".join(f"{sql_str(name)}: 'VARCHAR'" for name in internal)
        escape = self.quote
        source = (
            f"read_csv({sql_str(str(text_path))}, columns={{{columns}}}, header=false, auto_detect=false, "
            f"delim={sql_str(self.delimiter)}, quote={sql_str(self.quote)}, escape={sql_str(escape)}, "
            "store_rejects=true, strict_mode=true, parallel=false, null_padding=false)"
        )
        exprs = internal
        if passed.marked and passed.has_quote:  # a marker line inside a quoted value stands for a blank line
            exprs = [f"replace({c}, {sql_str(self.marker_line)}, '')" for c in exprs]
        if passed.lone_cr:
            exprs = [f"replace({e}, {sql_str(CR_MARK)}, chr(13))" for e in exprs]
        select = ", ".join(f"{e} AS {c}" for e, c in zip(exprs, internal, strict=True))
        try:
            stage.run(f"CREATE TABLE s AS SELECT {select} FROM {source}")  # noqa: S608 - our names, quoted literals
        except Exception as exc:  # duckdb.Error: a file the parser cannot get through at all
            raise SourceUnreadable(
                f"文件 {self.display} 无法按 CSV 解析：{str(exc).splitlines()[0]}"
            ) from None
        goods = stage.count("SELECT count(*) FROM s")
        rejects = stage.frame(
            "SELECT line, line_byte_position AS pos, error_type AS kind, csv_line AS raw, "
            "error_message AS msg FROM reject_errors ORDER BY line, column_idx"
        )
        self._place(stage, text_path, passed.lines, passed.blocks, goods, rejects, internal)
        self.malformed.extend(passed.malformed)
        self.malformed.sort(key=lambda m: m.row or 0)
        yield from (
            self.emit(f) for f in stage.slices(", ".join(internal), "s", goods, self.options.chunk_rows)
        )

    def _place(
        self,
        stage: Stage,
        text_path: Path,
        lines: int,
        blocks: list[tuple[int, int]],
        goods: int,
        rejects: pl.DataFrame,
        internal: list[str],
    ) -> None:
        """Turn DuckDB's rejects into Malformed entries and build the row map (all in exact file lines)."""
        merged = (
            rejects.with_columns(
                pl.col("raw")
                .fill_null("")
                .str.strip_chars_start("\n")
                .str.replace_all(CR_MARK, "\r", literal=True)
            )
            .group_by("line", maintain_order=True)
            .agg(pl.col("pos").min(), pl.col("raw").first(), pl.col("kind"), pl.col("msg"))
            .filter(pl.col("raw") != self.sentinel if self.sentinel else pl.lit(True))  # the sentinel alone
        )
        count = merged.height
        tall_ords: list[int] = []
        tall_extra: list[int] = []
        if lines > goods + count:  # some records span several lines: find the good ones that do
            nl = " + ".join(f"coalesce(length({c}) - length(replace({c}, chr(10), '')), 0)" for c in internal)
            has_nl = " OR ".join(f"contains({c}, chr(10))" for c in internal)
            sql = f"SELECT rowid + 1 AS ord, {nl} AS extra FROM s WHERE {has_nl} ORDER BY rowid"  # noqa: S608
            tall = stage.frame(sql)
            tall_ords, tall_extra = tall["ord"].to_list(), tall["extra"].to_list()
        self.rows = RowMap(self.header_end, tall_ords=tall_ords, tall_extra=tall_extra)
        if not count:
            return
        d = merged["line"].to_list()
        starts = line_numbers(text_path, blocks, merged["pos"].to_list())
        before = [d[i] - 1 - i for i in range(count)]
        # span of reject i = lines up to the next reject (or the end) minus the good lines in between
        anchors = [*starts[1:], lines + 1]
        after = [*before[1:], goods]
        extra_after = self.rows.extra_before([a + 1 for a in after])
        extra_before = self.rows.extra_before([b + 1 for b in before])
        spans = [
            max(anchors[i] - starts[i] - (after[i] - before[i] + extra_after[i] - extra_before[i]), 1)
            for i in range(count)
        ]
        self.rows = RowMap(self.header_end, before, spans, tall_ords, tall_extra)
        for i, (raw, kinds, msgs) in enumerate(merged.select("raw", "kind", "msg").iter_rows()):
            if raw == self.marker_line:
                continue  # a blank line or a line in the wrong encoding (reported by the transcoder)
            last = i == count - 1 and after[i] == goods
            to_end = bool(self.sentinel) and last and raw.endswith(self.sentinel)
            if to_end:
                raw = raw[: -len(self.sentinel)].rstrip("\n")
            self.malformed.append(
                self._malformed(self.header_end + starts[i], spans[i], raw, kinds, msgs, to_end)
            )

    def _malformed(
        self, row: int, span: int, raw: str, kinds: list[str], msgs: list[str], to_end: bool
    ) -> Malformed:
        where = f"第{row}行" if span == 1 else f"第{row}–{row + span - 1}行"
        expected = len(self.columns)
        if to_end:
            return Malformed(row, cut_raw(raw), "csv.quote", f"{where}：引号未闭合（一直到文件末尾）")
        if "LINE SIZE OVER MAXIMUM" in kinds:
            return Malformed(row, cut_raw(raw), "csv.line_too_long", f"{where}：行长度超过 2 MB 上限")
        if "UNQUOTED VALUE" in kinds:
            text = "引号未闭合" if span > 1 else "引号不成对（引号未闭合，或闭合引号后紧跟其他字符）"
            return Malformed(row, cut_raw(raw), "csv.quote", f"{where}：{text}")
        if "INVALID ENCODING" in kinds or "INVALID UNICODE" in kinds:
            return Malformed(row, cut_raw(raw), "encoding", f"{where}：含有无法识别的字符编码")
        found = [int(m.rsplit(":", 1)[1]) for m in msgs if m and "Found:" in m]
        if found:
            actual = max(found) if "TOO MANY COLUMNS" in kinds else min(found)
            return Malformed(row, cut_raw(raw), "csv.columns", f"{where}：应有{expected}列，实有{actual}列")
        detail = "；".join(dict.fromkeys(m.splitlines()[0] for m in msgs if m))
        return Malformed(row, cut_raw(raw), "csv.columns", f"{where}：无法解析（{detail}）")
