"""Shapes of the inventory: what a department files for each information system (the audit's 名称、功能、
使用范围、使用频度、审批部门、经费来源), and the statistics the bureau reports."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from govshare.catalog.vocabulary import Funding, Labelled, ShareType, UsageFrequency, UsageRange
from govshare.core.inputs import Input
from govshare.identity.schemas import DepartmentCode
from govshare.inventory import policies
from govshare.models import InfoSystem

_CODE = re.compile(policies.SYSTEM_CODE_PATTERN)


def _code(value: str) -> str:
    if not _CODE.match(value):
        raise ValueError("系统代码须为 2–64 位字母、数字、下划线或连字符，以字母或数字开头")
    return value


def _labelled(enum: type[Labelled], what: str) -> Callable[[object], object]:
    def parse(value: object) -> object:
        if not isinstance(value, str):
            raise ValueError(f"{what}须为文本，可选：{'、'.join(enum.choices())}")
        try:
            return enum.parse(value)
        except ValueError as exc:
            raise ValueError(f"{what}：{exc}") from None

    return parse


def _build_year(value: int) -> int:
    problem = policies.build_year_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# Input side: the pattern is checked by a validator so the message is Chinese in the CLI as well.
SystemCodeIn = Annotated[
    str,
    Field(
        max_length=64,
        description="系统代码：2–64 位字母、数字、下划线或连字符，以字母或数字开头，如 ga-rkgl",
        json_schema_extra={"pattern": policies.SYSTEM_CODE_PATTERN},
    ),
    AfterValidator(_code),
]
UsageRangeIn = Annotated[
    UsageRange,
    BeforeValidator(_labelled(UsageRange, "使用范围")),
    Field(description="使用范围：单机 / 处室内部 / 部门内部 / 跨部门"),
]
UsageFrequencyIn = Annotated[
    UsageFrequency,
    BeforeValidator(_labelled(UsageFrequency, "使用频度")),
    Field(description="使用频度：每日 / 每周 / 每月 / 偶尔"),
]
FundingIn = Annotated[
    Funding,
    BeforeValidator(_labelled(Funding, "经费来源")),
    Field(description="经费来源：财政资金 / 自筹资金 / 其他"),
]
BuildYear = Annotated[int, Field(ge=policies.FIRST_BUILD_YEAR), AfterValidator(_build_year)]


class SystemFields(Input):
    """What can change about a system (everything but its code)."""

    name: str = Field(min_length=2, max_length=100, description="系统名称")
    department_code: DepartmentCode = Field(description="所属部门代码")
    function: str = Field("", max_length=2000, description="主要功能")
    usage_range: UsageRangeIn
    usage_frequency: UsageFrequencyIn
    build_year: BuildYear | None = Field(None, description="建设年份（1980 年至今年）")
    approved_by: str = Field("", max_length=100, description="审批部门")
    funding: FundingIn
    connected: bool = Field(False, description="是否已接入共享交换平台")


class SystemCreate(SystemFields):
    code: SystemCodeIn


class SystemUpdate(SystemFields):
    """PUT replaces every field; fields left out take their defaults (empty function, no build year …)."""


class Produced(BaseModel):
    """Published catalog resources the system produces, by share type."""

    unconditional: int = 0
    conditional: int = 0
    not_shared: int = 0

    @property
    def total(self) -> int:
        return self.unconditional + self.conditional + self.not_shared

    def share_types(self) -> set[str]:
        """The share types (catalog codes) of which the system produces at least one resource."""
        counts = {
            ShareType.UNCONDITIONAL.value: self.unconditional,
            ShareType.CONDITIONAL.value: self.conditional,
            ShareType.NONE.value: self.not_shared,
        }
        return {share_type for share_type, n in counts.items() if n}


class SystemOut(BaseModel):
    code: str
    name: str
    department_code: str
    department_name: str
    function: str
    usage_range: str
    usage_range_label: str
    usage_frequency: str
    usage_frequency_label: str
    build_year: int | None
    approved_by: str
    funding: str
    funding_label: str
    connected: bool
    produced: Produced = Field(description="该系统产生的已发布目录资源，按共享类型")
    sharing: str = Field(description="sharing / not_shared / no_resources")
    sharing_label: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, system: InfoSystem, produced: Produced) -> SystemOut:
        status = policies.sharing_status(produced.share_types())
        return cls(
            code=system.code,
            name=system.name,
            department_code=system.department.code,
            department_name=system.department.name,
            function=system.function,
            usage_range=system.usage_range,
            usage_range_label=UsageRange(system.usage_range).label,
            usage_frequency=system.usage_frequency,
            usage_frequency_label=UsageFrequency(system.usage_frequency).label,
            build_year=system.build_year,
            approved_by=system.approved_by,
            funding=system.funding,
            funding_label=Funding(system.funding).label,
            connected=system.connected,
            produced=produced,
            sharing=status,
            sharing_label=policies.SHARING_LABELS[status],
            created_at=system.created_at,
            updated_at=system.updated_at,
        )


# ---------------------------------------------------------------- statistics


class Bucket(BaseModel):
    value: str
    label: str
    count: int
    percent: float = Field(description="占系统总数的百分比，保留一位小数")


class RangeSharing(BaseModel):
    """Systems of one usage range, by how they stand towards sharing."""

    value: str
    label: str
    systems: int
    sharing: int
    not_shared: int
    no_resources: int


class Figures(BaseModel):
    systems: int = 0
    by_usage_range: list[Bucket] = Field(default_factory=list)
    by_frequency: list[Bucket] = Field(default_factory=list)
    by_funding: list[Bucket] = Field(default_factory=list)
    connected: int = 0
    not_connected: int = 0
    producing: int = Field(0, description="产生至少一个已发布目录资源的系统")
    sharing: int = Field(0, description="其中产生无条件或有条件共享资源的系统")
    only_not_shared: int = Field(0, description="其中只产生不予共享资源的系统")
    producing_nothing: int = Field(0, description="目录中没有任何已发布资源的系统")
    sharing_percent: float = 0.0
    by_share_type: list[Bucket] = Field(
        default_factory=list, description="产生该共享类型资源的系统数（一个系统可计入多类）"
    )
    sharing_by_usage_range: list[RangeSharing] = Field(default_factory=list)
    by_build_year: list[Bucket] = Field(default_factory=list, description="按建设年份，每 5 年一段")


class DepartmentFigures(Figures):
    code: str
    name: str


class InventoryStats(BaseModel):
    node: Figures
    departments: list[DepartmentFigures]
    zero_departments: list[str] = Field(description="尚未登记任何信息系统的部门代码")
    unregistered_system_codes: list[str] = Field(description="已发布目录资源引用、但清单中没有登记的系统代码")
