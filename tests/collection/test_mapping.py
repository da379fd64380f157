"""The mapping file: shorthand, validation naming the field, environment references, and the plan built
against the catalog (defaults by data type and standard; every mismatch reported at once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from govshare.collection.mapping import kind_of, load_mapping, read_mapping
from govshare.collection.plan import build_plan
from govshare.collection.service import _published
from govshare.core.db import Database
from govshare.errors import InvalidInput
from tests.collection.helpers import MAPPING, setup


def test_shorthand_value_maps_as_text_and_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "source: {path: data/ga.csv}\ncolumns:\n  gmsfhm: 身份证号\n  xb: {from: 性别, map: {0: 1, 1: 2}}\n",
        encoding="utf-8",
    )
    mapping = read_mapping(tmp_path / "m.yaml")
    assert mapping.columns["gmsfhm"].source == "身份证号"
    assert mapping.columns["xb"].map == {"0": "1", "1": "2"}
    assert mapping.source_path() == tmp_path / "data" / "ga.csv"
    assert mapping.source_path("/elsewhere/x.csv") == Path("/elsewhere/x.csv")
    assert kind_of(mapping, mapping.source_path()) == "csv"


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ("columns: {xb: {from: 性别, validate: sexx}}", "columns.xb.validate", "sexx"),
        ("columns: {xb: {from: 性别, normalize: [shout]}}", "columns.xb.normalize", "shout"),
        ("mode: sometimes\ncolumns: {xb: 性别}", "mode", ""),
        ("columns: {}", "columns", ""),
        ("columns: {xb: 性别}\nsource: {encoding: big5}", "source.encoding", "big5"),
        ("columns: {xb: 性别}\nwarnings: [astrology]", "warnings", "astrology"),
        ("columns: {xb: 性别}\nsource: {table: a, query: select 1}", "source", "只能填一个"),
        ('columns: {"drop table": 性别}', "columns", "不合法"),
    ],
)
def test_mistakes_name_the_mapping_field(text: str, field: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_mapping(text)
    fields = [e.field for e in caught.value.errors]
    assert any(f.startswith(field) for f in fields), fields
    assert fragment in caught.value.message


def test_not_yaml_or_not_an_object() -> None:
    with pytest.raises(InvalidInput, match="YAML"):
        load_mapping("columns: [unclosed")
    with pytest.raises(InvalidInput, match="对象"):
        load_mapping("- a\n- b\n")


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root:Secret-1@127.0.0.1/test",
        "postgresql://u:pa/ss@db.example/rk",  # a "/" in the password: urlsplit sees no password at all
        "postgresql://u:${PW}@db.example/rk?password=Secret-1",
        "mysql+pymysql://u@db.example/rk?PASSWD=Secret-1",
        "postgresql://u@db.example/rk?sslpassword=Secret-1",
        "postgresql://u@db.example/rk?oauth_client_secret=Secret-1",
        "mysql://u:${X}@Secret-1@db.example/rk",  # urlsplit (the MySQL reader) reads up to the last "@"
        "postgresql://u@db.example/rk?pass%77ord=Secret-1",  # a percent-encoded parameter name
    ],
)
def test_a_password_written_into_the_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput, match=r"source\.connection") as caught:
        load_mapping(f"source: {{kind: postgresql, url: '{url}', table: t}}\ncolumns: {{xb: 性别}}")
    assert any(e.field.startswith("source.url") for e in caught.value.errors)
    assert "Secret-1" not in caught.value.message


@pytest.mark.parametrize(
    "url",
    [
        "${GA_DB}",
        "mysql://root:${GA_DB_PW}@127.0.0.1:3306/test",
        "postgresql://u:${PW}@db.example/rk?sslmode=require&password=${PW}",
        "postgresql://u@db.example/rk",
        "postgresql://u:${PW}@h1:5432,h2:5433/rk",  # libpq's multi-host form
        "sqlite:////var/lib/govshare/govshare.db",
    ],
)
def test_no_url_is_accepted_even_from_the_environment(url: str) -> None:
    """Issue #12: a mapping names a registered connection; a URL in any form is refused, naming the field."""
    with pytest.raises(InvalidInput, match=r"source\.connection") as caught:
        load_mapping(f"source: {{kind: postgresql, url: '{url}', table: t}}\ncolumns: {{xb: 性别}}")
    assert [e.field for e in caught.value.errors] == ["source.url"]


def test_a_database_source_names_a_connection() -> None:
    mapping = load_mapping("source: {connection: 公安人口库, table: t}\ncolumns: {xb: 性别}")
    assert mapping.source.connection == "公安人口库"
    assert kind_of(mapping, None, "postgresql") == "postgresql"
    assert "公安人口库" in mapping.to_yaml()
    declared = load_mapping("source: {kind: mysql, connection: 公安人口库, table: t}\ncolumns: {xb: 性别}")
    with pytest.raises(InvalidInput, match="类型"):
        kind_of(declared, None, "postgresql")
    bare = load_mapping("source: {kind: sqlite, table: t}\ncolumns: {xb: 性别}")
    with pytest.raises(InvalidInput, match=r"source\.connection"):
        kind_of(bare, None)


def test_the_plan_uses_the_catalog_for_defaults(db: Database) -> None:
    setup(db)
    with db.transaction() as session:
        _resource, version = _published(session, "测试人口信息")
        plan, _items = build_plan(session, version, load_mapping(MAPPING))
        checks = {i.field: (i.check.name if i.check else None) for i in plan.items}
        assert checks == {
            "gmsfhm": "id_number",  # standard GB 11643
            "xm": None,
            "xb": "code",  # standard GB/T 2261.1 → its code set
            "csrq": "date",  # 日期型
            "jzdz": None,
            "gxsj": None,  # 日期时间型: the transform's own parser
        }
        assert plan.key == ("gmsfhm",) and plan.item("gmsfhm").required
        assert plan.warnings == (("sex_vs_id", "xb", "gmsfhm"), ("birth_vs_id", "csrq", "gmsfhm"))


def test_every_mismatch_with_the_catalog_is_reported_at_once(db: Database) -> None:
    setup(db)
    wrong = "cursor: gxsj\nkey: [xm2]\ncolumns: {nosuch: a, xm: 姓名, xb: {from: 性别, code_set: NO-SUCH}}"
    with db.transaction() as session:
        _resource, version = _published(session, "测试人口信息")
        with pytest.raises(InvalidInput) as caught:
            build_plan(session, version, load_mapping(wrong))
    fields = {e.field for e in caught.value.errors}
    assert {"columns.nosuch", "key", "cursor", "columns.xb.code_set"} <= fields
