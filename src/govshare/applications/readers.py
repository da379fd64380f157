"""Application readers for other domains: an application by its code.

Sharing resolves the applying system of a request, and the demo seeder checks what exists, while
running their own action; they read it here instead of importing `ApplicationRepository`, which stays
private to applications (import-linter contract `domain_private`). No actor and no check.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from govshare.applications.repository import ApplicationRepository
from govshare.models import Application


def application_by_code(session: Session, code: str) -> Application | None:
    return ApplicationRepository(session).by_code(code)


def applications_by_codes(session: Session, codes: list[str]) -> list[Application]:
    return ApplicationRepository(session).by_codes(codes)
