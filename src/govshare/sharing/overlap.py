"""What a new approval would do to the grant an application already holds on the same resource.

One application holds one live grant per resource (`service._grant` supersedes the one before), so an
approval that is narrower than the existing grant would silently take items, clear items, rows, time or
quota away from the consumer. `decide` compares the two with `narrowing` and, when anything would be lost,
asks the approver to choose: merge (`merged`: the new grant keeps what the old one gave as well) or
replace (the old grant is revoked, audited as its own entry, and the applicant sees it on the request).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from govshare.models import ShareGrant


@dataclass(frozen=True)
class Terms:
    """The terms of a grant about to be compiled (or of one that exists)."""

    items: list[str]
    clear: list[str]
    scope: dict[str, list[str]]
    valid_to: datetime
    requests_per_day: int
    rows_per_day: int

    @classmethod
    def of(cls, grant: ShareGrant) -> Terms:
        return cls(
            list(grant.items),
            list(grant.clear_items or []),
            {k: list(v) for k, v in (grant.row_scope or {}).items()},
            grant.valid_to,
            grant.requests_per_day,
            grant.rows_per_day,
        )


@dataclass(frozen=True)
class Narrowing:
    """What the consumer would lose if `new` replaced the existing grant `grant_id`."""

    grant_id: int
    lost_items: list[str] = field(default_factory=list)
    lost_clear: list[str] = field(default_factory=list)
    narrowed_scope: list[str] = field(default_factory=list)  # fields whose allowed rows shrink
    ends_earlier: bool = False
    lower_quota: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.lost_items or self.lost_clear or self.narrowed_scope or self.ends_earlier or self.lower_quota
        )

    def describe(self, names: dict[str, str]) -> str:
        """In Chinese, for the approver, the applicant and the audit log."""

        def label(fields: list[str]) -> str:
            return "、".join(names.get(f, f) for f in fields)

        parts = []
        if self.lost_items:
            parts.append(f"不再包含信息项：{label(self.lost_items)}")
        if self.lost_clear:
            parts.append(f"改为脱敏的信息项：{label(self.lost_clear)}")
        if self.narrowed_scope:
            parts.append(f"记录范围收窄：{label(self.narrowed_scope)}")
        if self.ends_earlier:
            parts.append("有效期提前结束")
        if self.lower_quota:
            parts.append("每日配额降低")
        return "；".join(parts)

    def as_dict(self) -> dict[str, object]:
        return {
            "grant_id": self.grant_id,
            "lost_items": self.lost_items,
            "lost_clear_items": self.lost_clear,
            "narrowed_scope": self.narrowed_scope,
            "ends_earlier": self.ends_earlier,
            "lower_quota": self.lower_quota,
        }


def _scope_narrowed(old: dict[str, list[str]], new: dict[str, list[str]]) -> list[str]:
    """Fields on which `new` admits fewer rows than `old` (a field absent from a scope is unrestricted)."""
    narrowed = []
    for name, values in new.items():
        if name not in old or not set(old[name]) <= set(values):
            narrowed.append(name)
    return narrowed


def narrowing(existing: ShareGrant, new: Terms) -> Narrowing:
    old = Terms.of(existing)
    kept = set(new.items)
    return Narrowing(
        grant_id=existing.id,
        lost_items=[f for f in old.items if f not in kept],
        lost_clear=[f for f in old.clear if f in kept and f not in new.clear],
        narrowed_scope=_scope_narrowed(old.scope, new.scope),
        ends_earlier=new.valid_to < old.valid_to,
        lower_quota=new.requests_per_day < old.requests_per_day or new.rows_per_day < old.rows_per_day,
    )


def merged(existing: list[ShareGrant], new: Terms, order: list[str]) -> Terms:
    """The new terms widened by every existing grant: items and clear items united (in catalog `order`,
    and only items the catalog still has), a field restricts rows only where every grant restricts it (to
    the union of their values), the later end and the larger quotas."""
    items, clear, scope = set(new.items), set(new.clear), {k: set(v) for k, v in new.scope.items()}
    valid_to, requests, rows = new.valid_to, new.requests_per_day, new.rows_per_day
    for grant in existing:
        old = Terms.of(grant)
        items |= set(old.items)
        clear |= set(old.clear)
        scope = {k: values | set(old.scope[k]) for k, values in scope.items() if k in old.scope}
        valid_to = max(valid_to, old.valid_to)
        requests, rows = max(requests, old.requests_per_day), max(rows, old.rows_per_day)
    ordered = [f for f in order if f in items]
    return Terms(
        items=ordered,
        clear=[f for f in ordered if f in clear],
        scope={k: sorted(v) for k, v in scope.items()},
        valid_to=valid_to,
        requests_per_day=requests,
        rows_per_day=rows,
    )
