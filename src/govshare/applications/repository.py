from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from govshare.models import ApiKey, Application


class ApplicationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_code(self, code: str) -> Application | None:
        return self.session.scalars(
            select(Application).where(Application.code == code).options(selectinload(Application.department))
        ).one_or_none()

    def list(self, department_id: int | None = None) -> list[Application]:
        stmt = select(Application).options(selectinload(Application.department)).order_by(Application.code)
        if department_id is not None:
            stmt = stmt.where(Application.department_id == department_id)
        return list(self.session.scalars(stmt))

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
