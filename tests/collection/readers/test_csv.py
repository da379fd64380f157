"""CSV/TSV reader: encodings, headers, malformed records and exact row numbers, chunking."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest

from govshare.collection.readers import ORD, ReaderOptions, SourceUnreadable, open_file
from govshare.core.sm import sm3_hex
from tests.collection.readers.util import read_all, rows_of

HEADER = "身份证号,姓名,行政区划代码,电话\n"
ROWS = [
    ("11010119900307123X", "张三", "0101", "13800000000"),
    ("110101199003071234", "李四", "000123", "010-12345678"),
]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [("utf-8", b"", "utf-8"), ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"), ("gbk", b"", "gb18030")],
)
def test_encodings_are_detected_and_values_kept_as_text(
    tmp_path: Path, encoding: str, prefix: bytes, expected: str
) -> None:
    text = HEADER + "".join(",".join(r) + "\n" for r in ROWS)
    data = prefix + text.encode(encoding)
    reader = open_file(_write(tmp_path, "a.csv", data), "csv", ReaderOptions())
    frame = read_all(reader)
    assert reader.encoding == expected
    assert reader.columns == ["身份证号", "姓名", "行政区划代码", "电话"]
    assert frame.drop(ORD).rows() == ROWS
    assert frame[ORD].to_list() == [1, 2]
    assert rows_of(reader, frame) == [2, 3]
    assert reader.checksum == sm3_hex(data)
    assert reader.malformed == []
    assert reader.progress.bytes_done == len(data)
    assert reader.progress.records == 2


def test_gb18030_with_a_character_outside_the_bmp(tmp_path: Path) -> None:
    text = HEADER + "11010119900307123X,王𠀀,0101,1\n110101199003071234,李䶮,0102,2\n"
    data = text.encode("gb18030")
    with pytest.raises(UnicodeEncodeError):
        "𠀀".encode("gbk")  # GBK cannot hold it; GB18030 can
    reader = open_file(_write(tmp_path, "b.csv", data), "csv", ReaderOptions())
    frame = read_all(reader)
    assert reader.encoding == "gb18030"
    assert frame["姓名"].to_list() == ["王𠀀", "李䶮"]
    assert frame["身份证号"].to_list() == ["11010119900307123X", "110101199003071234"]
    assert reader.checksum == sm3_hex(data)


@pytest.mark.parametrize("given", ["gbk", "GB2312", "gb18030"])
def test_gbk_names_are_read_as_gb18030(tmp_path: Path, given: str) -> None:
    data = (HEADER + "1,张三,01,2\n").encode("gbk")
    reader = open_file(_write(tmp_path, "c.csv", data), "csv", ReaderOptions(encoding=given))
    assert read_all(reader)["姓名"].to_list() == ["张三"]
    assert reader.encoding == "gb18030"


def test_title_rows_above_the_header_are_skipped(tmp_path: Path) -> None:
    data = "某某市人口信息表\n导出时间：2024-01-01\n" + HEADER + "1,张三,01,2\n2,李四,02,3\n"
    reader = open_file(
        _write(tmp_path, "t.csv", data.encode()), "csv", ReaderOptions(expected_columns=["姓名", "身份证号"])
    )
    frame = read_all(reader)
    assert reader.columns == ["身份证号", "姓名", "行政区划代码", "电话"]
    assert frame["姓名"].to_list() == ["张三", "李四"]
    assert rows_of(reader, frame) == [4, 5]


def test_header_row_given_explicitly(tmp_path: Path) -> None:
    data = "说明,,,\n" + HEADER + "1,张三,01,2\n"
    reader = open_file(_write(tmp_path, "h.csv", data.encode()), "csv", ReaderOptions(header_row=2))
    frame = read_all(reader)
    assert reader.columns[0] == "身份证号"
    assert rows_of(reader, frame) == [3]


def test_header_names_are_cleaned_and_deduplicated(tmp_path: Path) -> None:
    data = " 名称 ,名称,,编码\n1,2,3,4\n"
    reader = open_file(_write(tmp_path, "d.csv", data.encode()), "csv", ReaderOptions())
    assert reader.columns == ["名称", "名称_2", "列3", "编码"]


def test_tsv(tmp_path: Path) -> None:
    data = '编码\t名称\n01\t北京市,东城区\n02\t含"引号\n'
    reader = open_file(_write(tmp_path, "a.tsv", data.encode()), "tsv", ReaderOptions(quote=""))
    frame = read_all(reader)
    assert frame.drop(ORD).rows() == [("01", "北京市,东城区"), ("02", '含"引号')]


def test_only_a_header_gives_zero_records(tmp_path: Path) -> None:
    reader = open_file(_write(tmp_path, "o.csv", HEADER.encode()), "csv", ReaderOptions())
    frame = read_all(reader)
    assert frame.height == 0
    assert reader.columns == ["身份证号", "姓名", "行政区划代码", "电话"]
    assert reader.malformed == []


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_unreadable(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(SourceUnreadable, match="空文件"):
        open_file(_write(tmp_path, "e.csv", data), "csv", ReaderOptions())


def test_wrong_column_counts_and_quotes_are_kept_as_malformed(tmp_path: Path) -> None:
    lines = [
        "a,b,c",  # 1 header
        "1,2,3",  # 2
        "4,5",  # 3 too few
        "6,7,8,9",  # 4 too many
        '"多行',  # 5 a good record over two lines
        '值",10,11',  # 6
        "",  # 7 blank
        '12,"a"b,13',  # 8 text after a closing quote
        "14,15,16",  # 9
        '17,"never closed,18',  # 10 stray quote: alone in quarantine, the lines after it read on their own
        "19,20,21",  # 11
        '22,"23",24',  # 12
        "25,26,27",  # 13
    ]
    reader = open_file(_write(tmp_path, "m.csv", "\n".join(lines).encode()), "csv", ReaderOptions())
    frame = read_all(reader)
    assert frame.drop(ORD).rows() == [
        ("1", "2", "3"),
        ("多行\n值", "10", "11"),
        ("14", "15", "16"),
        ("19", "20", "21"),
        ("22", "23", "24"),
        ("25", "26", "27"),
    ]
    assert rows_of(reader, frame) == [2, 5, 9, 11, 12, 13]
    found = [(m.row, m.rule, m.message) for m in reader.malformed]
    assert found == [
        (3, "csv.columns", "第3行：应有3列，实有2列"),
        (4, "csv.columns", "第4行：应有3列，实有4列"),
        (8, "csv.quote", "第8行：引号不成对（引号未闭合，或闭合引号后紧跟其他字符）"),
        (10, "csv.quote", "第10行：引号未闭合"),
    ]
    assert reader.malformed[0].raw == "4,5"
    assert reader.malformed[3].raw == '17,"never closed,18'
    assert reader.recovered == 1  # line 11, which the quote would have swallowed up to line 12's quote


def test_a_quote_open_until_the_end_is_reported_not_dropped(tmp_path: Path) -> None:
    data = 'a,b\n1,2\n3,"open\n4,5\n6,7\n'
    reader = open_file(_write(tmp_path, "q.csv", data.encode()), "csv", ReaderOptions())
    frame = read_all(reader)
    assert frame.drop(ORD).rows() == [("1", "2"), ("4", "5"), ("6", "7")]  # not swallowed by the quote
    assert rows_of(reader, frame) == [2, 4, 5]
    assert [(m.row, m.rule) for m in reader.malformed] == [(3, "csv.quote")]
    assert reader.malformed[0].message == "第3行：引号未闭合"
    assert reader.malformed[0].raw == '3,"open'
    assert reader.recovered == 2


def test_a_clean_file_without_final_newline(tmp_path: Path) -> None:
    reader = open_file(_write(tmp_path, "n.csv", b"a,b\n1,2\n3,4"), "csv", ReaderOptions())
    assert read_all(reader).drop(ORD).rows() == [("1", "2"), ("3", "4")]
    assert reader.malformed == []


def test_a_10_mb_line_is_malformed_and_the_rest_is_read(tmp_path: Path) -> None:
    data = b"a,b,c\n1,2,3\n" + b"x" * 10_000_000 + b",y,z\n4,5,6\n7,8\n9,10,11\n"
    reader = open_file(_write(tmp_path, "big.csv", data), "csv", ReaderOptions())
    frame = read_all(reader)
    assert frame.drop(ORD).rows() == [("1", "2", "3"), ("4", "5", "6"), ("9", "10", "11")]
    assert rows_of(reader, frame) == [2, 4, 6]
    assert [(m.row, m.rule) for m in reader.malformed] == [(3, "csv.line_too_long"), (5, "csv.columns")]
    assert reader.malformed[0].message == "第3行：行长度超过 2 MB 上限"
    assert reader.malformed[0].raw.endswith("…(截断)")
    assert reader.checksum == sm3_hex(data)


def test_crlf_mixed_line_ends_and_blank_lines(tmp_path: Path) -> None:
    data = b"a,b\r\n1,2\r\n\r\n3,4\n\n\n5,6\r\n"
    reader = open_file(_write(tmp_path, "crlf.csv", data), "csv", ReaderOptions())
    frame = read_all(reader)
    assert frame.drop(ORD).rows() == [("1", "2"), ("3", "4"), ("5", "6")]
    assert rows_of(reader, frame) == [2, 4, 7]
    assert reader.malformed == []


def test_a_blank_line_inside_a_quoted_value_is_kept(tmp_path: Path) -> None:
    data = 'a,b\n"第一段\n\n第二段",2\n\n3,4\n'
    reader = open_file(_write(tmp_path, "p.csv", data.encode()), "csv", ReaderOptions())
    frame = read_all(reader)
    assert frame.drop(ORD).rows() == [("第一段\n\n第二段", "2"), ("3", "4")]
    assert rows_of(reader, frame) == [2, 6]


def test_utf8_file_with_gbk_lines(tmp_path: Path) -> None:
    data = (
        "编码,名称\n01,北京\n".encode()
        + "02,天津\n".encode("gbk")  # line 3
        + "03,上海\n04,重庆\n".encode()
        + "05,河北\n".encode("gbk")  # line 6
        + "06,山西\n".encode()
    )
    reader = open_file(_write(tmp_path, "mix.csv", data), "csv", ReaderOptions())
    frame = read_all(reader)
    assert reader.encoding == "utf-8"
    assert frame.drop(ORD).rows() == [("01", "北京"), ("03", "上海"), ("04", "重庆"), ("06", "山西")]
    assert rows_of(reader, frame) == [2, 4, 5, 7]
    assert [(m.row, m.rule, m.raw) for m in reader.malformed] == [
        (3, "encoding", "02,天津"),
        (6, "encoding", "05,河北"),
    ]
    assert reader.malformed[0].message.startswith("第3行：不是 UTF-8 编码")
    assert reader.checksum == sm3_hex(data)


def test_gbk_file_with_a_utf8_line(tmp_path: Path) -> None:
    data = (
        "编码,名称\n01,北京市\n02,天津市\n".encode("gbk")
        + "03,上海市浦东新区\n".encode()  # line 4: UTF-8 bytes decode as GB18030 without an error
        + "04,重庆市\n".encode("gbk")
    )
    reader = open_file(_write(tmp_path, "mix2.csv", data), "csv", ReaderOptions())
    frame = read_all(reader)
    assert reader.encoding == "gb18030"
    assert frame.drop(ORD).rows() == [("01", "北京市"), ("02", "天津市"), ("04", "重庆市")]
    assert rows_of(reader, frame) == [2, 3, 5]
    assert [(m.row, m.rule, m.raw) for m in reader.malformed] == [(4, "encoding", "03,上海市浦东新区")]


def test_chunks_have_consecutive_ordinals(tmp_path: Path) -> None:
    data = "编码,值\n" + "".join(f"{i:05d},{i}\n" for i in range(5000))
    reader = open_file(_write(tmp_path, "many.csv", data.encode()), "csv", ReaderOptions(chunk_rows=1000))
    frames = list(reader.chunks())
    assert [f.height for f in frames] == [1000] * 5
    assert [f[ORD][0] for f in frames] == [1, 1001, 2001, 3001, 4001]
    assert frames[0]["编码"][0] == "00000"
    assert reader.row_numbers(frames[4][ORD]).to_list()[-1] == 5001


def test_row_numbers_match_the_file_lines_in_a_messy_file(tmp_path: Path) -> None:
    """Property check: random good, multi-line, blank and malformed lines; row numbers must be exact."""
    rng = random.Random(20240601)
    lines = ["a,b,c"]
    good_rows: list[int] = []
    bad_rows: list[int] = []
    for n in range(3000):
        kind = rng.choices(["good", "tall", "blank", "few", "many", "quote"], [70, 8, 6, 6, 5, 5])[0]
        start = len(lines) + 1
        if kind == "good":
            lines.append(f"{n},x{n},y")
        elif kind == "tall":
            lines.extend([f'{n},"第一行', "第二行", 'end",z'])
        elif kind == "blank":
            lines.append("")
            continue
        elif kind == "few":
            lines.append(f"{n},only")
        elif kind == "many":
            lines.append(f"{n},1,2,3")
        else:
            lines.append(f'{n},"bad"x,y')
        (good_rows if kind in ("good", "tall") else bad_rows).append(start)
    reader = open_file(_write(tmp_path, "fuzz.csv", "\n".join(lines).encode()), "csv", ReaderOptions())
    frame = read_all(reader)
    assert rows_of(reader, frame) == good_rows
    assert [m.row for m in reader.malformed] == bad_rows


@pytest.mark.parametrize(
    "data",
    [
        random.Random(1).randbytes(20000),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + b"\x00" * 100,
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00\x01\x02" * 100,
    ],
    ids=["random", "png", "zip"],
)
def test_binary_files_are_unreadable(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(SourceUnreadable, match="不是文本文件（含二进制内容），无法读取"):
        open_file(_write(tmp_path, "bin.csv", data), "csv", ReaderOptions())


def test_a_missing_file_and_an_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(SourceUnreadable, match="不存在"):
        open_file(tmp_path / "none.csv", "csv", ReaderOptions())
    with pytest.raises(SourceUnreadable, match="不支持的文件类型"):
        open_file(_write(tmp_path, "a.txt", b"a\n"), "docx", ReaderOptions())


def test_a_lone_carriage_return_inside_a_line_is_kept(tmp_path: Path) -> None:
    data = b'a,b\n1,x\ry\n"2","p\rq"\n3,4,5\n'
    reader = open_file(_write(tmp_path, "cr.csv", data), "csv", ReaderOptions())
    frame = read_all(reader)
    assert frame.drop(ORD).rows() == [("1", "x\ry"), ("2", "p\rq")]
    assert [(m.row, m.rule) for m in reader.malformed] == [(4, "csv.columns")]


def test_old_mac_line_ends(tmp_path: Path) -> None:
    reader = open_file(_write(tmp_path, "mac.csv", b"a,b\r1,2\r3,4\r"), "csv", ReaderOptions())
    frame = read_all(reader)
    assert frame.drop(ORD).rows() == [("1", "2"), ("3", "4")]
    assert rows_of(reader, frame) == [2, 3]


def test_a_custom_delimiter(tmp_path: Path) -> None:
    reader = open_file(
        _write(tmp_path, "s.csv", "编码;名称\n01;北京\n".encode()), "csv", ReaderOptions(delimiter=";")
    )
    assert read_all(reader).drop(ORD).rows() == [("01", "北京")]
    with pytest.raises(SourceUnreadable, match="分隔符"):
        open_file(_write(tmp_path, "s2.csv", b"a\n"), "csv", ReaderOptions(delimiter=";;"))


def test_temporary_files_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = _write(tmp_path, "t.csv", ("a\n" + "x\n" * 3000).encode())
    read_all(open_file(path, "csv", ReaderOptions(chunk_rows=1000)))
    assert list(scratch.iterdir()) == []
    chunks = open_file(path, "csv", ReaderOptions(chunk_rows=1000)).chunks()
    next(chunks)
    assert len(list(scratch.iterdir())) == 1  # the staging directory, while the read is under way
    chunks.close()  # the consumer stops early
    assert list(scratch.iterdir()) == []
