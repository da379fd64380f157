"""NDJSON and JSON files through DuckDB's JSON functions.

Both end in the same staging table `s(line JSON text, ok BOOLEAN)`, one row per candidate record in
source order, and then share everything else: columns are the keys of the first 1,000 objects (in order
of first appearance) plus the mapping's expected columns; each column is `json_extract_string(line,
<JSON pointer>)` (a JSON pointer needs no quoting of odd key names), so nested values come out as their
compact JSON text. DuckDB re-serialises numbers (`1.50` reads as "1.5", `1e5` as "100000.0"); booleans
read as "true"/"false"; JSON null as null.

- NDJSON: the file goes through `encoding.Transcoder` (blank lines and wrong-encoding lines become marker
  lines), and DuckDB's `read_csv` reads it as one VARCHAR column per line (delimiter \\x01, no quoting: a
  raw control character is not valid JSON anyway). `strict_mode` must be off for that: with quoting off,
  DuckDB 2.0's strict state machine rejects the whole file. Lines over 16 MB become rejects. Every line
  is one DuckDB record, so rows are file lines.
- JSON: a top-level array (`read_json(format='array')`, streamed element by element), or an object with
  one array member such as {"data": [...]} (read whole, up to the file's size, then unnested). Rows are
  array index + 1. A wrong-encoding line cannot be cut out of a JSON document: its bytes are replaced
  by "�" and the line is reported (row None).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from govshare.collection.readers.base import Malformed, ReaderOptions, SourceUnreadable
from govshare.collection.readers.common import ReaderState, cut_raw
from govshare.collection.readers.encoding import MARKER, Sniffed, TextPass, Transcoder, sniff
from govshare.collection.readers.lines import RowMap
from govshare.collection.readers.stage import Stage, sql_str

KEY_SAMPLE = 1000
NDJSON_MAX_LINE = 16_000_000
WRAPPER_KEYS = ("data", "records", "rows", "items", "list", "result", "results")
_TYPES = {"ARRAY": "数组", "VARCHAR": "字符串", "BOOLEAN": "布尔值", "NULL": "null"}


def open_json(path: Path, kind: str, options: ReaderOptions) -> JsonReader:
    sniffed = sniff(path, path.name, options.encoding)
    return JsonReader(
        path, sniffed, "ndjson" if kind == "ndjson" or _looks_ndjson(sniffed.text) else "json", options
    )


def _looks_ndjson(text: str) -> bool:
    """A .json file that is really NDJSON: its first line is a whole object and another line follows."""
    lines = [line for line in text.split("\n", 3)[:3] if line.strip()]
    if len(lines) < 2 or not lines[1].lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(lines[0]), dict)
    except ValueError:
        return False


def _pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


class JsonReader(ReaderState):
    def __init__(self, path: Path, sniffed: Sniffed, fmt: str, options: ReaderOptions) -> None:
        super().__init__()
        self.path, self.display, self.sniffed, self.fmt, self.options = path, path.name, sniffed, fmt, options
        self.encoding = sniffed.encoding
        self._reject_lines: list[int] = []  # NDJSON lines DuckDB rejected (too long, control characters)
        if not sniffed.text.strip():
            raise SourceUnreadable(f"文件 {self.display} 是空文件")

    def chunks(self) -> Iterator[pl.DataFrame]:
        stage = Stage(self.options.scratch_dir, self.options.memory_mb)
        try:
            yield from self._read(stage)
        finally:
            stage.close()

    def _read(self, stage: Stage) -> Iterator[pl.DataFrame]:
        text_path = stage.path("data.json")
        marker = MARKER if self.fmt == "ndjson" else None
        with text_path.open("wb") as out:
            passed = Transcoder(
                self.path,
                self.display,
                self.sniffed,
                marker_line=marker,
                quote="",
                lone_cr=" " if self.fmt == "ndjson" else None,  # JSON whitespace; NDJSON records are lines
                progress=self.progress,
            ).run(out)
        self.checksum = passed.checksum
        try:
            if self.fmt == "ndjson":
                to_row = self._stage_ndjson(stage, text_path)
            else:
                to_row = self._stage_json(stage, text_path, passed)
        except SourceUnreadable:
            raise
        except Exception as exc:  # duckdb.Error
            raise SourceUnreadable(
                f"文件 {self.display} 不是有效的 JSON：{str(exc).splitlines()[0]}"
            ) from None
        total = stage.count("SELECT count(*) FROM s")
        self._classify(stage, to_row, passed)
        keys = stage.frame(f"SELECT json_keys(line) AS k FROM s WHERE ok ORDER BY rowid LIMIT {KEY_SAMPLE}")  # noqa: S608
        columns = list(dict.fromkeys(k for ks in keys["k"].to_list() for k in ks or []))
        columns += [c for c in dict.fromkeys(self.options.expected_columns) if c not in columns]
        self.columns = columns
        if not columns:
            return
        select = ", ".join(
            f"json_extract_string(line, {sql_str(_pointer(c))}) AS c{i}" for i, c in enumerate(columns)
        )
        yield from (
            self.emit(f) for f in stage.slices(select, "s", total, self.options.chunk_rows, where="ok")
        )

    def _stage_ndjson(self, stage: Stage, text_path: Path) -> RowMap:
        stage.run(
            "CREATE TABLE s AS SELECT line, "  # noqa: S608 - a path of ours as a quoted literal
            "CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END AS ok "
            f"FROM read_csv({sql_str(str(text_path))}, columns={{'line': 'VARCHAR'}}, header=false, "
            f"auto_detect=false, delim={sql_str(chr(1))}, quote='', escape='', store_rejects=true, "
            f"strict_mode=false, parallel=false, max_line_size={NDJSON_MAX_LINE})"
        )
        rejects = stage.frame(
            "SELECT line, first(csv_line) AS raw FROM reject_errors GROUP BY line ORDER BY line"
        )
        lines = rejects["line"].to_list()
        for line, raw in rejects.iter_rows():
            self.malformed.append(
                Malformed(
                    line,
                    cut_raw(raw or ""),
                    "json.invalid",
                    f"第{line}行：不是有效的 JSON（行过长或含控制字符）",
                )
            )
        self._reject_lines = lines
        return RowMap.from_skipped_rows(0, lines)  # staged row ordinal -> file line

    def _stage_json(self, stage: Stage, text_path: Path, passed: TextPass) -> RowMap:
        for m in passed.malformed:
            m_text = f"文件{m.message}，无法识别的字节已替换为“�”"
            self.malformed.append(Malformed(None, m.raw, m.rule, m_text))
        passed.malformed.clear()
        path = sql_str(str(text_path))
        if passed.first_char == "[":
            stage.run(
                "CREATE TABLE s AS SELECT json AS line, "  # noqa: S608 - a path of ours as a quoted literal
                "coalesce(json_type(json) = 'OBJECT', false) AS ok "
                f"FROM read_json({path}, format='array', records=false, columns={{'json': 'JSON'}}, "
                f"maximum_object_size={NDJSON_MAX_LINE * 4})"
            )
            return RowMap(0)
        if passed.first_char != "{":
            raise SourceUnreadable(f"文件 {self.display} 不是 JSON 文件（应以“[”或“{{”开头）")
        size = max(text_path.stat().st_size + 1024, 1 << 20)
        stage.run(
            f"CREATE TABLE doc AS SELECT json FROM read_json({path}, "  # noqa: S608 - our path, quoted
            "format='unstructured', records=false, "
            f"columns={{'json': 'JSON'}}, maximum_object_size={size})"
        )
        arrays = [
            str(key)
            for (key,) in stage.run("SELECT unnest(json_keys(json)) FROM doc")
            if stage.run("SELECT json_type(json, ?) FROM doc", [_pointer(str(key))])[0][0] == "ARRAY"
        ]
        if len(arrays) > 1:
            arrays = [k for k in arrays if k.lower() in WRAPPER_KEYS][:1] or arrays
        if len(arrays) != 1:
            found = "没有数组成员" if not arrays else f"有多个数组成员（{'、'.join(arrays)}）"
            raise SourceUnreadable(f"文件 {self.display} 顶层是 JSON 对象，但{found}，找不到记录数组")
        stage.run(
            "CREATE TABLE s AS SELECT line, coalesce(json_type(line) = 'OBJECT', false) AS ok FROM "
            "(SELECT unnest(CAST(json_extract(json, ?) AS JSON[])) AS line FROM doc)",
            [_pointer(arrays[0])],
        )
        return RowMap(0)

    def _classify(self, stage: Stage, to_row: RowMap, passed: TextPass) -> None:
        """Malformed entries for the staged rows that are not objects, and the row map of the good ones."""
        bad = stage.frame(
            "SELECT rowid + 1 AS n, line, json_valid(line) AS valid, "
            "CASE WHEN json_valid(line) THEN json_type(line) END AS type FROM s "
            "WHERE NOT ok ORDER BY rowid"
        )
        rows = to_row(bad["n"]).to_list()
        for row, (line, valid, kind) in zip(
            rows, bad.select("line", "valid", "type").iter_rows(), strict=True
        ):
            if line == MARKER or (line is None and self.fmt == "ndjson"):
                continue  # a blank line, or a wrong-encoding line the transcoder has reported
            where = f"第{row}行" if self.fmt == "ndjson" else f"第{row}条"
            if valid is False:
                self.malformed.append(
                    Malformed(row, cut_raw(line), "json.invalid", f"{where}：不是有效的 JSON")
                )
            else:
                shown = _TYPES.get(kind or "NULL", "数字")
                msg = f"{where}：不是 JSON 对象（是{shown}）"
                self.malformed.append(Malformed(row, cut_raw(line or "null"), "json.not_object", msg))
        self.malformed.extend(passed.malformed)
        self.malformed.sort(key=lambda m: m.row or 0)
        self.rows = RowMap.from_skipped_rows(0, sorted([*rows, *self._reject_lines]))
