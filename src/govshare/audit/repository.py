from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from govshare.audit.chain import GENESIS_HASH
from govshare.audit.schemas import AuditFilter
from govshare.models import AuditEntry, AuditHead

HEAD_ID = 1


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_head(self) -> AuditHead:
        """The chain head, locked for this transaction (PostgreSQL: row lock; SQLite writers already hold
        the database write lock, see core.db)."""
        head = self.session.scalars(
            select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
        ).one_or_none()
        if head is None:
            head = AuditHead(id=HEAD_ID, seq=0, entry_hash=GENESIS_HASH)
            self.session.add(head)
            self.session.flush()
        return head

    def head(self) -> AuditHead | None:
        return self.session.get(AuditHead, HEAD_ID)

    def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    def get(self, seq: int) -> AuditEntry | None:
        return self.session.get(AuditEntry, seq)

    def iterate(self, chunk: int = 5000, *, after: int = -1) -> Iterator[AuditEntry]:
        """The entries after `after` in chain order, read in keyset pages so memory stays bounded."""
        while True:
            page = self.session.scalars(
                select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(chunk)
            ).all()
            if not page:
                return
            yield from page
            after = page[-1].seq
            self.session.expunge_all()

    def first_with_prev_hash(self, prev_hash: str, after_seq: int) -> int | None:
        return self.session.scalar(
            select(func.min(AuditEntry.seq)).where(
                AuditEntry.prev_hash == prev_hash, AuditEntry.seq > after_seq
            )
        )

    def page(self, flt: AuditFilter, *, before_seq: int | None, limit: int) -> list[AuditEntry]:
        """Newest first, keyset-paginated by seq."""
        stmt: Select[tuple[AuditEntry]] = select(AuditEntry)
        if flt.action:
            stmt = stmt.where(AuditEntry.action == flt.action)
        if flt.actor_name:
            stmt = stmt.where(AuditEntry.actor_name == flt.actor_name)
        if flt.target_id:
            stmt = stmt.where(AuditEntry.target_id == flt.target_id)
        if flt.outcome:
            stmt = stmt.where(AuditEntry.outcome == flt.outcome)
        if flt.department_code:
            stmt = stmt.where(AuditEntry.department_code == flt.department_code)
        if flt.action_prefix:
            stmt = stmt.where(AuditEntry.action.startswith(flt.action_prefix, autoescape=True))
        if flt.since:
            stmt = stmt.where(AuditEntry.occurred_at >= flt.since)
        if flt.until:
            stmt = stmt.where(AuditEntry.occurred_at < flt.until)
        if before_seq is not None:
            stmt = stmt.where(AuditEntry.seq < before_seq)
        return list(self.session.scalars(stmt.order_by(AuditEntry.seq.desc()).limit(limit)))
