"""The validators by name, as mappings, the CLI and the API choose them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from govshare.standards import validators, vectorized


@dataclass(frozen=True)
class ValidatorSpec:
    name: str
    label: str
    description: str
    scalar: Callable[..., validators.Result]
    vector: Callable[..., pl.DataFrame]
    value_type: str  # text / date / number
    needs_code_set: bool = False

    def check_column(self, values: pl.Series, **options: Any) -> pl.DataFrame:
        """The vectorized result: columns value, error, message."""
        return self.vector(values, **options)


VALIDATORS: dict[str, ValidatorSpec] = {
    spec.name: spec
    for spec in (
        ValidatorSpec(
            "id_number",
            "公民身份号码",
            "18位校验、出生日期；全角、空格、小写x规范化；15位升18位；不按现行区划校验地址码",
            validators.id_number,
            vectorized.id_number,
            "text",
        ),
        ValidatorSpec(
            "uscc",
            "统一社会信用代码",
            "GB 32100 字符集与校验码，含以字母开头的代码",
            validators.uscc,
            vectorized.uscc,
            "text",
        ),
        ValidatorSpec(
            "mobile",
            "手机号码",
            "11位，可带+86/0086/86与分隔符",
            validators.mobile,
            vectorized.mobile,
            "text",
        ),
        ValidatorSpec(
            "landline",
            "固定电话",
            "带区号，规范为 0xx-xxxxxxxx[-分机]",
            validators.landline,
            vectorized.landline,
            "text",
        ),
        ValidatorSpec("phone", "电话号码", "手机或固定电话", validators.phone, vectorized.phone, "text"),
        ValidatorSpec(
            "date",
            "日期",
            "2020-01-02、20200102、2020/1/2、2020年1月2日、2020.01.02、Excel 序列号 → yyyy-mm-dd",
            validators.parse_date,
            vectorized.parse_date,
            "date",
        ),
        ValidatorSpec(
            "number",
            "带单位的数值",
            "100万元、1.5亿、3,200元、12.5% → 数值",
            validators.parse_number,
            vectorized.parse_number,
            "number",
        ),
        ValidatorSpec(
            "text",
            "文本",
            "全角转半角、去首尾空白、合并连续空白",
            validators.clean_text,
            vectorized.clean_text,
            "text",
        ),
        ValidatorSpec("trim", "去首尾空白", "只去首尾空白", validators.trimmed, vectorized.trimmed, "text"),
        ValidatorSpec(
            "code",
            "代码集",
            "值须为代码集中的代码（或其名称，转为代码）",
            validators.in_code_set,
            vectorized.in_code_set,
            "text",
            needs_code_set=True,
        ),
    )
}


def get(name: str) -> ValidatorSpec | None:
    return VALIDATORS.get(name)
