"""The inventory's rules, each a named function so the service, the schemas and the tests share them.

- Who edits: inventory:edit for the system's department (department admins and data stewards), every
  department for the platform admin; moving a system to another department needs both departments.
- Who reads: inventory:read; a scope narrower than the whole node sees its own department only.
- What a system is worth to sharing: it *shares* when it produces at least one published catalog resource
  that other departments may use (无条件 or 有条件共享); it produces only 不予共享 resources, or nothing in
  the catalog at all (the audit's 信息孤岛).
- Build years run from 1980 (the first government systems worth listing) to the current year, and are
  counted in five-year bands.
"""

from __future__ import annotations

from collections.abc import Collection

from govshare.auth.actor import Actor
from govshare.auth.permissions import Permission, Scope
from govshare.catalog.vocabulary import ShareType
from govshare.core.clock import BEIJING, utcnow

FIRST_BUILD_YEAR = 1980
YEAR_BAND = 5
UNKNOWN_YEAR = "未填写"

SYSTEM_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,63}$"

# How a system stands towards sharing, from what it produces in the catalog.
SHARING = "sharing"  # produces ≥ 1 published 无条件 or 有条件 resource
NOT_SHARED = "not_shared"  # produces published resources, all 不予共享
NO_RESOURCES = "no_resources"  # produces no published resource

SHARING_LABELS = {
    SHARING: "共享（产生无条件或有条件共享资源）",
    NOT_SHARED: "仅产生不予共享资源",
    NO_RESOURCES: "目录中无资源",
}

SHARED_TYPES = frozenset({ShareType.UNCONDITIONAL.value, ShareType.CONDITIONAL.value})


def current_year() -> int:
    """The year in Beijing, where the node's users file their systems."""
    return utcnow().astimezone(BEIJING).year


def build_year_problem(year: int) -> str | None:
    """Why `year` is not an acceptable build year, or None."""
    last = current_year()
    if not FIRST_BUILD_YEAR <= year <= last:
        return f"建设年份应在 {FIRST_BUILD_YEAR} 至 {last} 年之间"
    return None


def year_band(year: int | None) -> str:
    """The five-year band a build year falls in, e.g. 2015–2019; `未填写` when unknown."""
    if year is None:
        return UNKNOWN_YEAR
    start = year - (year - FIRST_BUILD_YEAR) % YEAR_BAND
    return f"{start}–{start + YEAR_BAND - 1}"


def year_bands(until: int | None = None) -> list[str]:
    """Every band from 1980 to the current year, oldest first, so reports show empty bands too."""
    last = until or current_year()
    return [year_band(y) for y in range(FIRST_BUILD_YEAR, last + 1, YEAR_BAND)]


def sharing_status(share_types: Collection[str]) -> str:
    """SHARING, NOT_SHARED or NO_RESOURCES, from the share types of the published resources a system
    produces."""
    if not share_types:
        return NO_RESOURCES
    if SHARED_TYPES.intersection(share_types):
        return SHARING
    return NOT_SHARED


def reads_all(actor: Actor) -> bool:
    return actor.scope_of(Permission.INVENTORY_READ) == Scope.ALL
