"""What may leave the node as open data. The rule is in one place, `withheld_reason`: the portal pages, the
downloads, the public API and the DCAT export all ask it, so an item is either opened everywhere or
nowhere."""

from __future__ import annotations

from govshare.catalog.vocabulary import MaskRule, ShareType
from govshare.jurisdiction import CatalogRules

# General reasons, shown on the dataset page (never the data itself).
PERSONAL = "含个人信息（身份号码、姓名、电话等须脱敏的信息项），不予开放"
NOT_SHARED = "该信息项为不予共享，不予开放"
GRADE = "该信息项安全级别高于最低级别，不予开放"


def withheld_reason(
    *, item_share_type: str | None, resource_share_type: str, grade: str, mask_rule: str, rules: CatalogRules
) -> str | None:
    """Why a data item of an open resource is NOT opened, or None when it is opened.

    A resource is open data when its published version says 向社会开放 (`open_to_public`) and the resource is
    active (checked by the service). Within it, an item is opened only if all three hold:

    1. its effective share type (the item's own, else the resource's) is not 不予共享;
    2. its security grade is the lowest grade of the jurisdiction's scale (`CatalogRules.grades`, ranked
       from low to high; 一般 by default);
    3. its mask rule is "none": an item that is masked when shared (公民身份号码, 姓名, 手机号码, addresses)
       is personal information, and personal information is never opened.

    Items that fail are removed from every output: pages, downloads, the records API and DCAT keywords.
    """
    if mask_rule != MaskRule.NONE.value:
        return PERSONAL
    if (item_share_type or resource_share_type) == ShareType.NONE.value:
        return NOT_SHARED
    try:
        rank = rules.grade_rank(grade)
    except ValueError:  # a grade the scale no longer has: never open what cannot be ranked
        return GRADE
    if rank != 0:
        return GRADE
    return None
