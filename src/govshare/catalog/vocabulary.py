"""The catalog's controlled vocabularies (《政务信息资源目录编制指南（试行）》), each value with its Chinese
label and the aliases departments write in templates and YAML files."""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """An enum whose members carry a Chinese label; `parse` accepts the value, the label or an alias."""

    @property
    def label(self) -> str:
        return _LABELS[(type(self), self.value)]

    @classmethod
    def parse(cls, text: object) -> Labelled:
        if isinstance(text, cls):
            return text
        raw = str(text).strip()
        for member in cls:
            if raw in (member.value, member.label, *_ALIASES.get((cls, member.value), ())):
                return member
        raise ValueError(f"“{raw}”不是有效取值，应为：{'、'.join(cls.choices())}")

    @classmethod
    def choices(cls) -> list[str]:
        return [m.label for m in cls]


class Category(Labelled):
    BASE = "base"
    THEME = "theme"
    DEPARTMENT = "department"


class BaseKind(Labelled):
    POPULATION = "population"
    LEGAL_PERSON = "legal_person"
    GEOSPATIAL = "geospatial"
    CREDIT = "credit"
    LICENSE = "license"


class ShareType(Labelled):
    UNCONDITIONAL = "unconditional"
    CONDITIONAL = "conditional"
    NONE = "none"


class ShareMethod(Labelled):
    DATABASE = "database"
    API = "api"
    FILE = "file"
    EMAIL = "email"
    MEDIA = "media"


class FormatCategory(Labelled):
    ELECTRONIC_FILE = "electronic_file"
    SPREADSHEET = "spreadsheet"
    DATABASE = "database"
    IMAGE = "image"
    STREAMING = "streaming"
    SELF_DESCRIBING = "self_describing"


class UpdateCycle(Labelled):
    REALTIME = "realtime"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"
    OTHER = "other"


class DataType(Labelled):
    C = "C"
    N = "N"
    Y = "Y"
    D = "D"
    T = "T"
    L = "L"
    M = "M"
    G = "G"
    B = "B"
    I = "I"  # noqa: E741 - the guide's own letter for 整型
    F = "F"


class MaskRule(Labelled):
    NONE = "none"
    ID_NUMBER = "id_number"
    MOBILE = "mobile"
    NAME = "name"
    PARTIAL = "partial"
    HIDE = "hide"


class VersionState(Labelled):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class ResourceStatus(Labelled):
    NEW = "new"  # never published
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class UsageRange(Labelled):
    STANDALONE = "standalone"
    OFFICE = "office"
    DEPARTMENT = "department"
    CROSS_DEPARTMENT = "cross_department"


class UsageFrequency(Labelled):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    RARELY = "rarely"


class Funding(Labelled):
    FISCAL = "fiscal"
    SELF = "self"
    OTHER = "other"


# Keyed by (enum, value): members of different enums can share a value (“none”, “department”, “daily”).
LABELS: list[tuple[Labelled, str]] = [
    (Category.BASE, "基础"),
    (Category.THEME, "主题"),
    (Category.DEPARTMENT, "部门"),
    (BaseKind.POPULATION, "人口"),
    (BaseKind.LEGAL_PERSON, "法人"),
    (BaseKind.GEOSPATIAL, "自然资源和空间地理"),
    (BaseKind.CREDIT, "社会信用"),
    (BaseKind.LICENSE, "电子证照"),
    (ShareType.UNCONDITIONAL, "无条件共享"),
    (ShareType.CONDITIONAL, "有条件共享"),
    (ShareType.NONE, "不予共享"),
    (ShareMethod.DATABASE, "数据库"),
    (ShareMethod.API, "接口"),
    (ShareMethod.FILE, "文件"),
    (ShareMethod.EMAIL, "邮件"),
    (ShareMethod.MEDIA, "介质"),
    (FormatCategory.ELECTRONIC_FILE, "电子文件"),
    (FormatCategory.SPREADSHEET, "电子表格"),
    (FormatCategory.DATABASE, "数据库"),
    (FormatCategory.IMAGE, "图形图像"),
    (FormatCategory.STREAMING, "流媒体"),
    (FormatCategory.SELF_DESCRIBING, "自描述格式"),
    (UpdateCycle.REALTIME, "实时"),
    (UpdateCycle.DAILY, "每日"),
    (UpdateCycle.WEEKLY, "每周"),
    (UpdateCycle.MONTHLY, "每月"),
    (UpdateCycle.QUARTERLY, "每季度"),
    (UpdateCycle.SEMIANNUAL, "每半年"),
    (UpdateCycle.ANNUAL, "每年"),
    (UpdateCycle.OTHER, "其他"),
    (DataType.C, "字符型"),
    (DataType.N, "数值型"),
    (DataType.Y, "货币型"),
    (DataType.D, "日期型"),
    (DataType.T, "日期时间型"),
    (DataType.L, "逻辑型"),
    (DataType.M, "备注型"),
    (DataType.G, "通用型"),
    (DataType.B, "双精度型"),
    (DataType.I, "整型"),
    (DataType.F, "浮点型"),
    (MaskRule.NONE, "不脱敏"),
    (MaskRule.ID_NUMBER, "证件号码"),
    (MaskRule.MOBILE, "手机号码"),
    (MaskRule.NAME, "姓名"),
    (MaskRule.PARTIAL, "部分遮盖"),
    (MaskRule.HIDE, "完全隐藏"),
    (VersionState.DRAFT, "草稿"),
    (VersionState.SUBMITTED, "待审核"),
    (VersionState.RETURNED, "已退回"),
    (VersionState.PUBLISHED, "已发布"),
    (VersionState.SUPERSEDED, "已被新版本取代"),
    (ResourceStatus.NEW, "未发布"),
    (ResourceStatus.ACTIVE, "在用"),
    (ResourceStatus.WITHDRAWN, "已下架"),
    (UsageRange.STANDALONE, "单机"),
    (UsageRange.OFFICE, "处室内部"),
    (UsageRange.DEPARTMENT, "部门内部"),
    (UsageRange.CROSS_DEPARTMENT, "跨部门"),
    (UsageFrequency.DAILY, "每日"),
    (UsageFrequency.WEEKLY, "每周"),
    (UsageFrequency.MONTHLY, "每月"),
    (UsageFrequency.RARELY, "偶尔"),
    (Funding.FISCAL, "财政资金"),
    (Funding.SELF, "自筹资金"),
    (Funding.OTHER, "其他"),
]

ALIASES: list[tuple[Labelled, tuple[str, ...]]] = [
    (ShareType.UNCONDITIONAL, ("无条件",)),
    (ShareType.CONDITIONAL, ("有条件",)),
    (ShareType.NONE, ("不予", "不共享")),
    (BaseKind.GEOSPATIAL, ("空间地理", "自然资源", "空间地理信息")),
    (BaseKind.CREDIT, ("信用",)),
    (BaseKind.LEGAL_PERSON, ("法人单位",)),
    (BaseKind.POPULATION, ("人口信息",)),
    (BaseKind.LICENSE, ("证照",)),
    (UpdateCycle.SEMIANNUAL, ("半年",)),
    (UpdateCycle.QUARTERLY, ("季度", "每季")),
    (UpdateCycle.DAILY, ("日",)),
    (UpdateCycle.WEEKLY, ("周",)),
    (UpdateCycle.MONTHLY, ("月",)),
    (UpdateCycle.ANNUAL, ("年", "每年度")),
    (Category.BASE, ("基础类", "基础信息资源")),
    (Category.THEME, ("主题类", "主题信息资源")),
    (Category.DEPARTMENT, ("部门类", "部门信息资源")),
    (ShareMethod.API, ("接口方式", "服务接口", "API")),
    (ShareMethod.DATABASE, ("库表", "数据库方式")),
    (ShareMethod.FILE, ("文件方式",)),
    (DataType.C, ("字符",)),
    (DataType.N, ("数值",)),
    (DataType.D, ("日期",)),
    (DataType.T, ("日期时间",)),
    (DataType.I, ("整数",)),
    (MaskRule.ID_NUMBER, ("身份证", "身份证号")),
    (MaskRule.MOBILE, ("手机", "手机号")),
]

THEMES = (
    "公共服务",
    "健康保障",
    "社会保障",
    "食品药品安全",
    "安全生产",
    "价格监管",
    "能源安全",
    "信用体系",
    "城乡建设",
    "社区治理",
    "生态环保",
    "应急维稳",
)


_LABELS: dict[tuple[type, str], str] = {(type(m), m.value): label for m, label in LABELS}
_ALIASES: dict[tuple[type, str], tuple[str, ...]] = {(type(m), m.value): names for m, names in ALIASES}


def register_labels(
    *pairs: tuple[Labelled, str], aliases: tuple[tuple[Labelled, tuple[str, ...]], ...] = ()
) -> None:
    """Other domains declare their own labelled vocabularies (e.g. sharing's 使用用途) here."""
    _LABELS.update({(type(m), m.value): label for m, label in pairs})
    _ALIASES.update({(type(m), m.value): names for m, names in aliases})
