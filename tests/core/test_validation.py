"""The one translator of Pydantic validation errors into Chinese (core/validation.py): real Pydantic
errors in, the sentence every edge (API, portal, Excel, mapping files, console) shows out."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from govshare.core.validation import describe, error_path, field_errors, validation_message


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=4)
    code: str = Field("AB", min_length=2, pattern=r"^[A-Z]+$")
    count: int = Field(1, ge=0, le=9)
    step: int = Field(1, gt=0, lt=5)
    ratio: float = 0.5
    tags: list[str] = Field(default_factory=lambda: ["x"], min_length=1, max_length=2)
    pair: list[int] = Field(default_factory=lambda: [1, 2], min_length=2)
    kind: Literal["a", "b"] = "a"
    day: date = date(2024, 1, 1)
    flag: bool = True
    odd: Annotated[int, Field()] = 1

    @field_validator("odd")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError("必须是奇数")
        return value


def _message(**data: Any) -> str:
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate({"name": "甲", **data})
    errors = raised.value.errors()
    assert len(errors) == 1, errors
    return validation_message(errors[0])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "不能为空"),
        ({"name": "甲乙丙丁戊"}, "长度不能超过 4 个字符"),
        ({"code": "A"}, "长度不能少于 2 个字符"),
        ({"code": "ab"}, "格式不正确"),
        ({"count": -1}, "不能小于 0"),
        ({"count": 10}, "不能大于 9"),
        ({"count": "三"}, "必须是整数"),
        ({"count": 1.5}, "必须是整数"),
        ({"step": 0}, "必须大于 0"),
        ({"step": 5}, "必须小于 5"),
        ({"ratio": "半"}, "必须是数字"),
        ({"tags": []}, "至少选择一项"),
        ({"tags": ["a", "b", "c"]}, "最多 2 项"),
        ({"tags": "a"}, "必须是数组"),
        ({"pair": [1]}, "至少 2 项"),
        ({"kind": "c"}, "取值必须是 'a'、'b' 之一"),
        ({"day": "2024-13-01"}, "日期格式不正确（应为 yyyy-mm-dd）"),
        ({"flag": "也许"}, "必须是布尔值（是/否）"),
        ({"odd": 2}, "必须是奇数"),
        ({"unknown": 1}, "不允许的字段"),
    ],
)
def test_each_kind_of_error_reads_in_chinese(data: dict[str, Any], message: str) -> None:
    assert _message(**data) == message


def test_a_missing_field_and_a_wrong_type() -> None:
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate({})
    assert [validation_message(e) for e in raised.value.errors()] == ["必填，不能为空"]
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate({"name": 5})
    assert [validation_message(e) for e in raised.value.errors()] == ["必须是字符串"]


def test_a_pattern_hint_names_the_expected_shape() -> None:
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate({"name": "甲", "code": "ab"})
    error = raised.value.errors()[0]
    assert validation_message(error, pattern_hint="须为大写字母") == "须为大写字母"
    assert validation_message(error, pattern_hint=None) == "格式不正确"
    # a hint is for pattern mismatches only
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate({"name": ""})
    assert validation_message(raised.value.errors()[0], pattern_hint="须为大写字母") == "不能为空"


def test_an_unknown_kind_is_never_shown_in_english() -> None:
    assert validation_message({"type": "some_new_kind", "msg": "Input should be something"}) == "取值无效"


def test_field_errors_and_describe_name_the_dotted_path() -> None:
    class Outer(BaseModel):
        items: list[Sample]

    with pytest.raises(ValidationError) as raised:
        Outer.model_validate({"items": [{"name": "甲"}, {"name": "", "count": 10}]})
    errors = field_errors(raised.value)
    assert [(e.field, e.message) for e in errors] == [
        ("items.1.name", "不能为空"),
        ("items.1.count", "不能大于 9"),
    ]
    assert describe(raised.value) == "items.1.name：不能为空；items.1.count：不能大于 9"
    assert describe(raised.value, limit=1) == "items.1.name：不能为空"
    assert error_path(("items", 2, "share")) == "items.2.share"


def test_an_error_on_the_whole_input_takes_the_default_field() -> None:
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate("not an object")
    assert [(e.field, e.message) for e in field_errors(raised.value, default_field="body")] == [
        ("body", "必须是 JSON 对象")
    ]
    assert describe(raised.value) == "必须是 JSON 对象"
