from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from govshare.auth.scope import RowScope, restrict
from govshare.catalog.vocabulary import ResourceStatus, VersionState
from govshare.models import InfoSystem, Resource, ResourceVersion


class InfoSystemRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_code(self, code: str) -> InfoSystem | None:
        return self.session.scalars(
            select(InfoSystem).where(InfoSystem.code == code).options(selectinload(InfoSystem.department))
        ).one_or_none()

    def find(
        self,
        scope: RowScope,
        *,
        usage_range: str | None = None,
        connected: bool | None = None,
    ) -> list[InfoSystem]:
        stmt = select(InfoSystem).options(selectinload(InfoSystem.department)).order_by(InfoSystem.code)
        stmt = restrict(stmt, scope, InfoSystem.department_id)
        if usage_range is not None:
            stmt = stmt.where(InfoSystem.usage_range == usage_range)
        if connected is not None:
            stmt = stmt.where(InfoSystem.connected == connected)
        return list(self.session.scalars(stmt))

    def add(self, system: InfoSystem) -> None:
        self.session.add(system)
        self.session.flush()

    def produced(self, codes: list[str] | None = None) -> dict[str, dict[str, int]]:
        """system code → share type → number of published resources (the version in force, resource
        active) that name the system as their producer. Includes codes missing from the inventory."""
        stmt = (
            select(ResourceVersion.system_code, ResourceVersion.share_type, func.count())
            .join(Resource, Resource.id == ResourceVersion.resource_id)
            .where(
                ResourceVersion.state == VersionState.PUBLISHED.value,
                Resource.status == ResourceStatus.ACTIVE.value,
                ResourceVersion.system_code.is_not(None),
            )
            .group_by(ResourceVersion.system_code, ResourceVersion.share_type)
        )
        if codes is not None:
            stmt = stmt.where(ResourceVersion.system_code.in_(codes))
        out: dict[str, dict[str, int]] = {}
        for code, share_type, count in self.session.execute(stmt):
            if code:
                out.setdefault(code, {})[share_type] = count
        return out

    def registered_codes(self) -> set[str]:
        return set(self.session.scalars(select(InfoSystem.code)))
