"""Per-jurisdiction rules (provinces and cities differ): catalog rules, security-grade scale, code scheme.

Loaded once at start-up from the YAML file named by `GOVSHARE_JURISDICTION_FILE` (see
docs/jurisdiction.md); without one, the national defaults below apply.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

# The codes of `catalog.vocabulary.BaseKind` (the five base resource kinds). Spelled out here, not
# imported, because this file is read by `core` (NodeConfig) and the kernel imports no domain;
# tests/catalog/test_rules.py fails if the two lists drift apart.
BaseKindCode = Literal["population", "legal_person", "geospatial", "credit", "license"]


class Grade(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=r"^[A-Za-z0-9_]{1,16}$")
    label: str = Field(min_length=1, max_length=16)


DEFAULT_GRADES = (
    Grade(code="general", label="一般"),
    Grade(code="important", label="重要"),
    Grade(code="core", label="核心"),
)


class CatalogRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name_max_length: int = Field(50, ge=10, le=200)
    summary_max_length: int = Field(256, ge=50, le=4000)
    conditional_requires_basis: bool = Field(False, description="有条件共享是否也须注明依据（部分省份要求）")
    base_unconditional_kinds: tuple[BaseKindCode, ...] = (
        "population",
        "legal_person",
        "geospatial",
        "license",
    )
    grades: tuple[Grade, ...] = Field(DEFAULT_GRADES, min_length=2, description="安全级别，从低到高")
    code_scheme: str = Field("guide", description="资源代码方案：guide（类项目细目+顺序码）或 department")
    sequence_digits: int = Field(6, ge=3, le=10)

    @model_validator(mode="after")
    def _distinct_grades(self) -> CatalogRules:
        codes = [g.code for g in self.grades]
        labels = [g.label for g in self.grades]
        if len(set(codes)) != len(codes) or len(set(labels)) != len(labels):
            raise ValueError("安全级别的代码与名称不能重复")
        return self

    def grade_rank(self, grade: str) -> int:
        """Position on the scale (higher is stricter); accepts the code or the label."""
        for rank, candidate in enumerate(self.grades):
            if grade in (candidate.code, candidate.label):
                return rank
        raise ValueError(f"“{grade}”不是有效的安全级别，应为：{'、'.join(g.label for g in self.grades)}")

    def grade_code(self, grade: str) -> str:
        return self.grades[self.grade_rank(grade)].code

    def grade_label(self, code: str) -> str:
        return self.grades[self.grade_rank(code)].label


class SharingRules(BaseModel):
    """Deadlines and approval chain for 有条件 applications (国发〔2016〕51号: 10 working days;
    provinces vary, e.g. Shanxi 2-day 符合性审查 by the 主管部门 then 5 days)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prereview_days: int = Field(
        0, ge=0, le=30, description="主管部门符合性审查时限（工作日）；0 表示不设该环节"
    )
    provider_days: int = Field(10, ge=1, le=60, description="提供部门答复时限（工作日）")
    remind_before_days: int = Field(2, ge=0, le=30, description="到期前提醒（工作日）")
    max_grant_days: int = Field(1095, ge=1, le=3650, description="一次授权的最长有效期（日历日）")
    # The holiday calendar comes from the chinese-calendar package; a year it does not cover yet (the State
    # Council publishes the next year's 放假安排 in November or December) counts weekends only, plus these.
    extra_holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()


class PasswordRules(BaseModel):
    """Overrides of the node's password policy (GOVSHARE_PASSWORD_MIN_LENGTH / _MIN_SCORE) for places
    whose rules are stricter; a value left out keeps the setting."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_length: int | None = Field(None, ge=8, le=128, description="口令最短长度")
    min_score: int | None = Field(None, ge=0, le=4, description="口令强度下限（zxcvbn 评分 0–4）")


class Jurisdiction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "示例市"
    catalog: CatalogRules = CatalogRules()
    sharing: SharingRules = SharingRules()
    passwords: PasswordRules = PasswordRules()


def load_jurisdiction(path: Path | None) -> Jurisdiction:
    if path is None:
        return Jurisdiction()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"无法读取辖区配置文件 {path}：{exc}") from exc
    return Jurisdiction.model_validate(data)
