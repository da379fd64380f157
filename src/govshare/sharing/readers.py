"""Sharing readers for the demo seeder: which applications already asked for, or hold, which resources.

The seeder is idempotent: it skips pairs that already have a request or a grant. It reads them here
instead of importing `SharingRepository`, which stays private to sharing (import-linter contract
`domain_private`). No actor and no check: the seeder's own guarded action has done that.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from govshare.sharing.repository import SharingRepository


def requested_and_granted_pairs(
    session: Session, application_ids: list[int]
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(application id, resource id) pairs that already have a request, and those that have a grant."""
    return SharingRepository(session).requested_and_granted_pairs(application_ids)
