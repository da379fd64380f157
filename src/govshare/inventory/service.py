"""政务信息系统清单: departments file their information systems (name, function, usage range and frequency,
approver, funding, build year, whether connected to the platform); the statistics answer the audit's
questions: how many systems, how many share and how widely, how many are islands."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth import scope as row_scope
from govshare.auth.actor import Actor
from govshare.auth.guard import action, require_scope
from govshare.auth.permissions import Permission
from govshare.catalog.vocabulary import Funding, Labelled, ShareType, UsageFrequency, UsageRange
from govshare.errors import Conflict, InvalidInput, NotFound
from govshare.identity import readers as identity_readers
from govshare.inventory import policies
from govshare.inventory.repository import InfoSystemRepository
from govshare.inventory.schemas import (
    Bucket,
    DepartmentFigures,
    Figures,
    InventoryStats,
    Produced,
    RangeSharing,
    SystemCreate,
    SystemFields,
    SystemOut,
)
from govshare.models import Department, InfoSystem

# Above this many systems, `produced` reads every code rather than an IN list.
_IN_LIST_LIMIT = 500

# ---------------------------------------------------------------- helpers


def _department(session: Session, code: str, field: str) -> Department:
    department = identity_readers.department_by_code(session, code)
    if department is None:
        raise InvalidInput.on(field, f"部门“{code}”不存在")
    return department


def _check_edit(actor: Actor, department_id: int, action_name: str, code: str) -> None:
    require_scope(
        actor,
        Permission.INVENTORY_EDIT,
        department_id=department_id,
        action_name=action_name,
        target_type="info_system",
        target_id=code,
    )


def _produced(counts: dict[str, int] | None) -> Produced:
    counts = counts or {}
    return Produced(
        unconditional=counts.get(ShareType.UNCONDITIONAL.value, 0),
        conditional=counts.get(ShareType.CONDITIONAL.value, 0),
        not_shared=counts.get(ShareType.NONE.value, 0),
    )


def _outs(session: Session, systems: list[InfoSystem]) -> list[SystemOut]:
    codes = [s.code for s in systems]
    produced = InfoSystemRepository(session).produced(codes if len(codes) <= _IN_LIST_LIMIT else None)
    return [SystemOut.of(s, _produced(produced.get(s.code))) for s in systems]


def _values(system: InfoSystem) -> dict[str, str]:
    """What the audit log keeps of a system, as text."""
    return {
        "name": system.name,
        "department": system.department.code,
        "function": system.function,
        "usage_range": system.usage_range,
        "usage_frequency": system.usage_frequency,
        "build_year": "" if system.build_year is None else str(system.build_year),
        "approved_by": system.approved_by,
        "funding": system.funding,
        "connected": str(system.connected).lower(),
    }


def _assign(system: InfoSystem, data: SystemFields, department: Department) -> None:
    system.name = data.name
    system.department_id = department.id
    system.department = department
    system.function = data.function
    system.usage_range = data.usage_range.value
    system.usage_frequency = data.usage_frequency.value
    system.build_year = data.build_year
    system.approved_by = data.approved_by
    system.funding = data.funding.value
    system.connected = data.connected


def _visible(actor: Actor, system: InfoSystem, action_name: str) -> None:
    require_scope(
        actor,
        Permission.INVENTORY_READ,
        department_id=system.department_id,
        action_name=action_name,
        target_type="info_system",
        target_id=system.code,
    )


def _system(session: Session, code: str) -> InfoSystem:
    system = InfoSystemRepository(session).by_code(code)
    if system is None:
        raise NotFound(f"信息系统“{code}”不存在")
    return system


# ---------------------------------------------------------------- filing


@action(Permission.INVENTORY_EDIT)
def create_system(session: Session, actor: Actor, data: SystemCreate) -> SystemOut:
    department = _department(session, data.department_code, "department_code")
    _check_edit(actor, department.id, "inventory.create_system", data.code)
    repo = InfoSystemRepository(session)
    if repo.by_code(data.code) is not None:
        raise Conflict(f"系统代码“{data.code}”已存在")
    system = InfoSystem(code=data.code)
    _assign(system, data, department)
    repo.add(system)
    audit.record(
        session,
        actor,
        "inventory.create",
        target_type="info_system",
        target_id=system.code,
        detail=_values(system),
    )
    return _outs(session, [system])[0]


@action(Permission.INVENTORY_EDIT)
def update_system(session: Session, actor: Actor, code: str, data: SystemFields) -> SystemOut:
    """Replace a system's fields. Moving it to another department needs edit rights on both."""
    system = _system(session, code)
    _check_edit(actor, system.department_id, "inventory.update_system", code)
    department = system.department
    if data.department_code != department.code:
        department = _department(session, data.department_code, "department_code")
        _check_edit(actor, department.id, "inventory.update_system", code)
    before = _values(system)
    _assign(system, data, department)
    after = _values(system)
    changes = {k: f"{before[k]} → {after[k]}" for k in after if before[k] != after[k]}
    if changes:
        session.flush()
        audit.record(
            session, actor, "inventory.update", target_type="info_system", target_id=code, detail=changes
        )
    return _outs(session, [system])[0]


# ---------------------------------------------------------------- reading


@action(Permission.INVENTORY_READ)
def get_system(session: Session, actor: Actor, code: str) -> SystemOut:
    system = _system(session, code)
    _visible(actor, system, "inventory.get_system")
    return _outs(session, [system])[0]


@action(Permission.INVENTORY_READ)
def list_systems(
    session: Session,
    actor: Actor,
    *,
    department_code: str | None = None,
    usage_range: str | None = None,
    connected: bool | None = None,
) -> list[SystemOut]:
    scope = row_scope.for_actor(actor, Permission.INVENTORY_READ)
    if department_code:
        department_id = _department(session, department_code, "department").id
        if not policies.reads_all(actor) and department_id != actor.department_id:
            require_scope(
                actor,
                Permission.INVENTORY_READ,
                department_id=department_id,
                action_name="inventory.list_systems",
            )
        if policies.reads_all(actor):
            scope = row_scope.for_department(
                actor, Permission.INVENTORY_READ, department_id, action_name="inventory.list_systems"
            )
    chosen_range = _parse(UsageRange, usage_range, "usage_range") if usage_range else None
    systems = InfoSystemRepository(session).find(
        scope,
        usage_range=chosen_range.value if chosen_range else None,
        connected=connected,
    )
    return _outs(session, systems)


def _parse(enum: type[Labelled], value: str, field: str) -> Labelled:
    try:
        return enum.parse(value)
    except ValueError as exc:
        raise InvalidInput.on(field, str(exc)) from None


# ---------------------------------------------------------------- statistics


def _percent(part: int, whole: int) -> float:
    return round(part * 100 / whole, 1) if whole else 0.0


def _buckets(enum: Iterable[Labelled], counts: Counter[str], total: int) -> list[Bucket]:
    return [
        Bucket(value=m.value, label=m.label, count=counts[m.value], percent=_percent(counts[m.value], total))
        for m in enum
    ]


class _Tally:
    """Counts for one scope (the node or a department), filled one system at a time."""

    def __init__(self) -> None:
        self.systems = 0
        self.ranges: Counter[str] = Counter()
        self.frequencies: Counter[str] = Counter()
        self.funding: Counter[str] = Counter()
        self.connected = 0
        self.status: Counter[str] = Counter()
        self.share_types: Counter[str] = Counter()
        self.range_status: dict[str, Counter[str]] = defaultdict(Counter)
        self.years: Counter[str] = Counter()

    def add(self, system: InfoSystem, share_types: set[str]) -> None:
        status = policies.sharing_status(share_types)
        self.systems += 1
        self.ranges[system.usage_range] += 1
        self.frequencies[system.usage_frequency] += 1
        self.funding[system.funding] += 1
        self.connected += system.connected
        self.status[status] += 1
        self.share_types.update(share_types)
        self.range_status[system.usage_range][status] += 1
        self.years[policies.year_band(system.build_year)] += 1

    def figures(self, bands: list[str]) -> dict[str, Any]:
        n = self.systems
        producing = self.status[policies.SHARING] + self.status[policies.NOT_SHARED]
        seen_bands = bands + sorted(b for b in self.years if b not in bands and b != policies.UNKNOWN_YEAR)
        year_buckets = [
            Bucket(value=b, label=f"{b} 年", count=self.years[b], percent=_percent(self.years[b], n))
            for b in seen_bands
        ]
        year_buckets.append(
            Bucket(
                value="unknown",
                label=policies.UNKNOWN_YEAR,
                count=self.years[policies.UNKNOWN_YEAR],
                percent=_percent(self.years[policies.UNKNOWN_YEAR], n),
            )
        )
        return {
            "systems": n,
            "by_usage_range": _buckets(UsageRange, self.ranges, n),
            "by_frequency": _buckets(UsageFrequency, self.frequencies, n),
            "by_funding": _buckets(Funding, self.funding, n),
            "connected": self.connected,
            "not_connected": n - self.connected,
            "producing": producing,
            "sharing": self.status[policies.SHARING],
            "only_not_shared": self.status[policies.NOT_SHARED],
            "producing_nothing": self.status[policies.NO_RESOURCES],
            "sharing_percent": _percent(self.status[policies.SHARING], n),
            "by_share_type": _buckets(ShareType, self.share_types, n),
            "sharing_by_usage_range": [
                RangeSharing(
                    value=r.value,
                    label=r.label,
                    systems=self.ranges[r.value],
                    sharing=self.range_status[r.value][policies.SHARING],
                    not_shared=self.range_status[r.value][policies.NOT_SHARED],
                    no_resources=self.range_status[r.value][policies.NO_RESOURCES],
                )
                for r in UsageRange
            ],
            "by_build_year": year_buckets,
        }


@action(Permission.INVENTORY_READ)
def inventory_stats(session: Session, actor: Actor) -> InventoryStats:
    """The node's and every department's figures. A reader limited to its own department gets the
    figures of that department only (node figures then cover that department)."""
    repo = InfoSystemRepository(session)
    own_only = not policies.reads_all(actor)
    systems = repo.find(row_scope.for_actor(actor, Permission.INVENTORY_READ))
    produced = repo.produced()
    departments = [
        d for d in identity_readers.all_departments(session) if not own_only or d.id == actor.department_id
    ]
    node = _Tally()
    per: defaultdict[int, _Tally] = defaultdict(_Tally)
    for system in systems:
        share_types = set(produced.get(system.code, {}))
        node.add(system, share_types)
        per[system.department_id].add(system, share_types)
    bands = policies.year_bands()
    registered = repo.registered_codes()
    return InventoryStats(
        node=Figures(**node.figures(bands)),
        departments=[
            DepartmentFigures(code=d.code, name=d.name, **per[d.id].figures(bands)) for d in departments
        ],
        zero_departments=[d.code for d in departments if per[d.id].systems == 0],
        unregistered_system_codes=[] if own_only else sorted(set(produced) - registered),
    )
