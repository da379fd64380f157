"""The mapping file (YAML) that binds a source to a catalog resource: which source column feeds which item,
the value maps, normalizers and validators per item, the key, the cursor and the tombstone marker.

    resource: 人口基本信息            # name or code; the CLI's RESOURCE argument wins
    source:
      kind: csv                       # csv tsv xlsx xls json ndjson postgresql mysql sqlite push
      path: ga_rk.csv                 # files, relative to the mapping file (the CLI's SOURCE argument wins)
      encoding: auto                  # auto utf-8 gbk gb18030
      header_row: auto                # or the 1-based row of the header
      connection: 公安人口库          # databases: a connection the platform administrator registered
      table: rk_jbxx                  # or query: select … (only the connection's allowed tables)
    mode: full                        # full | incremental
    key: [gmsfhm]                     # default: the catalog's key items
    cursor: gxsj                      # the item that orders rows (incremental reads, collapse by key)
    deleted: {column: czbz, values: [D, 删除]}   # a source column marking tombstones
    columns:
      gmsfhm: 身份证号                 # shorthand for {from: 身份证号}
      xb: {from: 性别, map: {"0": "1", "1": "2", 男: "1", 女: "2"}}
      csrq: {from: 出生日期, validate: date}
      hjdz: {from: 住址, normalize: [text]}
    warnings: [sex_vs_id, birth_vs_id]

A mapping never holds a database URL or an environment reference: `source.url` and any `${…}` are refused
with the field named (issue #12); the registry (`collection/connections.py`) alone reads URLs.

The full reference, with what runs by default per data type and standard, is docs/collection.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from govshare.core.validation import field_errors
from govshare.errors import FieldError, InvalidInput
from govshare.standards import registry

FILE_KINDS = ("csv", "tsv", "xlsx", "xls", "json", "ndjson")
DATABASE_KINDS = ("postgresql", "mysql", "sqlite")
SourceKind = Literal["csv", "tsv", "xlsx", "xls", "json", "ndjson", "postgresql", "mysql", "sqlite", "push"]
Mode = Literal["full", "incremental"]
CONSISTENCY_CHECKS = {
    "sex_vs_id": "性别与公民身份号码第17位不一致",
    "birth_vs_id": "出生日期与公民身份号码中的出生日期不一致",
}
NORMALIZERS = ("trim", "text", "nfkc", "upper", "lower")
URL_REFUSED = "映射中不能填写数据库连接地址：请改用 source.connection 填写平台管理员登记的数据源连接名称"
REFERENCE_REFUSED = "映射中不能用 ${…} 引用环境变量：数据库连接请用 source.connection"

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SourceSpec(_Strict):
    kind: SourceKind | None = None  # None: from the file's extension
    path: str | None = None
    encoding: str | None = None
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    header_row: int | Literal["auto"] | None = None
    sheet: str | int | None = None
    connection: str | None = Field(None, min_length=1, max_length=100)
    url: str | None = None  # refused: kept only to name the field in the error
    table: str | None = None
    query: str | None = None

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str | None) -> str | None:
        if value is None or value.lower() == "auto":
            return None
        known = {"utf-8", "utf8", "utf-8-sig", "gbk", "gb2312", "gb18030"}
        if value.lower() not in known:
            raise ValueError(f"不支持的编码“{value}”，可选：auto、utf-8、gbk、gb18030")
        return value.lower()

    @field_validator("header_row")
    @classmethod
    def _header_row(cls, value: int | str | None) -> int | None:
        if value is None or value == "auto":
            return None
        assert isinstance(value, int)
        if not 1 <= value <= 1000:
            raise ValueError("表头行须在 1–1000 之间")
        return value

    @field_validator("url")
    @classmethod
    def _no_url(cls, value: str | None) -> str | None:
        """Mappings are written by department stewards: a URL would let them reach any database the node
        can reach, the node's own included. Databases are reached through registered connections."""
        if value is not None:
            raise ValueError(URL_REFUSED)
        return value

    @model_validator(mode="after")
    def _one_query(self) -> SourceSpec:
        if self.table and self.query:
            raise ValueError("table 与 query 只能填一个")
        return self


class ColumnSpec(_Strict):
    source: str | None = Field(None, alias="from")  # the source column; None: the item's own field name
    map: dict[str, str | None] = Field(default_factory=dict)  # value map, applied after normalizing
    map_only: bool = False  # values missing from `map` are rejected instead of passed on
    normalize: list[str] = Field(default_factory=list)
    validate_: str | None = Field(None, alias="validate")  # a validator of govshare.standards.registry
    code_set: str | None = None  # for validate: code (default: the item's standard)
    units: list[str] | None = None  # for validate: number
    divide_by: float | None = Field(None, gt=0)  # numbers stored in a larger unit: 10000 for 万元 items
    default: str | None = None  # the value when the source is blank
    required: bool | None = None  # default: the item's own nullable flag (and always for key items)

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    @field_validator("normalize", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("normalize")
    @classmethod
    def _normalizers(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in NORMALIZERS:
                raise ValueError(f"规范化“{name}”不存在，可选：{'、'.join(NORMALIZERS)}")
        return value

    @field_validator("validate_")
    @classmethod
    def _validator(cls, value: str | None) -> str | None:
        if value is not None and registry.get(value) is None:
            raise ValueError(f"校验规则“{value}”不存在，可选：{'、'.join(registry.VALIDATORS)}")
        return value

    @field_validator("map", mode="before")
    @classmethod
    def _map_text(cls, value: Any) -> Any:
        # YAML reads 0: 1 as integers; a code map is text to text
        if isinstance(value, dict):
            return {str(k): (None if v is None else str(v)) for k, v in value.items()}
        return value


class DeletedSpec(_Strict):
    column: str
    values: list[str] = Field(min_length=1)

    @field_validator("values", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return [str(v) for v in value] if isinstance(value, list) else value


class Mapping(_Strict):
    resource: str | None = None
    source: SourceSpec = Field(default_factory=SourceSpec)
    mode: Mode = "full"
    key: list[str] = Field(default_factory=list)
    cursor: str | None = None
    deleted: DeletedSpec | None = None
    columns: dict[str, ColumnSpec] = Field(min_length=1)
    warnings: list[str] = Field(default_factory=list)
    base_dir: Path | None = Field(None, exclude=True)  # where relative paths start (the file's folder)

    @field_validator("columns", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"from": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @field_validator("columns")
    @classmethod
    def _field_names(cls, value: dict[str, ColumnSpec]) -> dict[str, ColumnSpec]:
        for name in value:
            if not _FIELD.match(name):
                raise ValueError(f"信息项字段名“{name}”不合法")
        return value

    @field_validator("key", mode="before")
    @classmethod
    def _key_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("warnings")
    @classmethod
    def _checks(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in CONSISTENCY_CHECKS:
                raise ValueError(f"一致性检查“{name}”不存在，可选：{'、'.join(CONSISTENCY_CHECKS)}")
        return value

    def source_columns(self) -> list[str]:
        """The source columns the mapping reads (for finding the header row)."""
        names = [spec.source or item for item, spec in self.columns.items()]
        if self.deleted:
            names.append(self.deleted.column)
        return list(dict.fromkeys(names))

    def source_path(self, given: str | None = None) -> Path | None:
        raw = given or self.source.path
        if raw is None:
            return None
        path = Path(raw)
        if not path.is_absolute() and given is None and self.base_dir is not None:
            path = self.base_dir / path
        return path

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude={"base_dir"})
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _references(value: Any, path: str) -> list[FieldError]:
    """Every place a `${…}` is written (keys and values), by field path."""
    found: list[FieldError] = []
    if isinstance(value, str):
        if "${" in value:
            found.append(FieldError(path, REFERENCE_REFUSED))
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "${" in key:
                found.append(FieldError(where, REFERENCE_REFUSED))
            found += _references(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _references(item, f"{path}.{index}")
    return found


def parse_mapping(data: Any, *, base_dir: Path | None = None, where: str = "mapping") -> Mapping:
    """A Mapping from parsed YAML/JSON; errors name the field path."""
    if not isinstance(data, dict):
        raise InvalidInput.on(where, "映射文件须是一个 YAML 对象（键: 值）")
    references = _references(data, "")[:20]
    if references:
        detail = "；".join(f"{e.field}：{e.message}" for e in references)
        raise InvalidInput(f"映射文件有误：{detail}", errors=references)
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc, limit=20, default_field=where)
        detail = "；".join(f"{e.field}：{e.message}" for e in errors)
        raise InvalidInput(f"映射文件有误：{detail}", errors=errors) from None
    mapping.base_dir = base_dir
    return mapping


def load_mapping(text: str, *, base_dir: Path | None = None) -> Mapping:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput.on("mapping", f"不是合法的 YAML：{exc}") from None
    return parse_mapping(data, base_dir=base_dir)


def read_mapping(path: Path) -> Mapping:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput.on("mapping", f"{path}：无法读取（{exc}）") from None
    return load_mapping(text, base_dir=path.parent)


def kind_of(mapping: Mapping, path: Path | None, connection_kind: str | None = None) -> str:
    """The source kind: a file's declared kind or extension, or the kind of the named connection (which
    a declared database kind must match)."""
    declared = mapping.source.kind
    if path is None and mapping.source.connection:
        if connection_kind is None:
            raise InvalidInput.on("source.connection", "数据源连接未解析")
        if declared not in (None, connection_kind):
            raise InvalidInput.on(
                "source.kind", f"source.kind 为 {declared}，而数据源连接的类型为 {connection_kind}"
            )
        return connection_kind
    if declared in DATABASE_KINDS and path is None:
        raise InvalidInput.on("source.connection", "数据库来源须用 source.connection 指定数据源连接")
    if declared:
        return declared
    if path is not None:
        suffix = path.suffix.lower().lstrip(".")
        if suffix in FILE_KINDS:
            return suffix
        if suffix in ("txt", "jsonl"):
            return "csv" if suffix == "txt" else "ndjson"
        raise InvalidInput.on(
            "source.kind", f"无法从扩展名“.{suffix}”判断文件类型，请在映射中填写 source.kind"
        )
    raise InvalidInput.on("source", "映射未说明数据来源（source.path、source.connection 或命令行的 SOURCE）")
