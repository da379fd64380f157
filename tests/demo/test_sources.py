"""The demo source files (govshare.demo.sources): valid where no fault was injected, faulty exactly where
one was, deterministic per seed, and loadable through the shipped mappings into the demo catalog."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from openpyxl import load_workbook

from govshare.collection.mapping import Mapping, read_mapping
from govshare.demo import sources
from govshare.demo.sources import FAULT_COLUMN, fault_counts
from govshare.standards import validators
from govshare.standards import vectorized as vec

TODAY = date(2026, 6, 1)
ROWS = 20_000
DATA = Path(sources.__file__).parent.parent / "standards" / "data"
CATALOG = Path(sources.__file__).with_name("catalog.yaml")


@pytest.fixture(scope="module")
def people() -> pl.DataFrame:
    return sources.population_frame(ROWS, seed=7, label_faults=True)


@pytest.fixture(scope="module")
def firms() -> pl.DataFrame:
    return sources.legal_person_frame(5_000, seed=7, label_faults=True)


@pytest.fixture(scope="module")
def recipients() -> pl.DataFrame:
    return sources.subsistence_frame(2_000, seed=7, label_faults=True)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> list[sources.DemoSource]:
    return sources.demo_sources(tmp_path_factory.mktemp("demo"))


def faults(frame: pl.DataFrame, *names: str) -> pl.Series:
    return frame.get_column(FAULT_COLUMN).is_in(list(names)).fill_null(False)


def gb2260() -> list[dict[str, str]]:
    with gzip.open(DATA / "gb2260-2025.csv.gz", "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def code_set(code: str) -> set[str]:
    data = json.loads((DATA / "builtin-code-sets.json").read_text(encoding="utf-8"))
    (found,) = [s for s in data["code_sets"] if s["code"] == code]
    return {c["code"] for c in found["codes"]}


# --- 人口基本信息 ------------------------------------------------------------------------------------------


def test_population_has_the_source_headers(people: pl.DataFrame) -> None:
    assert people.columns == [*sources.POPULATION_COLUMNS, FAULT_COLUMN]
    assert people.height == ROWS
    assert all(dtype == pl.String for dtype in people.drop(FAULT_COLUMN).dtypes)


def test_every_fault_is_injected_at_its_rate(people: pl.DataFrame) -> None:
    counts = fault_counts(people)
    assert set(counts) == set(sources.POPULATION_FAULT_RATES)
    for name, rate in sources.POPULATION_FAULT_RATES.items():
        if name in ("id15", "lowercase_x"):  # only rows born 19xx / numbers ending in X can show them
            assert 0 < counts[name] < rate * ROWS
        else:
            assert abs(counts[name] - rate * ROWS) <= 1, name


def test_ids_are_valid_except_the_injected_faults(people: pl.DataFrame) -> None:
    ids = people.get_column("公民身份号码")
    checked = vec.id_number(ids, today=TODAY)
    rejected = checked.get_column("error").is_not_null()
    assert rejected.sum() == fault_counts(people)["check_digit"]
    assert (rejected == faults(people, "check_digit")).all()
    assert set(checked.get_column("error").drop_nulls().unique()) == {"id.check"}
    blank = checked.get_column("value").is_null() & ~rejected
    assert (blank == faults(people, "missing_id", "blank_row")).all()
    # The scalar reference agrees on a sample, damaged rows included.
    sample = people.with_row_index().filter((pl.col("index") % 97 == 0) | pl.col(FAULT_COLUMN).is_not_null())
    for value, fault in sample.select("公民身份号码", FAULT_COLUMN).iter_rows():
        result = validators.id_number(value, today=TODAY)
        assert result.ok == (fault != "check_digit"), (value, fault)


def test_normalized_ids_are_unique_but_for_superseded_rows(people: pl.DataFrame) -> None:
    value = vec.id_number(people.get_column("公民身份号码"), today=TODAY).get_column("value").drop_nulls()
    assert value.len() - value.n_unique() == fault_counts(people)["superseded"]


def test_superseded_rows_repeat_an_earlier_person_later_elsewhere(people: pl.DataFrame) -> None:
    key = vec.id_number(people.get_column("公民身份号码"), today=TODAY).get_column("value")
    frame = people.with_row_index().with_columns(key=key).filter(pl.col("key").is_not_null())
    first = frame.group_by("key").agg(pl.all().first()).select("key", "index", "姓名", "户籍地址", "更新时间")
    later = frame.filter(pl.col(FAULT_COLUMN) == "superseded").join(first, on="key", suffix="_first")
    assert later.height == fault_counts(people)["superseded"]
    assert (later.get_column("index") > later.get_column("index_first")).all()
    assert (later.get_column("更新时间") > later.get_column("更新时间_first")).all()
    assert (later.get_column("姓名") == later.get_column("姓名_first")).all()
    assert (later.get_column("户籍地址") != later.get_column("户籍地址_first")).mean() > 0.95  # type: ignore[operator]


def test_sex_follows_the_id_parity_except_the_mismatches(people: pl.DataFrame) -> None:
    warnings = vec.sex_vs_id(people.get_column("性别"), people.get_column("公民身份号码"), today=TODAY)
    assert (warnings.is_not_null() == faults(people, "sex_mismatch")).all()
    clean = people.filter(pl.col(FAULT_COLUMN).is_null())
    parity = clean.get_column("公民身份号码").str.slice(16, 1).cast(pl.Int64) % 2
    assert ((parity == 1) == (clean.get_column("性别") == "1")).all()


def test_birth_dates_match_the_id_and_parse_in_every_format(people: pl.DataFrame) -> None:
    births = people.get_column("出生日期")
    parsed = vec.parse_date(births)
    assert (parsed.get_column("error").is_not_null() == faults(people, "impossible_date")).all()
    assert set(parsed.get_column("error").drop_nulls().unique()) == {"date.invalid"}
    warnings = vec.birth_vs_id(births, people.get_column("公民身份号码"), today=TODAY)
    assert (warnings.is_not_null() == faults(people, "birth_mismatch")).all()
    formats = people.filter(faults(people, "date_format")).get_column("出生日期")
    assert formats.str.contains("年").any() and formats.str.contains("/").any()
    assert formats.str.contains(r"^\d{8}$").any() and formats.str.contains(r"^\d{5}$").any()
    years = parsed.get_column("value").drop_nulls().dt.year()
    assert years.min() >= 1930 and years.max() <= 2024  # type: ignore[operator]


def test_codes_exist_in_their_standards(people: pl.DataFrame) -> None:
    clean = people.filter(pl.col(FAULT_COLUMN).is_null())
    assert set(clean.get_column("民族").unique()) <= code_set("GB-3304")
    assert (
        clean.get_column("民族")
        .value_counts(normalize=True)
        .filter(pl.col("民族") == "01")["proportion"]
        .item()
        > 0.9
    )
    unknown = people.filter(faults(people, "unknown_ethnicity")).get_column("民族")
    assert not set(unknown.unique()) & code_set("GB-3304")
    assert set(clean.get_column("婚姻状况").unique()) <= code_set("GB-T-2261.2")
    assert set(clean.get_column("性别").unique()) <= code_set("GB-T-2261.1")
    in_force = {r["code"] for r in gb2260() if not r["valid_to"]}
    for column in ("户籍地行政区划", "出生地", "籍贯"):
        assert set(clean.get_column(column).unique()) <= in_force, column


def test_id_address_codes_include_abolished_ones(people: pl.DataFrame) -> None:
    rows = gb2260()
    known = {r["code"] for r in rows}
    abolished = {r["code"] for r in rows if r["valid_to"]} - {r["code"] for r in rows if not r["valid_to"]}
    clean = people.filter(pl.col(FAULT_COLUMN).is_null())
    address = set(clean.get_column("公民身份号码").str.slice(0, 6).unique())
    assert address <= known
    assert {"330621", "330622", "330623", "330625", "330682"} <= address & abolished
    assert set(clean.get_column("户籍地行政区划").unique()) == {c.code for c in sources.CITY_COUNTIES}


def test_the_city_counties_match_gb2260() -> None:
    rows = gb2260()
    current = {r["code"]: r["label"] for r in rows if not r["valid_to"]}
    ended = {r["code"]: int(r["valid_to"][:4]) for r in rows if r["valid_to"]}
    for county in sources.CITY_COUNTIES:
        assert current[county.code] == county.name
        for code, until in county.earlier:
            assert ended[code] == until and code not in current


def test_names_are_chinese_with_a_few_rare_characters() -> None:
    names = sources.population_frame(200_000, seed=3, faults=False).get_column("姓名")
    assert names.str.len_chars().is_between(2, 4).all()
    rare = names.str.contains("[" + "".join(sources.RARE_NAME_CHARACTERS) + "]")
    assert 0 < rare.sum() < 0.002 * names.len()
    assert any(ord(c) > 0xFFFF for name in names.filter(rare).to_list() for c in name)


@pytest.mark.parametrize(
    ("coding", "male", "female"), [("gb", "1", "2"), ("ga", "0", "1"), ("text", "男", "女")]
)
def test_sex_codings(coding: sources.SexCoding, male: str, female: str) -> None:
    gb = sources.population_frame(2_000, seed=5, faults=False).get_column("性别")
    coded = sources.population_frame(2_000, seed=5, faults=False, sex_coding=coding).get_column("性别")
    assert set(coded.unique()) == {male, female}
    assert ((gb == "1") == (coded == male)).all()


def test_unknown_sex_coding_is_refused() -> None:
    with pytest.raises(ValueError, match="sex_coding"):
        sources.population_frame(10, sex_coding="iso")  # type: ignore[arg-type]


def test_frames_are_deterministic_per_seed() -> None:
    for make in (sources.population_frame, sources.legal_person_frame, sources.subsistence_frame):
        first = make(3_000, seed=11, label_faults=True)
        assert first.equals(make(3_000, seed=11, label_faults=True))
        assert not first.equals(make(3_000, seed=12, label_faults=True))


def test_without_faults_the_same_people_are_all_clean() -> None:
    clean = sources.population_frame(5_000, seed=9, faults=False, label_faults=True)
    damaged = sources.population_frame(5_000, seed=9, label_faults=True)
    assert clean.get_column(FAULT_COLUMN).null_count() == clean.height
    checked = vec.id_number(clean.get_column("公民身份号码"), today=TODAY)
    assert checked.get_column("error").null_count() == clean.height
    assert checked.get_column("value").n_unique() == clean.height
    untouched = damaged.get_column(FAULT_COLUMN).is_null()
    assert clean.filter(untouched).drop(FAULT_COLUMN).equals(damaged.filter(untouched).drop(FAULT_COLUMN))


# --- 企业登记注册信息 ------------------------------------------------------------------------------------


def test_credit_codes_are_valid_except_the_injected_faults(firms: pl.DataFrame) -> None:
    codes = firms.get_column("统一社会信用代码")
    checked = vec.uscc(codes)
    errors = checked.get_column("error")
    assert ((errors == "uscc.check").fill_null(False) == faults(firms, "check_char")).all()
    assert ((errors == "uscc.format").fill_null(False) == faults(firms, "bad_letter")).all()
    assert errors.drop_nulls().len() == faults(firms, "check_char", "bad_letter").sum()
    for value in codes.filter(~faults(firms, "check_char", "bad_letter", "blank_row")).head(300).to_list():
        assert validators.uscc(value).ok, value
    prefixes = set(codes.drop_nulls().str.to_uppercase().str.slice(0, 2).unique())
    assert {"91", "93", "N2", "N3", "51", "52", "Y1"} <= prefixes
    assert set(fault_counts(firms)) == set(sources.LEGAL_PERSON_FAULT_RATES)


def test_capital_and_dates_parse(firms: pl.DataFrame) -> None:
    capital = firms.get_column("注册资本")
    assert (
        vec.parse_number(capital, units=("元", "美元", "港元")).get_column("error").null_count()
        == firms.height
    )
    written = capital.drop_nulls()
    assert written.str.contains("万元$").any() and written.str.contains("亿元$").any()
    assert written.str.contains(r"^\d{1,3},\d{3}元$").any() and written.str.contains("美元$").any()
    for column in ("成立日期", "营业期限自", "核准日期"):
        assert vec.parse_date(firms.get_column(column)).get_column("error").null_count() == firms.height
    until = firms.get_column("营业期限至").drop_nulls()
    assert (until == "长期").any()
    assert (
        vec.parse_date(until.filter(until != "长期")).get_column("error").null_count()
        == (until != "长期").sum()
    )


# --- 最低生活保障对象信息 ---------------------------------------------------------------------------------


def test_recipients_ids_and_households(recipients: pl.DataFrame) -> None:
    checked = vec.id_number(recipients.get_column("身份证号"), today=TODAY).get_column("error")
    assert (checked.is_not_null() == faults(recipients, "check_digit", "excel_number")).all()
    heads = vec.id_number(recipients.get_column("户主身份证号"), today=TODAY)
    assert heads.get_column("error").null_count() == recipients.height
    clean = recipients.filter(pl.col(FAULT_COLUMN).is_null())
    own_head = clean.filter(pl.col("与户主关系") == "户主")
    assert (own_head.get_column("身份证号") == own_head.get_column("户主身份证号")).all()
    assert set(clean.get_column("性别").unique()) == {"男", "女"}
    warnings = vec.sex_vs_id(recipients.get_column("性别"), recipients.get_column("身份证号"), today=TODAY)
    assert (warnings.is_not_null() == faults(recipients, "sex_mismatch")).all()
    started = vec.parse_date(recipients.get_column("享受起始日期")).get_column("error")
    assert started.null_count() == recipients.height


# --- 写文件 --------------------------------------------------------------------------------------------


def test_gbk_csv_decodes_as_gbk_and_loses_only_rare_characters(tmp_path: Path) -> None:
    frame = sources.population_frame(3_000, seed=1)
    names = frame.get_column("姓名").scatter([0, 1], "王𠀾")
    frame = frame.with_columns(names)
    gbk, gb18030, utf8 = tmp_path / "gbk.csv", tmp_path / "gb18030.csv", tmp_path / "utf8.csv"
    assert sources.write_csv(frame, gbk, encoding="gbk") == gbk.stat().st_size
    sources.write_csv(frame, gb18030, encoding="gb18030")
    sources.write_csv(frame, utf8, bom=True)
    text = gbk.read_bytes().decode("gbk")
    header, *lines = text.splitlines()
    assert header.split(",") == list(sources.POPULATION_COLUMNS)
    assert len(lines) == 3_000
    assert "王?" in text and "𠀾" not in text
    assert "王𠀾" in gb18030.read_bytes().decode("gb18030")
    assert utf8.read_bytes().startswith(b"\xef\xbb\xbf")
    assert pl.read_csv(utf8, infer_schema=False).equals(frame)


def test_csv_refuses_unknown_encodings(tmp_path: Path) -> None:
    frame = sources.population_frame(5)
    with pytest.raises(ValueError, match="encoding"):
        sources.write_csv(frame, tmp_path / "x.csv", encoding="big5")
    with pytest.raises(ValueError, match="byte-order mark"):
        sources.write_csv(frame, tmp_path / "x.csv", encoding="gbk", bom=True)


def test_xlsx_has_the_title_row_above_the_header(tmp_path: Path) -> None:
    frame = sources.subsistence_frame(50, seed=2, label_faults=True)
    path = tmp_path / "roster.xlsx"
    sources.write_xlsx(frame, path, title="花名册", sheet="低保对象")
    sheet = load_workbook(path)["低保对象"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "花名册" and all(v is None for v in rows[0][1:])
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:M1"]
    assert list(rows[1]) == list(sources.SUBSISTENCE_COLUMNS)  # FAULT_COLUMN is not written
    assert len(rows) == 52
    ids = [r[3] for r in rows[2:] if r[3] is not None]
    assert all(isinstance(v, str) for v in ids)  # ID numbers stay text, never a rounded number


# --- 演示数据源与映射 -------------------------------------------------------------------------------------


def catalog_fields() -> dict[str, tuple[str, set[str]]]:
    """Resource name → (provider, the field names of its items)."""
    resources = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["resources"]
    return {r["name"]: (r["provider"], {i["field"] for i in r["items"]}) for r in resources}


def headers(path: Path, mapping: Mapping) -> list[str]:
    if path.suffix == ".xlsx":
        sheet = load_workbook(path, read_only=True)[mapping.source.sheet]
        row = mapping.source.header_row or 1
        return [str(v) for v in next(sheet.iter_rows(min_row=row, max_row=row, values_only=True))]
    encoding = {"gbk": "gbk", "utf-8": "utf-8-sig"}[mapping.source.encoding or "utf-8"]
    return next(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))


def source_values(path: Path, mapping: Mapping, column: str) -> set[Any]:
    """The distinct non-blank values of a source column, read back from the file."""
    if path.suffix == ".xlsx":
        sheet = load_workbook(path)[mapping.source.sheet]
        rows = list(sheet.iter_rows(min_row=mapping.source.header_row or 1, values_only=True))
        position = list(rows[0]).index(column)
        return {row[position] for row in rows[1:] if row[position] is not None}
    text = path.read_bytes().decode("gbk" if mapping.source.encoding == "gbk" else "utf-8-sig")
    return set(pl.read_csv(io.StringIO(text), infer_schema=False).get_column(column).drop_nulls().to_list())


def test_demo_sources_are_written_with_their_mappings(demo: list[sources.DemoSource]) -> None:
    assert [(s.resource, s.department) for s in demo] == [
        ("人口基本信息", "GA"),
        ("最低生活保障对象信息", "MZ"),
        ("企业登记注册信息", "SCJG"),
    ]
    templates = sorted(p.name for p in sources.MAPPINGS_DIR.glob("*.yaml"))
    assert sorted(s.mapping_file.name for s in demo) == templates
    for source in demo:
        assert source.data_file.is_file() and source.mapping_file.is_file()
        assert source.mapping_file.read_text(encoding="utf-8") == (
            sources.MAPPINGS_DIR / source.mapping_file.name
        ).read_text(encoding="utf-8")
        assert source.description


def test_mappings_fit_the_catalog_and_the_files(demo: list[sources.DemoSource]) -> None:
    catalog = catalog_fields()
    for source in demo:
        mapping = read_mapping(source.mapping_file)
        assert mapping.resource == source.resource
        assert mapping.source_path() == source.data_file
        provider, fields = catalog[source.resource]
        assert provider == source.department
        assert set(mapping.columns) <= fields, set(mapping.columns) - fields
        assert set(mapping.key) <= fields and (mapping.cursor is None or mapping.cursor in fields)
        found = headers(source.data_file, mapping)
        assert set(mapping.source_columns()) <= set(found), set(mapping.source_columns()) - set(found)


def test_value_maps_cover_the_values_in_the_files(demo: list[sources.DemoSource]) -> None:
    for source in demo:
        mapping = read_mapping(source.mapping_file)
        for field, spec in mapping.columns.items():
            if spec.map_only:
                values = source_values(source.data_file, mapping, spec.source or field)
                assert {str(v) for v in values} <= set(spec.map), (source.resource, field)


def test_demo_files_show_their_codings(demo: list[sources.DemoSource]) -> None:
    ga, mz, scjg = demo
    assert read_mapping(mz.mapping_file).columns["yhzgx"].map == sources.RELATIONS
    text = ga.data_file.read_bytes().decode("gbk")
    assert "\r\n" in text
    assert set(pl.read_csv(io.StringIO(text), infer_schema=False).get_column("性别").drop_nulls()) == {
        "0",
        "1",
    }
    sheet = load_workbook(mz.data_file)["低保对象"]
    assert sheet["A1"].value == sources.SUBSISTENCE_TITLE and sheet["A2"].value == "序号"
    assert scjg.data_file.read_bytes().startswith(b"\xef\xbb\xbf")
