from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from govshare.auth.scope import RowScope, restrict
from govshare.models import ApiKey, Application


class ApplicationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_code(self, code: str) -> Application | None:
        return self.session.scalars(
            select(Application).where(Application.code == code).options(selectinload(Application.department))
        ).one_or_none()

    def by_codes(self, codes: list[str]) -> list[Application]:
        return list(self.session.scalars(select(Application).where(Application.code.in_(codes))))

    def list(self, scope: RowScope) -> list[Application]:
        stmt = select(Application).options(selectinload(Application.department)).order_by(Application.code)
        return list(self.session.scalars(restrict(stmt, scope, Application.department_id)))

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Application)) or 0

    def add(self, application: Application) -> None:
        self.session.add(application)
        self.session.flush()


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_prefix(self, prefix: str) -> ApiKey | None:
        return self.session.scalars(
            select(ApiKey)
            .where(ApiKey.prefix == prefix)
            .options(joinedload(ApiKey.application).joinedload(Application.department))  # one query per call
        ).one_or_none()

    def for_application(self, application_id: int) -> list[ApiKey]:
        return list(
            self.session.scalars(
                select(ApiKey).where(ApiKey.application_id == application_id).order_by(ApiKey.created_at)
            )
        )

    def add(self, key: ApiKey) -> None:
        self.session.add(key)
        self.session.flush()

    def mark_used(self, prefix: str, when: datetime) -> None:
        """One UPDATE, no load: the data API's hot path records the key's use."""
        self.session.execute(update(ApiKey).where(ApiKey.prefix == prefix).values(last_used_at=when))
