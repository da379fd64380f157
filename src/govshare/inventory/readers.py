"""Inventory readers for other domains: an information system by its code.

The demo seeder checks which systems exist before creating them; it reads here instead of importing
`InfoSystemRepository`, which stays private to inventory (import-linter contract `domain_private`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from govshare.inventory.repository import InfoSystemRepository
from govshare.models import InfoSystem


def system_by_code(session: Session, code: str) -> InfoSystem | None:
    return InfoSystemRepository(session).by_code(code)
