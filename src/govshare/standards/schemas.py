from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from govshare.core.inputs import Input
from govshare.models import Code, CodeSetVersion, DataElement

CodeSetKey = Annotated[
    str,
    Field(
        min_length=2,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="代码集标识（字母、数字、. _ -），如 GA-XB；国家标准写作 GB-T-2261.1",
    ),
]
VersionName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
DataTypeCode = Literal["C", "N", "Y", "D", "T", "L", "M", "G", "B", "I", "F"]
ElementStatus = Literal["draft", "active", "retired"]


class VersionOut(BaseModel):
    version: str
    valid_from: date | None
    valid_to: date | None
    note: str
    code_count: int
    created_by: str
    created_at: datetime
    is_current: bool

    @classmethod
    def of(cls, version: CodeSetVersion, current: CodeSetVersion | None) -> VersionOut:
        return cls(
            version=version.version,
            valid_from=version.valid_from,
            valid_to=version.valid_to,
            note=version.note,
            code_count=version.code_count,
            created_by=version.created_by,
            created_at=version.created_at,
            is_current=current is not None and version.id == current.id,
        )


class CodeSetOut(BaseModel):
    code: str
    name: str
    standard: str
    source: str
    description: str
    is_builtin: bool
    current_version: str | None
    versions: list[VersionOut]


class CodeOut(BaseModel):
    code: str
    label: str
    position: int
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None
    attributes: dict[str, Any]

    @classmethod
    def of(cls, code: Code) -> CodeOut:
        return cls(
            code=code.code,
            label=code.label,
            position=code.position,
            parent_code=code.parent_code,
            valid_from=code.valid_from,
            valid_to=code.valid_to,
            attributes=code.attributes or {},
        )


class CodePage(BaseModel):
    code_set: str
    version: str
    items: list[CodeOut]
    next_after: int | None = Field(description="下一页请求的 after 参数；为空表示没有更多")


class CodeSetImport(Input):
    """A new code set, or a new version of an existing one, from a CSV or Excel file."""

    code: CodeSetKey
    version: VersionName
    name: str | None = Field(None, min_length=1, max_length=200, description="新建代码集时必填")
    standard: str = Field("", max_length=100, description="标准编号，如 GA/T 2000.3-2014；自定义代码集留空")
    source: str = Field("", max_length=2000, description="代码来源")
    description: str = Field("", max_length=2000)
    valid_from: date | None = None
    valid_to: date | None = None
    note: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def _period(self) -> CodeSetImport:
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError("失效日期必须晚于生效日期")
        return self


class ImportReport(BaseModel):
    code_set: str
    version: str
    created_code_set: bool
    codes: int


class DataElementCreate(Input):
    identifier: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str = Field(min_length=1, max_length=100)
    definition: str = Field("", max_length=2000)
    data_type: DataTypeCode
    length: int | None = Field(None, ge=1, le=1_000_000)
    code_set: str | None = Field(None, max_length=64, description="值域代码集标识")
    code_set_version: str | None = Field(None, max_length=32, description="固定的代码集版本；不填随现行版本")
    validator: str | None = Field(
        None, max_length=32, description="校验规则，见 /api/v1/standards/validators"
    )
    standard_source: str = Field("", max_length=200)
    version: str = Field("1.0", min_length=1, max_length=32)
    status: ElementStatus = "active"


class DataElementOut(BaseModel):
    identifier: str
    name: str
    definition: str
    data_type: str
    length: int | None
    code_set: str | None
    code_set_version: str | None
    validator: str | None
    standard_source: str
    version: str
    status: str
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, element: DataElement) -> DataElementOut:
        return cls(
            identifier=element.identifier,
            name=element.name,
            definition=element.definition,
            data_type=element.data_type,
            length=element.length,
            code_set=element.code_set.code if element.code_set else None,
            code_set_version=element.code_set_version,
            validator=element.validator,
            standard_source=element.standard_source,
            version=element.version,
            status=element.status,
            created_by=element.created_by,
            created_at=element.created_at,
        )


class ElementImportReport(BaseModel):
    created: int
    identifiers: list[str]


class ValidatorOut(BaseModel):
    name: str
    label: str
    description: str
    value_type: str
    needs_code_set: bool
    messages: dict[str, str]


MAX_VALIDATE_VALUES = 10_000


class ValidateRequest(Input):
    validator: str = Field(min_length=1, max_length=32)
    values: list[str | None] = Field(max_length=MAX_VALIDATE_VALUES)
    code_set: str | None = Field(None, max_length=64, description="validator 为 code 时必填")
    code_set_version: str | None = Field(None, max_length=32)
    include_abolished: bool = Field(False, description="代码集校验时也接受已废止的代码（如旧行政区划）")
    units: list[str] | None = Field(None, max_length=20, description="number 校验接受的单位，默认 元")


class ValidatedValue(BaseModel):
    input: str | None
    value: str | float | None = Field(description="规范化后的值（日期为 yyyy-mm-dd）")
    error: str | None
    message: str | None


class ValidateResult(BaseModel):
    validator: str
    total: int
    accepted: int
    rejected: int
    blank: int
    results: list[ValidatedValue]
