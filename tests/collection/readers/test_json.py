"""NDJSON and JSON readers, and pushed records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govshare.collection.readers import ORD, ReaderOptions, SourceUnreadable, open_file, open_records
from govshare.core.sm import sm3_hex
from tests.collection.readers.util import read_all, rows_of


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_ndjson_with_invalid_lines_and_non_objects(tmp_path: Path) -> None:
    lines = [
        '{"身份证号": "11010119900307123X", "姓名": "张三", "编码": "01", "n": 1.5, "ok": true}',  # 1
        "",  # 2 blank
        "{not json",  # 3
        '{"身份证号": "110101199003071234", "姓名": "李四", "地址": {"市": "北京", "区": ["东城"]}}',  # 4
        "[1, 2]",  # 5
        '"just a string"',  # 6
        '  {"姓名": "王五", "编码": null}  \r',  # 7 (CRLF)
    ]
    data = "\n".join(lines) + "\n"
    reader = open_file(_write(tmp_path, "a.ndjson", data), "ndjson", ReaderOptions(expected_columns=["电话"]))
    frame = read_all(reader)
    assert reader.columns == ["身份证号", "姓名", "编码", "n", "ok", "地址", "电话"]
    assert frame.drop(ORD).rows() == [
        ("11010119900307123X", "张三", "01", "1.5", "true", None, None),
        ("110101199003071234", "李四", None, None, None, '{"市":"北京","区":["东城"]}', None),
        (None, "王五", None, None, None, None, None),
    ]
    assert rows_of(reader, frame) == [1, 4, 7]
    assert [(m.row, m.rule, m.raw) for m in reader.malformed] == [
        (3, "json.invalid", "{not json"),
        (5, "json.not_object", "[1, 2]"),
        (6, "json.not_object", '"just a string"'),
    ]
    assert reader.malformed[0].message == "第3行：不是有效的 JSON"
    assert reader.malformed[1].message == "第5行：不是 JSON 对象（是数组）"
    assert reader.checksum == sm3_hex(data.encode())


def test_ndjson_in_gbk_with_a_bad_line(tmp_path: Path) -> None:
    data = (
        '{"名称":"北京"}\n'.encode("gbk") + '{"名称":"天津"}\n'.encode() + '{"名称":"上海市"}\n'.encode("gbk")
    )
    reader = open_file(_write(tmp_path, "g.ndjson", data), "ndjson", ReaderOptions())
    frame = read_all(reader)
    assert reader.encoding == "gb18030"
    assert frame["名称"].to_list() == ["北京", "上海市"]
    assert rows_of(reader, frame) == [1, 3]
    assert [(m.row, m.rule) for m in reader.malformed] == [(2, "encoding")]


def test_ndjson_chunks(tmp_path: Path) -> None:
    data = "".join(json.dumps({"id": f"{i:05d}"}) + "\n" + ("\n" if i % 7 == 0 else "") for i in range(5000))
    reader = open_file(_write(tmp_path, "c.ndjson", data), "ndjson", ReaderOptions(chunk_rows=1000))
    frames = list(reader.chunks())
    assert len(frames) > 1
    ords = [o for f in frames for o in f[ORD].to_list()]
    assert ords == list(range(1, 5001))
    last = frames[-1]
    assert last["id"][-1] == "04999"
    assert rows_of(reader, last)[-1] == 5000 + 715  # 715 blank lines after every 7th record


def test_json_array(tmp_path: Path) -> None:
    data = '[{"id": "01", "v": 1}, 5, {"id": "02", "extra": [1, {"a": "中"}]}, null]'
    reader = open_file(_write(tmp_path, "a.json", data), "json", ReaderOptions())
    frame = read_all(reader)
    assert reader.columns == ["id", "v", "extra"]
    assert frame.drop(ORD).rows() == [("01", "1", None), ("02", None, '[1,{"a":"中"}]')]
    assert rows_of(reader, frame) == [1, 3]
    assert [(m.row, m.rule, m.raw) for m in reader.malformed] == [
        (2, "json.not_object", "5"),
        (4, "json.not_object", "null"),
    ]
    assert reader.malformed[0].message == "第2条：不是 JSON 对象（是数字）"


def test_json_object_wrapping_an_array(tmp_path: Path) -> None:
    data = {
        "code": 0,
        "total": 2,
        "data": [{"id": "0101", "名称": "东城区"}, {"id": "0102", "名称": "西城区"}],
    }
    reader = open_file(
        _write(tmp_path, "w.json", json.dumps(data, ensure_ascii=False)), "json", ReaderOptions()
    )
    frame = read_all(reader)
    assert frame.drop(ORD).rows() == [("0101", "东城区"), ("0102", "西城区")]
    assert rows_of(reader, frame) == [1, 2]


def test_json_file_that_is_ndjson(tmp_path: Path) -> None:
    reader = open_file(_write(tmp_path, "n.json", '{"a": "1"}\n{"a": "2"}\n'), "json", ReaderOptions())
    assert read_all(reader)["a"].to_list() == ["1", "2"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("hello, this is not json\n", "不是 JSON 文件"),
        ('[{"a": 1}, {"a": ', "不是有效的 JSON"),
        ('{"code": 500, "message": "error"}', "没有数组成员"),
        ('{"a": [1], "b": [2]}', "有多个数组成员"),
    ],
)
def test_files_that_are_not_usable_json(tmp_path: Path, data: str, message: str) -> None:
    reader = open_file(_write(tmp_path, "bad.json", data), "json", ReaderOptions())
    with pytest.raises(SourceUnreadable, match=message):
        read_all(reader)


def test_an_empty_json_file(tmp_path: Path) -> None:
    with pytest.raises(SourceUnreadable, match="空文件"):
        open_file(_write(tmp_path, "e.json", ""), "json", ReaderOptions())


def test_pushed_records() -> None:
    records: list[object] = [
        {
            "身份证号": "11010119900307123X",
            "年龄": 30,
            "分数": 1.5,
            "大数": 1e20,
            "在职": True,
            "地址": {"市": "北京"},
        },
        "not an object",
        {"身份证号": "110101199003071234", "备注": None},
        [1, 2],
    ]
    reader = open_records(records, ReaderOptions(expected_columns=["电话"], chunk_rows=1))
    frames = list(reader.chunks())
    assert len(frames) == 2
    frame = frames[0].vstack(frames[1])
    assert reader.columns == ["身份证号", "年龄", "分数", "大数", "在职", "地址", "备注", "电话"]
    assert frame.drop(ORD).rows() == [
        ("11010119900307123X", "30", "1.5", "100000000000000000000", "true", '{"市":"北京"}', None, None),
        ("110101199003071234", None, None, None, None, None, None, None),
    ]
    assert rows_of(reader, frame) == [1, 3]
    assert [(m.row, m.rule) for m in reader.malformed] == [(2, "json.not_object"), (4, "json.not_object")]
    canonical = json.dumps(records, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert reader.checksum == sm3_hex(canonical.encode())


def test_an_ndjson_line_over_16_mb_is_malformed(tmp_path: Path) -> None:
    data = b'{"a": "1"}\n{"a": "' + b"y" * 17_000_000 + b'"}\n{"a": "3"}\n'
    reader = open_file(_write(tmp_path, "long.ndjson", data), "ndjson", ReaderOptions())
    frame = read_all(reader)
    assert frame["a"].to_list() == ["1", "3"]
    assert rows_of(reader, frame) == [1, 3]
    assert [(m.row, m.rule) for m in reader.malformed] == [(2, "json.invalid")]
    assert reader.malformed[0].raw.endswith("…(截断)")


def test_a_json_array_with_a_line_in_another_encoding(tmp_path: Path) -> None:
    data = '[{"名称": "北京"},\n{"名称": "天津"},\n'.encode() + '{"名称": "上海"}]\n'.encode("gbk")
    reader = open_file(_write(tmp_path, "mix.json", data), "json", ReaderOptions())
    frame = read_all(reader)
    assert frame["名称"].to_list()[:2] == ["北京", "天津"]
    assert frame.height == 3  # the record stays, its undecodable bytes replaced
    assert [(m.row, m.rule) for m in reader.malformed] == [(None, "encoding")]
    assert reader.malformed[0].message.startswith("文件第3行：不是 UTF-8 编码")
