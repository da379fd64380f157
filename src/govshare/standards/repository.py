from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session, selectinload

from govshare.models import Code, CodeSet, CodeSetVersion, DataElement


def in_force(at: date) -> Any:
    """Codes in force on `at` (valid_to is exclusive)."""
    return (
        or_(Code.valid_from.is_(None), Code.valid_from <= at),
        or_(Code.valid_to.is_(None), Code.valid_to > at),
    )


class StandardsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- code sets ---

    def code_sets(self) -> list[CodeSet]:
        return list(
            self.session.scalars(
                select(CodeSet).options(selectinload(CodeSet.versions)).order_by(CodeSet.code)
            )
        )

    def code_set(self, code: str) -> CodeSet | None:
        return self.session.scalars(
            select(CodeSet).where(CodeSet.code == code).options(selectinload(CodeSet.versions))
        ).one_or_none()

    def add_code_set(self, code_set: CodeSet) -> None:
        self.session.add(code_set)
        self.session.flush()

    def add_version(self, version: CodeSetVersion, codes: Sequence[dict[str, Any]]) -> None:
        self.session.add(version)
        self.session.flush()
        if codes:
            # Core executemany: a code set version can have thousands of rows.
            self.session.execute(insert(Code), [{**row, "version_id": version.id} for row in codes])

    def codes(
        self,
        version_id: int,
        *,
        at: date | None = None,
        query: str | None = None,
        after: int = 0,
        limit: int | None = None,
    ) -> list[Code]:
        stmt = select(Code).where(Code.version_id == version_id, Code.position > after)
        if at is not None:
            stmt = stmt.where(*in_force(at))
        if query:
            pattern = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(
                or_(Code.code.like(f"{pattern}%", escape="\\"), Code.label.like(f"%{pattern}%", escape="\\"))
            )
        stmt = stmt.order_by(Code.position)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt))

    def codes_matching(self, version_id: int, value: str) -> list[Code]:
        return list(
            self.session.scalars(
                select(Code)
                .where(Code.version_id == version_id, or_(Code.code == value, Code.label == value))
                .order_by(Code.position)
            )
        )

    # --- data elements ---

    def elements(self, query: str | None = None) -> list[DataElement]:
        stmt = (
            select(DataElement).options(selectinload(DataElement.code_set)).order_by(DataElement.identifier)
        )
        if query:
            pattern = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(
                or_(
                    DataElement.identifier.like(f"{pattern}%", escape="\\"),
                    DataElement.name.like(f"%{pattern}%", escape="\\"),
                )
            )
        return list(self.session.scalars(stmt))

    def element(self, identifier: str) -> DataElement | None:
        return self.session.scalars(
            select(DataElement)
            .where(DataElement.identifier == identifier)
            .options(selectinload(DataElement.code_set))
        ).one_or_none()

    def existing_identifiers(self, identifiers: Sequence[str]) -> set[str]:
        if not identifiers:
            return set()
        return set(
            self.session.scalars(
                select(DataElement.identifier).where(DataElement.identifier.in_(identifiers))
            )
        )

    def add_element(self, element: DataElement) -> None:
        self.session.add(element)
        self.session.flush()
