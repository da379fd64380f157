"""Stray quotes (issue #14, defect 1): an unmatched quote must not swallow the lines after it. Every
physical line ends up loaded or quarantined by itself; a legitimate quoted field with line breaks is still
one record."""

from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest

from govshare.collection.readers import ORD, ReaderOptions, open_file
from govshare.collection.readers.quotes import StrayQuotes, parse_record
from tests.collection.readers.util import read_all, rows_of

HEADER = "公民身份号码,姓名,性别,联系电话,居住地址"
ENCODINGS = [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("gbk", b""), ("gb18030", b"")]


def _person(n: int) -> list[str]:
    return [f"11010519900101{n:04d}", f"张{n}", str(n % 2), f"138{n:08d}", f"东城区{n}号"]


def _police_export(rng: random.Random, count: int) -> tuple[list[str], dict[int, str], list[int], int]:
    """Lines of a police export (header first), the expected loaded rows {line: text of the record},
    the lines with a stray quote, and the lines of legitimate multi-line records' continuation."""
    lines = [HEADER]
    good: dict[int, str] = {}
    strays: list[int] = []
    for n in range(count):
        cells = _person(n)
        line_no = len(lines) + 1
        kind = rng.choices(["good", "start", "middle", "end", "address"], [90, 3, 2, 2, 3])[0]
        if kind == "start":  # the typing slip of the issue: the line begins with a quote
            lines.append('"' + ",".join(cells))
            strays.append(line_no)
        elif kind == "middle":  # a quote opening a field in the middle of the line
            lines.append(",".join(cells[:1]) + ',"' + ",".join(cells[1:]))
            strays.append(line_no)
        elif kind == "end":  # a quote opening an empty last field
            lines.append(",".join(cells[:4]) + ',"')
            strays.append(line_no)
        elif kind == "address":  # a legitimate quoted address over two or three lines
            parts = [f"东城区{n}号", "二单元", "301室"][: rng.choice([2, 3])]
            text = ",".join(cells[:4]) + ',"' + "\n".join(parts) + '"'
            lines.extend(text.split("\n"))
            good[line_no] = ",".join(cells[:4]) + "," + "\n".join(parts)
        else:
            lines.append(",".join(cells))
            good[line_no] = ",".join(cells)
    return lines, good, strays, len(lines)


@pytest.mark.parametrize(("encoding", "prefix"), ENCODINGS, ids=["utf-8", "utf-8-bom", "gbk", "gb18030"])
def test_every_line_is_loaded_or_quarantined_by_itself(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    lines, good, strays, total = _police_export(random.Random(535), 1400)
    assert len(strays) > 40
    data = prefix + ("\n".join(lines) + "\n").encode(encoding)
    path = tmp_path / "ga.csv"
    path.write_bytes(data)
    reader = open_file(path, "csv", ReaderOptions())
    frame = read_all(reader)
    loaded = dict(zip(rows_of(reader, frame), frame.drop(ORD).rows(), strict=True))
    assert {row: ",".join(v or "" for v in values) for row, values in loaded.items()} == good
    assert [(m.row, m.rule, m.message) for m in reader.malformed] == [
        (row, "csv.quote", f"第{row}行：引号未闭合") for row in strays
    ]
    assert all("\n" not in m.raw for m in reader.malformed)
    continuation = {row + k for row, text in good.items() for k in range(1, text.count("\n") + 1)}
    assert set(good) | set(strays) | continuation == set(range(2, total + 1))  # every physical line
    assert reader.recovered > 0


def test_the_issue_case_a_few_stray_quotes_hundreds_of_lines_apart(tmp_path: Path) -> None:
    """1,381 lines with stray quotes at lines 535 and 1084: before, 2 quarantine entries swallowed the
    lines between them; now 2 lines are quarantined and 1,379 loaded."""
    rows = [",".join(_person(n)) for n in range(1381)]
    rows[533] = '"' + rows[533]  # file line 535
    rows[1082] = rows[1082] + ',"'  # file line 1084: a sixth column, opened
    data = ("\n".join([HEADER, *rows]) + "\n").encode("gb18030")
    path = tmp_path / "ga.csv"
    path.write_bytes(data)
    reader = open_file(path, "csv", ReaderOptions(encoding="gb18030"))
    frame = read_all(reader)
    assert frame.height == 1379
    assert [m.row for m in reader.malformed] == [535, 1084]
    assert reader.malformed[0].message == "第535行：引号未闭合"
    assert reader.recovered == 1084 - 535 - 1 + 1382 - 1084  # between the two, and after the last
    assert 1083 in rows_of(reader, frame) and 536 in rows_of(reader, frame)


def test_the_span_limit_decides_a_long_quoted_field(tmp_path: Path) -> None:
    address = "\n".join(f"第{i}行" for i in range(6))  # a quoted field over six lines
    data = f'a,b,c\n1,"{address}",x\n2,y,z\n'.encode()
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    strict = open_file(path, "csv", ReaderOptions())
    frame = read_all(strict)
    # over the 5-line default: the quote is stray, and each line of the would-be field is read alone
    assert [(m.row, m.rule) for m in strict.malformed] == [(2, "csv.quote")] + [
        (row, "csv.columns") for row in range(3, 8)
    ]
    assert rows_of(strict, frame)[-1] == 8 and frame.row(-1)[:3] == ("2", "y", "z")
    lenient = open_file(path, "csv", ReaderOptions(quote_span_lines=10))
    frame = read_all(lenient)
    assert lenient.malformed == []
    assert frame.drop(ORD).rows() == [("1", address, "x"), ("2", "y", "z")]
    assert rows_of(lenient, frame) == [2, 8]


def test_the_byte_limit_decides_a_large_quoted_field(tmp_path: Path) -> None:
    big = "长" * 2000  # 6,000 bytes in UTF-8
    data = f'a,b\n1,"{big}\n{big}"\n2,z\n'.encode()
    path = tmp_path / "b.csv"
    path.write_bytes(data)
    reader = open_file(path, "csv", ReaderOptions())
    frame = read_all(reader)
    assert [(m.row, m.rule) for m in reader.malformed] == [(2, "csv.quote"), (3, "csv.columns")]
    assert frame.drop(ORD).rows() == [("2", "z")]
    lenient = open_file(path, "csv", ReaderOptions(quote_span_bytes=16_384))
    assert read_all(lenient).drop(ORD).rows() == [("1", f"{big}\n{big}"), ("2", "z")]
    assert lenient.malformed == []


def test_a_quote_that_would_swallow_a_complete_record_is_stray(tmp_path: Path) -> None:
    data = b'a,b,c\n1,"x,2\n3,4,5\n6,y",7\n8,9,10\n'  # closes on line 4, but line 3 is a record
    path = tmp_path / "c.csv"
    path.write_bytes(data)
    reader = open_file(path, "csv", ReaderOptions())
    frame = read_all(reader)
    assert [(m.row, m.rule) for m in reader.malformed] == [(2, "csv.quote")]
    # line 4's quote, alone, is an ordinary character inside a value
    assert frame.drop(ORD).rows() == [("3", "4", "5"), ("6", 'y"', "7"), ("8", "9", "10")]
    assert rows_of(reader, frame) == [3, 4, 5]
    assert reader.recovered == 1


def test_two_lines_in_a_row_ending_with_a_stray_quote(tmp_path: Path) -> None:
    data = b'a,b,c\n1,2,"\n3,4,"\n5,6,7\n'  # as one record it would have the right width
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    reader = open_file(path, "csv", ReaderOptions())
    frame = read_all(reader)
    assert [(m.row, m.rule) for m in reader.malformed] == [(2, "csv.quote"), (3, "csv.quote")]
    assert frame.drop(ORD).rows() == [("5", "6", "7")]
    assert rows_of(reader, frame) == [4]


def test_a_quote_inside_a_value_is_an_ordinary_character(tmp_path: Path) -> None:
    data = 'a,b,c\n1,5"寸,2\n3,4,5\n6,张"三,7\n'.encode("gbk")
    path = tmp_path / "d.csv"
    path.write_bytes(data)
    reader = open_file(path, "csv", ReaderOptions())
    assert read_all(reader).drop(ORD).rows() == [("1", '5"寸', "2"), ("3", "4", "5"), ("6", '张"三', "7")]
    assert reader.malformed == []
    assert reader.recovered == 0


def test_a_clean_file_with_quoted_fields_is_unchanged(tmp_path: Path) -> None:
    rows = [f'"{n}","名""称{n}","地址\n第二行"' for n in range(200)]
    data = ("a,b,c\n" + "\n".join(rows) + "\n").encode()
    path = tmp_path / "e.csv"
    path.write_bytes(data)
    reader = open_file(path, "csv", ReaderOptions())
    frame = read_all(reader)
    assert frame.height == 200 and reader.malformed == [] and reader.recovered == 0
    assert frame.row(0)[:3] == ("0", '名"称0', "地址\n第二行")
    assert rows_of(reader, frame)[:3] == [2, 4, 6]


def _filtered(pieces: list[bytes], first_line: int = 2) -> tuple[bytes, StrayQuotes]:
    quotes = StrayQuotes(",", '"', 3, b"\xef\xb7\x90")
    out, line = b"", first_line
    for piece in pieces:
        out += quotes.feed(piece, line)
        line += piece.count(b"\n")
    return out + quotes.finish(), quotes


def test_the_filter_decides_the_same_whatever_the_block_boundaries() -> None:
    rng = random.Random(7)
    lines = []
    for n in range(400):
        kind = rng.choices(["good", "stray", "tall"], [80, 10, 10])[0]
        if kind == "stray":
            lines.append(f'{n},"x,y')
        elif kind == "tall":
            lines += [f'{n},"a', "b", 'c",z']
        else:
            lines.append(f"{n},p,q")
    data = ("\n".join(lines) + "\n").encode()
    whole, reference = _filtered([data])
    assert reference.malformed
    for cut_every in (1, 2, 3, 7):
        split = data.split(b"\n")[:-1]
        pieces = [
            b"".join(x + b"\n" for x in split[i : i + cut_every]) for i in range(0, len(split), cut_every)
        ]
        out, quotes = _filtered(pieces)
        assert out == whole
        assert quotes.malformed == reference.malformed
        assert quotes.recovered == reference.recovered


def test_parse_record_follows_the_strict_reader() -> None:
    assert parse_record('1,"a""b",2', ",", '"').fields == 3
    assert parse_record('1,"a\nb",2\n3', ",", '"').end == 9
    assert parse_record('1,"open', ",", '"').end == -1
    assert not parse_record('1,"a"b,2', ",", '"').clean
    assert parse_record('1,x"y,2', ",", '"').fields == 3
