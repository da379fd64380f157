"""The unit of work: the one way an edge (an HTTP request, a CLI command, a job) opens, commits and rolls
back the node's database work.

    with UnitOfWork(db) as uow:                     # read-write: commit on success, roll back on error
        service.do(uow.session, actor, ...)

    with UnitOfWork(db, readonly=True) as uow:      # a read phase, then the writes it deferred
        service.read(uow.session, actor, ...)        # (audit records, usage) in one short write transaction

Services receive only the session, flush, and never commit. Two things they may ask of the unit of work
their session belongs to (`unit_of(session)`), instead of peeking at `session.info` or handing the edge a
closure on the error they raise:

- `defer(write)`: a write the read phase needs done (a data call's audit record and usage). In a read-write
  unit it runs at once in the same transaction; in a read-only unit it runs after the read transaction has
  ended, in one short write transaction committed before the edge answers (no data leaves without its
  record). On SQLite readers never queue for the write lock this way.
- `after_rollback(work)`: the trace a refused action must leave although the action itself is rolled back
  (a failed password attempt, a refused data call counted in the day's usage, a refused checkpoint). It runs
  after the rollback, in a transaction of its own, for whatever error ended the unit.

A refusal (`PermissionDenied`) is rolled back and then recorded by the edge's `on_refusal` (the audit
entry: who was refused what), in that same after-rollback transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from govshare.errors import PermissionDenied

if TYPE_CHECKING:
    from govshare.core.db import Database

Work = Callable[[Session], object]
OnRefusal = Callable[[Session, PermissionDenied], object]

_UNIT = "govshare.unit_of_work"


class UnitOfWork:
    def __init__(self, db: Database, *, readonly: bool = False, on_refusal: OnRefusal | None = None) -> None:
        self.db = db
        self.readonly = readonly
        self.on_refusal = on_refusal
        self._deferred: list[Work] = []
        self._after_rollback: list[Work] = []
        self.session = db.session(readonly=readonly)
        self.session.info[_UNIT] = self

    def defer(self, write: Work) -> None:
        """Run `write` in this unit's transaction now, or (read-only unit) in the short write transaction
        that follows the read phase."""
        if self.readonly:
            self._deferred.append(write)
        else:
            write(self.session)

    def after_rollback(self, work: Work) -> None:
        """Run `work` after this unit is rolled back by an error, in a transaction of its own."""
        self._after_rollback.append(work)

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc is None:
                self._complete()
            else:
                self._fail(exc)
        finally:
            self.session.close()

    def _complete(self) -> None:
        if not self.readonly:
            self.session.commit()
            return
        # End the read transaction and give its connection back before taking a writer's: a request holding
        # both while the pool is exhausted would wait on requests that wait on it.
        self.session.close()
        if self._deferred:
            with self.db.short_write() as writer:
                for write in self._deferred:
                    write(writer)

    def _fail(self, exc: BaseException) -> None:
        self.session.rollback()
        refusal = exc if isinstance(exc, PermissionDenied) and self.on_refusal is not None else None
        if refusal is None and not self._after_rollback:
            return
        if self.readonly:
            self.session.close()
            with self.db.short_write() as writer:
                self._leave_trace(writer, refusal)
            return
        self._leave_trace(self.session, refusal)
        self.session.commit()

    def _leave_trace(self, session: Session, refusal: PermissionDenied | None) -> None:
        if refusal is not None and self.on_refusal is not None:
            self.on_refusal(session, refusal)
        for work in self._after_rollback:
            work(session)


def unit_of(session: Session) -> UnitOfWork:
    """The unit of work `session` belongs to. Every session the node hands to a service comes from one; a
    bare session is a programming error, said loudly rather than losing a deferred audit record."""
    unit = session.info.get(_UNIT)
    if not isinstance(unit, UnitOfWork):
        raise RuntimeError("this session was not opened by a UnitOfWork (core/uow.py)")
    return unit
