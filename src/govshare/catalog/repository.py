from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from govshare.catalog.vocabulary import VersionState
from govshare.models import CodeSequence, Department, Resource, ResourceVersion

OPEN_STATES = (VersionState.DRAFT.value, VersionState.SUBMITTED.value, VersionState.RETURNED.value)


class CatalogRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _resources(self) -> Select[Resource]:
        return select(Resource).options(
            selectinload(Resource.department),
            selectinload(Resource.versions).selectinload(ResourceVersion.items),
        )

    def by_id(self, resource_id: int) -> Resource | None:
        return self.session.scalars(self._resources().where(Resource.id == resource_id)).one_or_none()

    def by_code(self, code: str) -> Resource | None:
        return self.session.scalars(self._resources().where(Resource.code == code)).one_or_none()

    def by_provider_and_name(self, department_id: int, name: str) -> Resource | None:
        """The resource of this provider whose newest version carries this name."""
        candidates = self.session.scalars(
            self._resources()
            .join(ResourceVersion)
            .where(Resource.department_id == department_id, ResourceVersion.name == name)
            .distinct()
        ).all()
        for resource in candidates:
            if resource.versions and resource.versions[-1].name == name:
                return resource
        return candidates[0] if candidates else None

    def find(
        self, *, department_id: int | None = None, states: tuple[str, ...] | None = None, limit: int = 500
    ) -> list[Resource]:
        stmt = self._resources().order_by(Resource.id)
        if department_id is not None:
            stmt = stmt.where(Resource.department_id == department_id)
        if states:
            stmt = stmt.where(
                Resource.id.in_(select(ResourceVersion.resource_id).where(ResourceVersion.state.in_(states)))
            )
        return list(self.session.scalars(stmt.limit(limit)))

    def published_codes(self, among: Collection[str] | None = None) -> set[str]:
        """Codes of resources in force; with `among`, only which of those codes are (one small query)."""
        if among is not None and not among:
            return set()
        stmt = select(Resource.code).where(Resource.code.is_not(None), Resource.status == "active")
        if among is not None:
            stmt = stmt.where(Resource.code.in_(list(among)))
        return {code for code in self.session.scalars(stmt) if code is not None}

    def all_for_export(self, department_id: int | None = None) -> list[Resource]:
        stmt = self._resources().order_by(Resource.department_id, Resource.id)
        if department_id is not None:
            stmt = stmt.where(Resource.department_id == department_id)
        return list(self.session.scalars(stmt))

    def add(self, resource: Resource) -> None:
        self.session.add(resource)
        self.session.flush()

    def department(self, code: str) -> Department | None:
        return self.session.scalars(select(Department).where(Department.code == code)).one_or_none()

    def published_ids_named(self, name: str) -> list[int]:
        """Ids of the resources whose published version carries this name."""
        return list(
            self.session.scalars(
                select(Resource.id)
                .join(ResourceVersion)
                .where(ResourceVersion.name == name, ResourceVersion.state == VersionState.PUBLISHED.value)
            )
        )

    def latest_version_named(self, name: str) -> ResourceVersion | None:
        """The newest version of any resource carrying this name, whatever its state."""
        return self.session.scalars(
            select(ResourceVersion).where(ResourceVersion.name == name).order_by(ResourceVersion.id.desc())
        ).first()

    def code_sequence_for_update(self, prefix: str) -> CodeSequence | None:
        """The resource-code counter of a prefix, locked for this transaction (PostgreSQL row lock)."""
        return self.session.scalars(
            select(CodeSequence).where(CodeSequence.prefix == prefix).with_for_update()
        ).first()
