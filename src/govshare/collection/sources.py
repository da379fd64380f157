"""Opening the reader a started batch needs: a file, a database table or query, or pushed records.

A database batch reads through the connection `service._start` opened from the registry
(`collection/connections.py`): the URL, the table or the query as checked there; the mapping holds no URL."""

from __future__ import annotations

from pathlib import Path

from govshare.collection.mapping import DATABASE_KINDS, FILE_KINDS, Mapping
from govshare.collection.readers.base import ReaderOptions, SourceReader, SourceUnreadable
from govshare.collection.service import Started


def reader_options(
    mapping: Mapping,
    chunk_rows: int,
    scratch_dir: Path | None = None,
    memory_mb: int = 1024,
    quote_span: tuple[int, int] = (5, 4096),
) -> ReaderOptions:
    spec = mapping.source
    return ReaderOptions(
        encoding=spec.encoding,
        delimiter=spec.delimiter,
        header_row=spec.header_row if isinstance(spec.header_row, int) else None,
        sheet=spec.sheet,
        expected_columns=mapping.source_columns(),
        chunk_rows=chunk_rows,
        scratch_dir=scratch_dir,
        memory_mb=memory_mb,
        quote_span_lines=quote_span[0],
        quote_span_bytes=quote_span[1],
    )


def open_reader(
    started: Started,
    *,
    chunk_rows: int,
    scratch_dir: Path | None = None,
    memory_mb: int = 1024,
    path: str | None = None,
    records: list[object] | None = None,
    quote_span: tuple[int, int] = (5, 4096),
) -> SourceReader:
    from govshare.collection.readers import open_database, open_file, open_records

    mapping = started.mapping
    options = reader_options(mapping, chunk_rows, scratch_dir, memory_mb, quote_span)
    if records is not None:
        return open_records(records, options)
    if started.kind in FILE_KINDS or path is not None:
        file_path = mapping.source_path(path)
        if file_path is None:
            raise SourceUnreadable("映射未给出数据文件（source.path 或命令行的 SOURCE）")
        kind = started.kind if started.kind in FILE_KINDS else file_path.suffix.lower().lstrip(".")
        if not Path(file_path).is_file():
            raise SourceUnreadable(f"文件 {file_path} 不存在或不可读")
        return open_file(Path(file_path), kind, options)
    if started.kind in DATABASE_KINDS:
        opened = started.opened
        if opened is None:
            raise SourceUnreadable("映射未给出数据源连接（source.connection）")
        cursor_column = None
        if mapping.cursor:
            cursor_column = next(i.source for i in started.prepared.plan.items if i.field == mapping.cursor)
        connection = opened.connection
        return open_database(
            connection.url,
            table=opened.table,
            query=opened.query,
            cursor_column=cursor_column,
            after=started.cursor_after,
            options=options,
            name=connection.name,
            connect_timeout=connection.connect_timeout,
            read_timeout=connection.read_timeout,
        )
    raise SourceUnreadable(f"数据源类型 {started.kind} 需要推送数据")
