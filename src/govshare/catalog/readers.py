"""Catalog readers for other domains: resources by code, id or name, with their versions and items.

Collection, sharing and the demo seeder need a resource while running their own guarded action (a
batch, a request's review, seeding); they read it here instead of importing `CatalogRepository`, which
stays private to the catalog (import-linter contract `domain_private`). No actor and no check: the
caller's action has done that.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from govshare.catalog.repository import CatalogRepository
from govshare.models import Resource, ResourceVersion


def resource_by_code(session: Session, code: str) -> Resource | None:
    return CatalogRepository(session).by_code(code)


def resource_by_id(session: Session, resource_id: int) -> Resource | None:
    return CatalogRepository(session).by_id(resource_id)


def resource_by_provider_and_name(session: Session, department_code: str, name: str) -> Resource | None:
    """The resource of this provider department whose newest version carries this name."""
    repo = CatalogRepository(session)
    department = repo.department(department_code)
    return repo.by_provider_and_name(department.id, name) if department else None


def published_resources_named(session: Session, name: str) -> list[Resource]:
    """Resources whose published version carries this name (more than one means the name is ambiguous)."""
    repo = CatalogRepository(session)
    return [r for r in (repo.by_id(i) for i in repo.published_ids_named(name)) if r is not None]


def latest_version_named(session: Session, name: str) -> ResourceVersion | None:
    """The newest version of any resource carrying this name, whatever its state (to say why it is
    not usable)."""
    return CatalogRepository(session).latest_version_named(name)
