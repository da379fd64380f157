"""Shapes of the catalog: one definition model serves the API, catalog-as-code files and the Excel template,
so a resource is validated the same way whichever door it comes through."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from govshare.catalog.vocabulary import (
    BaseKind,
    Category,
    DataType,
    FormatCategory,
    MaskRule,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from govshare.core.inputs import Input
from govshare.identity.schemas import DepartmentCode

_TRUE = {"是", "true", "True", "TRUE", "yes", "y", "Y", "1", "√"}
_FALSE = {"否", "false", "False", "FALSE", "no", "n", "N", "0", "×", ""}


def _bool(value: object) -> object:
    if isinstance(value, str):
        if value.strip() in _TRUE:
            return True
        if value.strip() in _FALSE:
            return False
        raise ValueError(f"“{value}”应为“是”或“否”")
    return value


def _labelled(enum: Any) -> Any:
    def parse(value: object) -> object:
        return value if value is None else enum.parse(value)

    return BeforeValidator(parse)


Bool = Annotated[bool, BeforeValidator(_bool)]
CategoryIn = Annotated[Category, _labelled(Category)]
BaseKindIn = Annotated[BaseKind, _labelled(BaseKind)]
ShareTypeIn = Annotated[ShareType, _labelled(ShareType)]
ShareMethodIn = Annotated[ShareMethod, _labelled(ShareMethod)]
FormatCategoryIn = Annotated[FormatCategory, _labelled(FormatCategory)]
UpdateCycleIn = Annotated[UpdateCycle, _labelled(UpdateCycle)]
DataTypeIn = Annotated[DataType, _labelled(DataType)]
MaskRuleIn = Annotated[MaskRule, _labelled(MaskRule)]
ResourceCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ClassificationIn(Input):
    model_config = ConfigDict(populate_by_name=True)

    category: CategoryIn
    kind: BaseKindIn | None = None
    theme: str | None = Field(None, max_length=16)
    class_code: str = Field(alias="class", pattern=r"^[1-9]$", description="类（1 位数字）")
    item: str = Field(pattern=r"^\d{2}$", description="项（2 位数字）")
    catalog: str = Field(pattern=r"^\d{3}$", description="目（3 位数字）")
    detail: str | None = Field(None, pattern=r"^\d{1,8}$", description="细目（可选）")


class FormatIn(Input):
    category: FormatCategoryIn
    type: str = Field("", max_length=50)


class ShareIn(Input):
    type: ShareTypeIn
    condition: str = Field("", max_length=2000)
    methods: list[ShareMethodIn] = Field(default_factory=list, max_length=5)


class OpenIn(Input):
    open: Bool = False
    condition: str | None = Field(None, max_length=2000)


class ItemIn(Input):
    name: str = Field(min_length=1, max_length=100)
    field: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="字段名：小写字母开头，字母数字下划线")
    type: DataTypeIn
    length: int | None = Field(None, ge=1, le=1_000_000)
    key: Bool = False
    nullable: Bool = True
    base: Bool = False
    share: ShareTypeIn | None = None
    grade: str | None = Field(None, max_length=16)
    mask: MaskRuleIn = MaskRule.NONE
    standard: str | None = Field(None, max_length=100)


class ResourceDefinition(Input):
    """A resource as departments write it (docs/catalog-as-code.md)."""

    name: str = Field(min_length=1, max_length=200)
    provider: DepartmentCode
    code: ResourceCode | None = None
    summary: str = Field("", max_length=4000)
    classification: ClassificationIn
    format: FormatIn
    share: ShareIn
    open: OpenIn = Field(default_factory=OpenIn)
    update_cycle: UpdateCycleIn
    legal_basis: str = Field("", max_length=2000)
    grade: str | None = Field(None, max_length=16)
    related: list[ResourceCode] = Field(default_factory=list, max_length=50)
    system: str | None = Field(None, max_length=64)
    items: list[ItemIn] = Field(min_length=1, max_length=500)


class CatalogFile(Input):
    resources: list[ResourceDefinition] = Field(max_length=10_000)


class Comment(Input):
    comment: str = Field("", max_length=2000)


class Reason(Input):
    reason: str = Field(min_length=2, max_length=2000)


class OverrideIn(Input):
    rule: str = Field(pattern=r"^[a-z_]{3,40}$")
    reason: str = Field(min_length=4, max_length=2000)


class VersionOut(BaseModel):
    number: int
    state: str
    state_label: str
    definition: dict[str, Any]
    overrides: list[dict[str, Any]]
    created_by: str
    created_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_comment: str | None
    published_at: datetime | None


class ResourceOut(BaseModel):
    id: int
    code: str | None
    provider_code: str
    provider_name: str
    status: str
    status_label: str
    state: str = Field(
        description="对调用方而言资源所处的环节：draft / submitted / returned / published / withdrawn"
    )
    state_label: str = Field(description="环节的中文名：草稿 / 待审核 / 已退回 / 已发布 / 已下架")
    allowed_actions: list[str] = Field(
        description="调用方现在可以办理的操作：edit / submit / approve / return / withdraw（办理时再次检查）"
    )
    name: str
    current: VersionOut | None = Field(description="已发布、正在生效的版本")
    pending: VersionOut | None = Field(description="正在编制或审核中的版本（仅提供方与审核员可见）")
    created_at: datetime
    updated_at: datetime
    first_published_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_reason: str | None


class ApplyOutcome(BaseModel):
    name: str
    provider: str
    resource_id: int
    code: str | None
    action: str  # created / updated / unchanged
    published: bool


class ApplyReport(BaseModel):
    created: int
    updated: int
    unchanged: int
    published: int
    resources: list[ApplyOutcome]


class FieldChange(BaseModel):
    field: str
    before: Any
    after: Any


class ItemChange(BaseModel):
    field_name: str
    change: str  # added / removed / changed
    changes: list[FieldChange] = Field(default_factory=list)


class VersionDiff(BaseModel):
    resource_id: int
    from_version: int
    to_version: int
    fields: list[FieldChange]
    items: list[ItemChange]
