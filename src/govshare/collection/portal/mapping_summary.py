"""A readable summary of a data source's mapping (映射说明) for the source page, so a 数据管理员 can check
what the mapping does without reading its YAML: where the rows come from, each source column → item with its
normalizers, value map and validator, the key, the mode, the cursor and the tombstone marker.

It is built from the parsed mapping (`collection.mapping.Mapping`, as `load_mapping` reads it), never from the
stored text. A database connection URL is shown with its password masked, whether written as a
${VARIABLE} or not, and so is any password-like parameter in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from govshare.collection.mapping import CONSISTENCY_CHECKS, ColumnSpec, Mapping
from govshare.standards import registry

MASK = "******"
NORMALIZER_LABELS = {
    "trim": "去首尾空白",
    "text": "全角转半角并合并连续空白",
    "nfkc": "NFKC 规范化",
    "upper": "转为大写",
    "lower": "转为小写",
}
MODE_TEXT = {
    "full": "全量：每批数据就是资源的全部，来源中已没有的记录会被关闭",
    "incremental": "增量：只按主键新增或更新（有删除标记的行删除该主键的记录）",
}
MAP_OPEN = 8  # value maps up to this many entries are shown open; longer ones fold (<details>)
# a password-like parameter of the URL's query (…?password=…) or of a libpq keyword string (password='…')
_SECRET_PARAM = re.compile(
    r"(?i)\b(\w*(?:password|passwd|pwd|pass|secret|token|access_key|api_key)\w*)=('[^']*'|\"[^\"]*\"|[^&;\s]*)"
)
_ENV = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def mask_url(url: str) -> str:
    """The connection URL with the password of its user part, and any password-like parameter, replaced by
    ******. The user part is read as drivers read it, up to the last @ before the query, so a password with
    an unescaped / or : in it is masked whole."""
    if _ENV.match(url):
        return url  # only the name of the environment variable that holds the whole URL
    text = url
    scheme = _SCHEME.match(url)
    if scheme:
        rest = url[scheme.end() :]
        userinfo, at, _host = rest.split("?", 1)[0].rpartition("@")
        if at and ":" in userinfo:
            user = userinfo.partition(":")[0]
            text = f"{scheme.group(0)}{user}:{MASK}{rest[len(userinfo) :]}"
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}={MASK}", text)


@dataclass(frozen=True)
class ColumnLine:
    """One source column → item, with what happens to its values on the way."""

    item: str  # the item's field name
    item_name: str  # its Chinese name in the catalog ("" when the catalog does not have it)
    source: str  # the source column
    same_name: bool  # the source column was not named: the item's field name is used
    normalize: list[str]
    value_map: list[tuple[str, str | None]]  # source value → stored value (None: empty)
    map_only: bool
    validator: str | None
    notes: list[str]  # code set, units, divisor, default, required
    is_key: bool
    is_cursor: bool

    @property
    def map_open(self) -> bool:
        return len(self.value_map) <= MAP_OPEN


@dataclass(frozen=True)
class MappingSummary:
    kind: str | None  # as declared in the mapping (the source page names the registered kind)
    source_lines: list[tuple[str, str]]  # label → value: encoding, header row, sheet, URL (masked), table …
    mode: str
    mode_text: str
    key: list[str]
    key_from_catalog: bool  # the mapping names no key: the catalog's key items are used
    cursor: str | None
    deleted: str | None
    columns: list[ColumnLine]
    unmapped: list[str]  # the resource's items the mapping does not feed (empty in what it loads)
    warnings: list[str]
    error: str | None = None  # the stored mapping no longer reads (then nothing else is filled)


def _item_label(field_name: str, names: dict[str, str]) -> str:
    return f"{names[field_name]}（{field_name}）" if field_name in names else field_name


def _validator_text(spec: ColumnSpec) -> str | None:
    if spec.validate_ is None:
        return None
    found = registry.get(spec.validate_)
    return f"{found.label}（{spec.validate_}）" if found else spec.validate_


def _notes(spec: ColumnSpec) -> list[str]:
    notes = []
    if spec.code_set:
        notes.append(f"代码集 {spec.code_set}")
    if spec.units:
        notes.append(f"可接受单位：{'、'.join(spec.units)}")
    if spec.divide_by is not None:
        notes.append(f"数值除以 {spec.divide_by:g} 后存储")
    if spec.default is not None:
        notes.append(f"来源为空时取“{spec.default}”")
    if spec.required is True:
        notes.append("必填")
    elif spec.required is False:
        notes.append("可为空")
    return notes


def _source_lines(mapping: Mapping) -> list[tuple[str, str]]:
    spec = mapping.source
    lines = []
    if spec.encoding:
        lines.append(("文件编码", spec.encoding))
    if spec.delimiter:
        lines.append(("分隔符", "制表符" if spec.delimiter == "\t" else f"“{spec.delimiter}”"))
    if spec.header_row:
        lines.append(("表头行", f"第 {spec.header_row} 行"))
    if spec.sheet is not None:
        lines.append(("工作表", str(spec.sheet)))
    if spec.connection:
        lines.append(("数据源连接", spec.connection))
    if spec.url:
        lines.append(("连接地址", mask_url(spec.url)))
    if spec.table:
        lines.append(("表", spec.table))
    if spec.query:
        lines.append(("查询", spec.query))
    return lines


def summarize(mapping: Mapping, items: list[dict[str, Any]]) -> MappingSummary:
    """The summary of `mapping` against the resource's catalog items (its published version's definition
    items: field, name, key), which name the items and give the key when the mapping does not."""
    names = {i["field"]: i["name"] for i in items}
    catalog_key = [i["field"] for i in items if i.get("key")]
    key = mapping.key or catalog_key
    columns = [
        ColumnLine(
            item=item,
            item_name=names.get(item, ""),
            source=spec.source or item,
            same_name=spec.source is None,
            normalize=[NORMALIZER_LABELS.get(n, n) for n in spec.normalize],
            value_map=list(spec.map.items()),
            map_only=spec.map_only,
            validator=_validator_text(spec),
            notes=_notes(spec),
            is_key=item in key,
            is_cursor=item == mapping.cursor,
        )
        for item, spec in mapping.columns.items()
    ]
    deleted = None
    if mapping.deleted:
        values = "、".join(f"“{v}”" for v in mapping.deleted.values)
        deleted = f"来源列 {mapping.deleted.column} 取值为 {values} 的行表示该主键的记录已删除"
    return MappingSummary(
        kind=mapping.source.kind,
        source_lines=_source_lines(mapping),
        mode=mapping.mode,
        mode_text=MODE_TEXT.get(mapping.mode, mapping.mode),
        key=[_item_label(k, names) for k in key],
        key_from_catalog=not mapping.key,
        cursor=_item_label(mapping.cursor, names) if mapping.cursor else None,
        deleted=deleted,
        columns=columns,
        unmapped=[_item_label(f, names) for f in names if f not in mapping.columns],
        warnings=[CONSISTENCY_CHECKS.get(w, w) for w in mapping.warnings],
    )


def unreadable(message: str) -> MappingSummary:
    """The summary of a stored mapping that no longer reads (a validator it names was removed …)."""
    return MappingSummary(
        kind=None,
        source_lines=[],
        mode="",
        mode_text="",
        key=[],
        key_from_catalog=False,
        cursor=None,
        deleted=None,
        columns=[],
        unmapped=[],
        warnings=[],
        error=message,
    )
