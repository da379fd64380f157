"""Resource codes (信息资源代码): generated at first publication, stable forever, safe in URLs.

Provinces set their own schemes, so the scheme is chosen by the jurisdiction (`catalog.code_scheme`):
- `guide` (default, 编制指南): 前段码 类(1)+项(2)+目(3)+细目, then "-" and a sequence number per 前段码;
- `department`: the provider's department code, "-", a sequence number per department.
The guide writes "/" between the parts; we write "-" so a code can stand in a URL path unescaped.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from govshare.catalog.repository import CatalogRepository
from govshare.errors import InvalidInput
from govshare.jurisdiction import CatalogRules
from govshare.models import CodeSequence, ResourceVersion


def _guide(version: ResourceVersion, department_code: str) -> str:
    return f"{version.class_code}{version.item_code}{version.catalog_code}{version.detail_code or ''}"


def _department(version: ResourceVersion, department_code: str) -> str:
    return department_code.upper()


SCHEMES: dict[str, Callable[[ResourceVersion, str], str]] = {"guide": _guide, "department": _department}


def next_code(session: Session, version: ResourceVersion, department_code: str, rules: CatalogRules) -> str:
    scheme = SCHEMES.get(rules.code_scheme)
    if scheme is None:
        raise InvalidInput(f"辖区配置的资源代码方案“{rules.code_scheme}”不存在，可选：{'、'.join(SCHEMES)}")
    prefix = scheme(version, department_code)
    sequence = CatalogRepository(session).code_sequence_for_update(prefix)
    if sequence is None:
        sequence = CodeSequence(prefix=prefix, last=0)
        session.add(sequence)
    sequence.last += 1
    session.flush()
    return f"{prefix}-{sequence.last:0{rules.sequence_digits}d}"
