"""XLSX and XLS reader (workbooks written by openpyxl and xlwt in the test)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
import xlwt

from govshare.collection.readers import ORD, ReaderOptions, SourceUnreadable, open_file
from govshare.core.sm import sm3_hex
from tests.collection.readers.util import read_all, rows_of

EXPECTED = ["身份证号", "姓名", "行政区划代码", "出生日期"]


def _population_xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人口"
    ws.append(["某某市人口信息表"])  # row 1, merged title
    ws.merge_cells("A1:F1")
    ws.append([])  # row 2 blank
    ws.append(["身份证号", "姓名", "行政区划代码", "出生日期", "登记时间", "金额"])  # row 3 header
    ws.append(
        ["11010119900307123X", "张三", "0101", dt.date(1990, 3, 7), dt.datetime(2024, 1, 2, 3, 4, 5), 1.5]
    )
    ws.append([None] * 6)  # row 5 blank
    ws.append([110101199003071, "李四", 101, dt.datetime(1991, 4, 8), dt.datetime(2024, 1, 2, 0, 0), 100.0])
    ws.append(["110101199003071234", "王𠀀", "000123", None, None, 1e20])
    wb.create_sheet("其他").append(["x"])
    wb.save(path)
    return path


def test_xlsx_title_rows_numbers_text_and_dates(tmp_path: Path) -> None:
    path = _population_xlsx(tmp_path / "人口.xlsx")
    reader = open_file(path, "xlsx", ReaderOptions(expected_columns=EXPECTED))
    frame = read_all(reader)
    assert reader.columns == ["身份证号", "姓名", "行政区划代码", "出生日期", "登记时间", "金额"]
    assert frame.drop(ORD).rows() == [
        ("11010119900307123X", "张三", "0101", "1990-03-07", "2024-01-02 03:04:05", "1.5"),
        ("110101199003071", "李四", "101", "1991-04-08", "2024-01-02", "100"),
        ("110101199003071234", "王𠀀", "000123", None, None, "100000000000000000000"),
    ]
    assert rows_of(reader, frame) == [4, 6, 7]
    assert reader.checksum == sm3_hex(path.read_bytes())
    assert reader.malformed == []
    assert reader.progress.records == 3


def test_sheet_by_name_index_and_missing(tmp_path: Path) -> None:
    path = _population_xlsx(tmp_path / "p.xlsx")
    assert open_file(path, "xlsx", ReaderOptions(sheet="其他")).columns == ["x"]
    assert open_file(path, "xlsx", ReaderOptions(sheet=1)).columns == ["x"]
    with pytest.raises(SourceUnreadable, match="没有工作表“户籍”（现有：人口、其他）"):
        open_file(path, "xlsx", ReaderOptions(sheet="户籍"))
    with pytest.raises(SourceUnreadable, match="没有第3个工作表"):
        open_file(path, "xlsx", ReaderOptions(sheet=2))


def test_header_row_given(tmp_path: Path) -> None:
    path = _population_xlsx(tmp_path / "p.xlsx")
    reader = open_file(path, "xlsx", ReaderOptions(header_row=3))
    assert reader.columns[0] == "身份证号"
    with pytest.raises(SourceUnreadable, match="第2行没有表头"):
        open_file(path, "xlsx", ReaderOptions(header_row=2))


def test_without_expected_columns_the_first_filled_row_is_the_header(tmp_path: Path) -> None:
    path = _population_xlsx(tmp_path / "p.xlsx")
    reader = open_file(path, "xlsx", ReaderOptions())
    assert reader.columns[0] == "某某市人口信息表"


def test_a_truncated_workbook_is_unreadable(tmp_path: Path) -> None:
    data = _population_xlsx(tmp_path / "p.xlsx").read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceUnreadable, match=r"工作簿 cut\.xlsx 已损坏或不是有效的 Excel 文件"):
        read_all(open_file(cut, "xlsx", ReaderOptions()))


@pytest.mark.parametrize("data", [b"", b"a,b\n1,2\n", b"PK\x03\x04garbage"])
def test_not_a_workbook(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(data)
    with pytest.raises(SourceUnreadable, match="已损坏或不是有效的 Excel 文件"):
        read_all(open_file(path, "xlsx", ReaderOptions()))


def test_an_empty_sheet_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(SourceUnreadable, match="是空的"):
        open_file(path, "xlsx", ReaderOptions())


def test_a_sheet_with_only_a_header_has_no_records(tmp_path: Path) -> None:
    path = tmp_path / "h.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["编码", "名称"])
    wb.save(path)
    reader = open_file(path, "xlsx", ReaderOptions())
    assert read_all(reader).height == 0
    assert reader.columns == ["编码", "名称"]


def test_xls(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("人口")
    ws.write(0, 0, "某某市人口信息表")
    for col, name in enumerate(["身份证号", "姓名", "编码", "日期"]):
        ws.write(1, col, name)
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    ws.write(2, 0, "11010119900307123X")
    ws.write(2, 1, "张三")
    ws.write(2, 2, "01")
    ws.write(2, 3, dt.date(2020, 1, 2), date_style)
    ws.write(4, 0, 110101)
    ws.write(4, 1, "李四")
    ws.write(4, 2, 7)
    ws.write(4, 3, dt.datetime(2020, 1, 2, 3, 4, 5), xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss"))
    wb.save(str(path))
    reader = open_file(path, "xls", ReaderOptions(expected_columns=["身份证号", "姓名"]))
    frame = read_all(reader)
    assert frame.drop(ORD).rows() == [
        ("11010119900307123X", "张三", "01", "2020-01-02"),
        ("110101", "李四", "7", "2020-01-02 03:04:05"),
    ]
    assert rows_of(reader, frame) == [3, 5]
    assert reader.checksum == sm3_hex(path.read_bytes())


def test_xlsx_chunks(tmp_path: Path) -> None:
    path = tmp_path / "many.xlsx"
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.append(["编码", "值"])
    for i in range(5000):
        ws.append([f"{i:05d}", i])
    wb.save(path)
    reader = open_file(path, "xlsx", ReaderOptions(chunk_rows=1000))
    frames = list(reader.chunks())
    assert [f.height for f in frames] == [1000] * 5
    assert [f[ORD][0] for f in frames] == [1, 1001, 2001, 3001, 4001]
    assert frames[4].row(-1) == ("04999", "4999", 5000)
    assert rows_of(reader, frames[4])[-1] == 5001
