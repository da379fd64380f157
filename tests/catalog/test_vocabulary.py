from __future__ import annotations

import pytest

from govshare.catalog import vocabulary
from govshare.catalog.vocabulary import Labelled

ENUMS = [
    v
    for v in vars(vocabulary).values()
    if isinstance(v, type) and issubclass(v, Labelled) and v is not Labelled
]


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_every_member_has_its_own_label_and_parses_back(enum: type[Labelled]) -> None:
    labels = [member.label for member in enum]
    assert len(set(labels)) == len(labels)
    for member in enum:
        assert enum.parse(member.label) is member
        assert enum.parse(member.value) is member


def test_members_sharing_a_value_keep_their_own_labels() -> None:
    assert vocabulary.ShareType.NONE.label == "不予共享"
    assert vocabulary.MaskRule.NONE.label == "不脱敏"
    assert vocabulary.Category.DEPARTMENT.label == "部门"
    assert vocabulary.UsageRange.DEPARTMENT.label == "部门内部"
