"""Database reader against real PostgreSQL, MariaDB and SQLite (servers from conftest; never skipped)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pymysql
import pytest

from govshare.collection.readers import ORD, ReaderOptions, SourceUnreadable, open_database
from tests.collection.readers.util import read_all, rows_of

OPTIONS = ReaderOptions()


@pytest.fixture
def pg_table(pg_url: str) -> Iterator[str]:
    schema = f"rd_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(
            f"""CREATE TABLE {schema}.人口 (
                id integer PRIMARY KEY, 姓名 varchar(20), 身份证号 text, 金额 numeric(12, 2),
                生日 date, 登记 timestamp, 更新 timestamptz, 在职 boolean, 照片 bytea,
                比例 double precision, 备注 text)"""
        )
        conn.execute(
            f"""INSERT INTO {schema}.人口 VALUES
            (1, '张三', '11010119900307123X', 1234567.50, '1990-03-07', '2024-01-02 03:04:05',
             '2024-01-02 03:04:05+08', true, '\\xdead', 1e20, NULL),
            (2, '李四', '110101199003071234', 0.10, '1991-04-08', '2024-01-02 03:04:05.25',
             '2024-01-01 19:04:05+00', false, NULL, 0.5, '北京%'),
            (3, '王五', '0101', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '')"""
        )
        yield f"{schema}.人口"
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_postgresql_table_types(pg_url: str, pg_table: str) -> None:
    reader = open_database(pg_url, table=pg_table, query=None, cursor_column="id", options=OPTIONS)
    frame = read_all(reader)
    assert reader.columns == [
        "id",
        "姓名",
        "身份证号",
        "金额",
        "生日",
        "登记",
        "更新",
        "在职",
        "照片",
        "比例",
        "备注",
    ]
    assert frame.drop(ORD).rows() == [
        ("1", "张三", "11010119900307123X", "1234567.50", "1990-03-07", "2024-01-02 03:04:05",
         "2024-01-02 03:04:05", "1", "dead", "100000000000000000000", None),
        ("2", "李四", "110101199003071234", "0.10", "1991-04-08", "2024-01-02 03:04:05.250000",
         "2024-01-02 03:04:05", "0", None, "0.5", "北京%"),
        ("3", "王五", "0101", None, None, None, None, None, None, None, ""),
    ]  # fmt: skip
    assert rows_of(reader, frame) == [1, 2, 3]
    assert reader.checksum and len(reader.checksum) == 64
    again = open_database(pg_url, table=pg_table, query=None, cursor_column="id", options=OPTIONS)
    read_all(again)
    assert again.checksum == reader.checksum
    assert reader.encoding is None and reader.malformed == []


def test_postgresql_query_with_percent_and_incremental_cursor(pg_url: str, pg_table: str) -> None:
    query = f"SELECT id, 姓名, 备注 FROM {pg_table} WHERE 备注 LIKE '北京%' OR 备注 = '' OR id = 1;"
    reader = open_database(pg_url, table=None, query=query, cursor_column="id", after="1", options=OPTIONS)
    assert read_all(reader).drop(ORD).rows() == [("2", "李四", "北京%"), ("3", "王五", "")]
    full = open_database(pg_url, table=None, query=query, options=OPTIONS)
    assert sorted(read_all(full)["id"].to_list()) == ["1", "2", "3"]


def test_postgresql_errors(pg_url: str, pg_table: str) -> None:
    with pytest.raises(SourceUnreadable, match=r"读取数据源“数据库”的表 public\.no_such_table_xyz失败"):
        read_all(open_database(pg_url, table="public.no_such_table_xyz", query=None, options=OPTIONS))
    with pytest.raises(SourceUnreadable, match="读取数据源“数据库”的查询失败"):
        read_all(open_database(pg_url, table=None, query="SELEC nonsense", options=OPTIONS))
    with pytest.raises(SourceUnreadable, match="读取"):
        read_all(
            open_database(
                pg_url, table=pg_table, query=None, cursor_column="无此字段", after="1", options=OPTIONS
            )
        )
    with pytest.raises(SourceUnreadable, match="的查询失败"):  # the session is read-only
        read_all(
            open_database(pg_url, table=None, query=f"DELETE FROM {pg_table} RETURNING id", options=OPTIONS)
        )


def test_postgresql_unreachable_names_the_connection_only() -> None:
    url = "postgresql://postgres:S3cret-Pw@127.0.0.1:1/postgres"
    with pytest.raises(SourceUnreadable) as info:
        read_all(open_database(url, table="t", query=None, options=OPTIONS, name="公安人口库"))
    assert info.value.message == "无法连接数据源“公安人口库”"  # no URL, host, port or driver message


@pytest.mark.parametrize(
    ("table", "cursor"),
    [("x; drop table y", None), ("a.b.c", None), ('t"', None), ("1abc", None), ("t", "id; drop table y")],
)
def test_identifiers_are_validated(pg_url: str, table: str, cursor: str | None) -> None:
    with pytest.raises(SourceUnreadable, match="无效"):
        open_database(pg_url, table=table, query=None, cursor_column=cursor, after="1", options=OPTIONS)


def test_exactly_one_of_table_or_query(pg_url: str) -> None:
    with pytest.raises(SourceUnreadable, match="其中之一"):
        open_database(pg_url, table="t", query="SELECT 1", options=OPTIONS)
    with pytest.raises(SourceUnreadable, match="其中之一"):
        open_database(pg_url, table=None, query=None, options=OPTIONS)
    with pytest.raises(SourceUnreadable, match="不支持的数据库类型"):
        open_database("oracle://x@y/z", table="t", query=None, options=OPTIONS)


def test_postgresql_chunks(pg_url: str) -> None:
    query = "SELECT lpad(g::text, 5, '0') AS 编码, g AS n FROM generate_series(1, 5000) AS g"
    reader = open_database(
        pg_url, table=None, query=query, cursor_column="n", options=ReaderOptions(chunk_rows=1000)
    )
    frames = list(reader.chunks())
    assert [f.height for f in frames] == [1000] * 5
    assert [f[ORD][0] for f in frames] == [1, 1001, 2001, 3001, 4001]
    assert frames[0]["编码"][0] == "00001"
    assert rows_of(reader, frames[4])[-1] == 5000
    assert reader.progress.records == 5000


@pytest.fixture
def mariadb_table(mariadb_url: str) -> Iterator[str]:
    name = f"rd_{uuid.uuid4().hex[:12]}"
    conn = pymysql.connect(
        host="127.0.0.1", port=3306, user="root", password="", database="test", charset="utf8mb4"
    )
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"""CREATE TABLE {name} (id INT PRIMARY KEY, 姓名 VARCHAR(20), 身份证号 VARCHAR(18),
                金额 DECIMAL(12, 2), 生日 DATE, 登记 DATETIME, 精确 DATETIME(6), 在职 BOOLEAN, 照片 BLOB,
                时长 TIME, 备注 TEXT) DEFAULT CHARSET=utf8mb4"""
            )
            cur.execute(
                f"""INSERT INTO {name} VALUES
                (1, '张三', '11010119900307123X', 1234567.50, '1990-03-07', '2024-01-02 03:04:05',
                 '2024-01-02 03:04:05.250000', TRUE, X'DEAD', '12:30:00', NULL),
                (2, '王𠀀', '0101', 0.10, NULL, NULL, '2024-01-02 03:04:05', FALSE, NULL, '-01:00:00',
                 '百分号%'),
                (3, '李四', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '')"""
            )
        conn.commit()
        yield name
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {name}")
        conn.commit()
        conn.close()


def test_mariadb_table_types_and_incremental(mariadb_url: str, mariadb_table: str) -> None:
    reader = open_database(mariadb_url, table=mariadb_table, query=None, cursor_column="id", options=OPTIONS)
    frame = read_all(reader)
    assert frame.drop(ORD).rows() == [
        ("1", "张三", "11010119900307123X", "1234567.50", "1990-03-07", "2024-01-02 03:04:05",
         "2024-01-02 03:04:05.250000", "1", "dead", "12:30:00", None),
        ("2", "王𠀀", "0101", "0.10", None, None, "2024-01-02 03:04:05", "0", None, "-01:00:00", "百分号%"),
        ("3", "李四", None, None, None, None, None, None, None, None, ""),
    ]  # fmt: skip
    query = f"SELECT id, 姓名 FROM {mariadb_table} WHERE 备注 LIKE '百分号%' OR id = 3"
    later = open_database(
        mariadb_url, table=None, query=query, cursor_column="id", after="1", options=OPTIONS
    )
    assert read_all(later).drop(ORD).rows() == [("2", "王𠀀"), ("3", "李四")]


def test_mariadb_errors_name_the_connection_only(mariadb_url: str) -> None:
    url = "mysql://root:Wr0ng-Secret@127.0.0.1:3306/test"
    with pytest.raises(SourceUnreadable) as info:
        read_all(open_database(url, table="t", query=None, options=OPTIONS))
    assert info.value.message == "无法连接数据源“数据库”"
    with pytest.raises(SourceUnreadable, match="读取数据源“数据库”的表 no_such_table_xyz失败"):
        read_all(open_database(mariadb_url, table="no_such_table_xyz", query=None, options=OPTIONS))
    with pytest.raises(SourceUnreadable, match="无法连接数据源"):
        read_all(open_database("mariadb://root@127.0.0.1:1/test", table="t", query=None, options=OPTIONS))


def test_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "src.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE 单位 (id INTEGER, 名称 TEXT, 分 REAL, 数据 BLOB, 混合)")
    conn.executemany(
        "INSERT INTO 单位 VALUES (?, ?, ?, ?, ?)",
        [
            (1, "市公安局", 1.5, b"\x01\xff", 1),
            (2, "市民政局", 2.0, None, "文字"),
            (3, None, None, None, 2.5),
        ],
    )
    conn.commit()
    conn.close()
    url = f"sqlite:///{path}"
    reader = open_database(url, table="单位", query=None, cursor_column="id", options=OPTIONS)
    assert read_all(reader).drop(ORD).rows() == [
        ("1", "市公安局", "1.5", "01ff", "1"),
        ("2", "市民政局", "2", None, "文字"),
        ("3", None, None, None, "2.5"),
    ]
    later = open_database(
        url, table=None, query="SELECT id, 名称 FROM 单位", cursor_column="id", after="1", options=OPTIONS
    )
    assert read_all(later)["id"].to_list() == ["2", "3"]
    with pytest.raises(SourceUnreadable, match="读取数据源“数据库”的表 无此表失败"):
        read_all(open_database(url, table="无此表", query=None, options=OPTIONS))
    with pytest.raises(SourceUnreadable, match="无法连接数据源"):
        read_all(
            open_database(f"sqlite:///{tmp_path / 'missing.db'}", table="t", query=None, options=OPTIONS)
        )
    assert not (tmp_path / "missing.db").exists()
