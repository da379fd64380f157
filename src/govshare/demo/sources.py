"""Demo source files for data collection (归集): what departments really send, faults included.

Three departments of the demo city hand over files that load into catalog resources through the mappings
in `demo/mappings/`:

- 公安 (GA) 人口基本信息: a GBK CSV export of the household register, sex coded 0 男 / 1 女 (the 公安
  coding that the departments complain about, not GB/T 2261.1);
- 民政 (MZ) 最低生活保障对象信息: an Excel roster with a merged title row above the header, sex as 男/女;
- 市场监管 (SCJG) 企业登记注册信息: a UTF-8 CSV with a byte-order mark, as Excel saves "CSV UTF-8".

Everything is generated, column by column, with Polars: 2,000,000 people take a few seconds, and no
per-row Python runs. The random numbers are SplitMix64 streams keyed from `random.Random(seed)` (see
`Draws`), so a seed gives the same rows on every machine and Polars version. Check digits come from the
reference validators (`id_check_digit`, `uscc_check_char`): both are weighted sums, so the weight of each
position is read back from the reference once and the sums are then computed over whole columns.

Region codes: the demo city's own code, 990100, is fictional (province 99 does not exist), so no GB/T 2260
code-set check would accept its districts. The people therefore live in the real counties of one
prefecture, 绍兴市 (3306xx), under the city name 示例市. Its history gives realistic abolished codes:
a person registered before 2013 in 柯桥区 carries 330621 (绍兴县) in the ID number, which stays valid
(the ID validator never checks the address part), while 户籍地行政区划 holds the code in force today.
People who moved in from other provinces carry their birthplace's code.

Faults are injected at the rates of `POPULATION_FAULT_RATES`, `SUBSISTENCE_FAULT_RATES` and
`LEGAL_PERSON_FAULT_RATES`. Each row has at most one fault, so the counts add up; `label_faults=True`
adds the column `FAULT_COLUMN` naming each row's fault (null when clean) and `fault_counts` counts them.

The generators live beside this module, one per concern: `gen_common` (random numbers, dates, the fault
machinery), `gen_city` (counties, region codes, addresses), `gen_people` (sex, birth, names, ID numbers),
and one per file, `gen_population`, `gen_subsistence` and `gen_legal_persons`. This module writes the
files and re-exports the public names.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from govshare.demo.gen_city import (
    BRAND_CHARS,
    BUILDINGS,
    CITY_CODE,
    CITY_COUNTIES,
    CITY_NAME,
    CITY_PREFIX,
    FIRST_ID_YEAR,
    GB2260_FILE,
    HOUSE_NUMBERS,
    INSTITUTIONS,
    MIGRANT_PROVINCES,
    MIGRANT_SHARE,
    STREETS,
    TOWNS,
    VILLAGES,
    WORKPLACE_TRADES,
    WORKPLACE_WORDS,
    County,
)
from govshare.demo.gen_common import (
    FAULT_COLUMN,
    GOLDEN_GAMMA,
    MIX_1,
    MIX_2,
    SEX_CODINGS,
    Draws,
    SexCoding,
    fault_counts,
)
from govshare.demo.gen_legal_persons import (
    BUSINESS_SCOPES,
    CAPITAL_WAN,
    COMPANY_TYPES,
    CURRENCIES,
    INDUSTRIES,
    LEGAL_PERSON_COLUMNS,
    LEGAL_PERSON_FAULT_RATES,
    OPERATING_STATES,
    REGISTRANTS,
    SCOPE_TAIL,
    legal_person_frame,
)
from govshare.demo.gen_people import (
    BIRTH_YEAR_ANCHORS,
    FEMALE_NAME_CHARS,
    MALE_NAME_CHARS,
    MALE_SHARE,
    RARE_NAME_CHARACTERS,
    RARE_NAME_RATE,
    SHARED_NAME_CHARS,
    SINGLE_NAME_SHARE,
    SURNAMES,
)
from govshare.demo.gen_population import (
    EDUCATION_BY_AGE,
    ETHNICITY_WEIGHTS,
    FULLWIDTH_DIGITS,
    MARITAL_BY_AGE,
    POPULATION_COLUMNS,
    POPULATION_FAULT_RATES,
    PUBLIC_EMPLOYER_SHARE,
    REFERENCE_YEAR,
    SERVICE_BY_AGE,
    SERVICE_FEMALE,
    STATUS_BY_AGE,
    UNKNOWN_ETHNICITIES,
    UPDATES_FROM,
    UPDATES_UNTIL,
    WORKPLACE_FORMS,
    Distribution,
    population_frame,
)
from govshare.demo.gen_subsistence import (
    RELATIONS,
    SUBSISTENCE_COLUMNS,
    SUBSISTENCE_FAULT_RATES,
    SUBSISTENCE_TITLE,
    subsistence_frame,
)

__all__ = [
    "BIRTH_YEAR_ANCHORS",
    "BRAND_CHARS",
    "BUILDINGS",
    "BUSINESS_SCOPES",
    "CAPITAL_WAN",
    "CITY_CODE",
    "CITY_COUNTIES",
    "CITY_NAME",
    "CITY_PREFIX",
    "COMPANY_TYPES",
    "CSV_ENCODINGS",
    "CURRENCIES",
    "DEMO_SEED",
    "EDUCATION_BY_AGE",
    "ENCODE_ROWS",
    "ETHNICITY_WEIGHTS",
    "FAULT_COLUMN",
    "FEMALE_NAME_CHARS",
    "FIRST_ID_YEAR",
    "FULLWIDTH_DIGITS",
    "GB2260_FILE",
    "GOLDEN_GAMMA",
    "HOUSE_NUMBERS",
    "INDUSTRIES",
    "INSTITUTIONS",
    "LEGAL_PERSON_COLUMNS",
    "LEGAL_PERSON_FAULT_RATES",
    "LEGAL_PERSON_ROWS",
    "MALE_NAME_CHARS",
    "MALE_SHARE",
    "MAPPINGS_DIR",
    "MARITAL_BY_AGE",
    "MIGRANT_PROVINCES",
    "MIGRANT_SHARE",
    "MIX_1",
    "MIX_2",
    "OPERATING_STATES",
    "POPULATION_COLUMNS",
    "POPULATION_FAULT_RATES",
    "POPULATION_ROWS",
    "PUBLIC_EMPLOYER_SHARE",
    "RARE_NAME_CHARACTERS",
    "RARE_NAME_RATE",
    "REFERENCE_YEAR",
    "REGISTRANTS",
    "RELATIONS",
    "SCOPE_TAIL",
    "SERVICE_BY_AGE",
    "SERVICE_FEMALE",
    "SEX_CODINGS",
    "SHARED_NAME_CHARS",
    "SINGLE_NAME_SHARE",
    "STATUS_BY_AGE",
    "STREETS",
    "SUBSISTENCE_COLUMNS",
    "SUBSISTENCE_FAULT_RATES",
    "SUBSISTENCE_ROWS",
    "SUBSISTENCE_TITLE",
    "SURNAMES",
    "TOWNS",
    "UNKNOWN_ETHNICITIES",
    "UPDATES_FROM",
    "UPDATES_UNTIL",
    "VILLAGES",
    "WORKPLACE_FORMS",
    "WORKPLACE_TRADES",
    "WORKPLACE_WORDS",
    "County",
    "DemoSource",
    "Distribution",
    "Draws",
    "SexCoding",
    "demo_sources",
    "fault_counts",
    "legal_person_frame",
    "population_frame",
    "subsistence_frame",
    "write_csv",
    "write_xlsx",
]

DEMO_SEED = 20261121
MAPPINGS_DIR = Path(__file__).with_name("mappings")


# --- 写文件 --------------------------------------------------------------------------------------------

CSV_ENCODINGS = ("utf-8", "gbk", "gb18030")
ENCODE_ROWS = 200_000  # rows encoded at a time: bounds the memory of a GBK/GB18030 file to a slice's text


def write_csv(
    frame: pl.DataFrame,
    path: Path,
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    line_terminator: str = "\n",
) -> int:
    """Write `frame` (without FAULT_COLUMN) as CSV and return the size in bytes.

    UTF-8 is written by Polars directly; `bom` adds the byte-order mark Excel's "CSV UTF-8" has. GBK and
    GB18030 are written by Polars to text and encoded a slice at a time with one `str.encode` each. GBK
    cannot hold CJK extension characters (RARE_NAME_CHARACTERS): they become "?", exactly what a GBK-only
    export does to such names. GB18030 and UTF-8 keep them."""
    codec = encoding.lower().replace("_", "-")
    codec = "utf-8" if codec == "utf8" else codec
    if codec not in CSV_ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(CSV_ENCODINGS)}, not {encoding!r}")
    if bom and codec != "utf-8":
        raise ValueError("a byte-order mark is only written for UTF-8")
    frame = frame.drop(FAULT_COLUMN, strict=False)
    if codec == "utf-8":
        frame.write_csv(path, include_bom=bom, line_terminator=line_terminator)
        return path.stat().st_size
    with path.open("wb") as out:
        for offset in range(0, max(frame.height, 1), ENCODE_ROWS):
            text = frame.slice(offset, ENCODE_ROWS).write_csv(
                include_header=offset == 0, line_terminator=line_terminator
            )
            out.write(text.encode(codec, errors="replace"))
    return path.stat().st_size


def write_xlsx(frame: pl.DataFrame, path: Path, *, title: str | None = None, sheet: str = "Sheet1") -> None:
    """Write `frame` (without FAULT_COLUMN) as an .xlsx workbook, the way departments hand in rosters:
    with `title`, a merged, bold title row above the header (so the header is on row 2), a bold header,
    text as text (ID numbers stay exact) and numbers as numbers. openpyxl's write-only mode streams the
    rows; merged ranges are set on the sheet before its rows are written."""
    frame = frame.drop(FAULT_COLUMN, strict=False)
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    for index, name in enumerate(frame.columns, start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = _column_width(frame.get_column(name))
    if title:
        last = get_column_letter(max(frame.width, 1))
        worksheet.merged_cells.add(CellRange(f"A1:{last}1"))
        cell = WriteOnlyCell(worksheet, value=title)
        cell.font = Font(bold=True, size=14)
        cell.alignment = Alignment(horizontal="center", vertical="center")
        worksheet.append([cell])
    header = []
    for name in frame.columns:
        cell = WriteOnlyCell(worksheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    worksheet.append(header)
    for row in frame.iter_rows():
        worksheet.append(list(row))
    workbook.save(path)


def _column_width(column: pl.Series) -> float:
    """A width that shows the header and typical values (CJK characters count double), at most 40."""
    sample = [column.name, *(str(v) for v in column.head(200).drop_nulls().to_list())]
    widest = max(sum(2 if ord(c) > 0x2E80 else 1 for c in text) for text in sample)
    return float(min(widest + 2, 40))


# --- 演示数据源 ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSource:
    """One department's file for the demo city's collection, with its mapping beside it."""

    resource: str  # the catalog resource's name (demo/catalog.yaml)
    department: str  # the providing department's code (demo/service.py)
    data_file: Path
    mapping_file: Path
    description: str  # 中文说明：文件的来历和故障


POPULATION_ROWS = 2_000
SUBSISTENCE_ROWS = 500
LEGAL_PERSON_ROWS = 1_000


def demo_sources(directory: Path, *, seed: int = DEMO_SEED) -> list[DemoSource]:
    """Write the three departments' files and their mappings into `directory` (created if missing) and
    describe them. The mappings are copies of demo/mappings/*.yaml, whose source.path names the data file
    beside them."""
    directory.mkdir(parents=True, exist_ok=True)
    population = directory / "ga_rkjbxx.csv"
    write_csv(
        population_frame(POPULATION_ROWS, seed=seed, sex_coding="ga"),
        population,
        encoding="gbk",
        line_terminator="\r\n",
    )
    subsistence = directory / "mz_dbdx.xlsx"
    write_xlsx(
        subsistence_frame(SUBSISTENCE_ROWS, seed=seed + 1, sex_coding="text"),
        subsistence,
        title=SUBSISTENCE_TITLE,
        sheet="低保对象",
    )
    legal_persons = directory / "scjg_qydj.csv"
    write_csv(legal_person_frame(LEGAL_PERSON_ROWS, seed=seed + 2), legal_persons, encoding="utf-8", bom=True)
    sources = [
        DemoSource(
            "人口基本信息",
            "GA",
            population,
            directory / "ga_rkjbxx.yaml",
            "公安户籍系统导出的 GBK 编码 CSV（Windows 换行），性别按公安代码 0 男 1 女；"
            "含校验码错误、15 位旧号码、全角数字、小写 x、号码中的空格、空行、同一人的后续更新记录、"
            "不存在的日期、多种日期写法、未知民族代码、性别与号码不一致等问题。",
        ),
        DemoSource(
            "最低生活保障对象信息",
            "MZ",
            subsistence,
            directory / "mz_dbdx.yaml",
            "民政低保花名册（Excel），表头上方有合并的标题行，性别写作男/女，与户主关系和保障类别为文字；"
            "含校验码错误、被 Excel 显示为科学计数法的身份证号、空行、重复人员、多种日期写法等问题。",
        ),
        DemoSource(
            "企业登记注册信息",
            "SCJG",
            legal_persons,
            directory / "scjg_qydj.yaml",
            "市场监管登记系统导出的 UTF-8（带 BOM）CSV，注册资本写作“100万元”“1.5亿元”“3,200元”；"
            "含校验码错误、混入 I/O/S/V/Z 的代码、小写字母、空行、变更后的重复记录、多种日期写法等问题。",
        ),
    ]
    for source in sources:
        shutil.copyfile(MAPPINGS_DIR / source.mapping_file.name, source.mapping_file)
    return sources
