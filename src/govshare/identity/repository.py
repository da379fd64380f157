from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Select, delete, func, select
from sqlalchemy.orm import Session, selectinload

from govshare.auth.scope import RowScope, restrict
from govshare.models import Department, LoginDelay, OfficerProposal, User, UserRole, WebSession


class DepartmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_code(self, code: str) -> Department | None:
        return self.session.scalars(select(Department).where(Department.code == code)).one_or_none()

    def by_id(self, department_id: int) -> Department | None:
        return self.session.get(Department, department_id)

    def by_name(self, name: str) -> Department | None:
        return self.session.scalars(select(Department).where(Department.name == name)).one_or_none()

    def all(self) -> list[Department]:
        return list(self.session.scalars(select(Department).order_by(Department.code)))

    def codes_by_id(self) -> dict[int, str]:
        return {row.id: row.code for row in self.session.execute(select(Department.id, Department.code))}

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Department)) or 0

    def add(self, department: Department) -> None:
        self.session.add(department)
        self.session.flush()


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _with_roles(self) -> Select[User]:
        return select(User).options(selectinload(User.roles), selectinload(User.department))

    def by_username(self, username: str) -> User | None:
        return self.session.scalars(self._with_roles().where(User.username == username)).one_or_none()

    def by_id(self, user_id: int) -> User | None:
        return self.session.scalars(self._with_roles().where(User.id == user_id)).one_or_none()

    def list(self, scope: RowScope) -> list[User]:
        return list(
            self.session.scalars(
                restrict(self._with_roles().order_by(User.username), scope, User.department_id)
            )
        )

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(User)) or 0

    def holders_of(self, role: str) -> int:
        return (
            self.session.scalar(select(func.count()).select_from(UserRole).where(UserRole.role == role)) or 0
        )

    def active_holders_of(self, role: str) -> int:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(UserRole)
                .join(User, User.id == UserRole.user_id)
                .where(UserRole.role == role, User.is_active.is_(True))
            )
            or 0
        )

    def add(self, user: User) -> None:
        self.session.add(user)
        self.session.flush()


class LoginDelayRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int, client_addr: str) -> LoginDelay | None:
        return self.session.scalars(
            select(LoginDelay).where(LoginDelay.user_id == user_id, LoginDelay.client_addr == client_addr)
        ).one_or_none()

    def add(self, delay: LoginDelay) -> None:
        self.session.add(delay)
        self.session.flush()

    def latest_block(self, user_id: int) -> datetime | None:
        return self.session.scalar(
            select(func.max(LoginDelay.blocked_until)).where(LoginDelay.user_id == user_id)
        )

    def delete(self, user_id: int, client_addr: str | None = None) -> int:
        stmt = delete(LoginDelay).where(LoginDelay.user_id == user_id)
        if client_addr is not None:
            stmt = stmt.where(LoginDelay.client_addr == client_addr)
        result: CursorResult[Any] = self.session.execute(stmt)  # type: ignore[assignment]
        return result.rowcount or 0


class OfficerProposalRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _query(self) -> Select[OfficerProposal]:
        return select(OfficerProposal).options(
            selectinload(OfficerProposal.target).selectinload(User.roles),
            selectinload(OfficerProposal.target).selectinload(User.department),
        )

    def by_id(self, proposal_id: int) -> OfficerProposal | None:
        return self.session.scalars(self._query().where(OfficerProposal.id == proposal_id)).one_or_none()

    def pending_like(self, kind: str, target_user_id: int, role: str | None) -> OfficerProposal | None:
        return self.session.scalars(
            self._query().where(
                OfficerProposal.kind == kind,
                OfficerProposal.target_user_id == target_user_id,
                OfficerProposal.role.is_(None) if role is None else OfficerProposal.role == role,
                OfficerProposal.status == "pending",
            )
        ).first()

    def list(self, status: str | None = None, limit: int = 200) -> list[OfficerProposal]:
        stmt = self._query().order_by(OfficerProposal.id.desc()).limit(limit)
        if status is not None:
            stmt = stmt.where(OfficerProposal.status == status)
        return list(self.session.scalars(stmt))

    def add(self, proposal: OfficerProposal) -> None:
        self.session.add(proposal)
        self.session.flush()


class WebSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, web_session: WebSession) -> None:
        self.session.add(web_session)
        self.session.flush()

    def by_digest(self, digest: str) -> WebSession | None:
        return self.session.scalars(
            select(WebSession)
            .where(WebSession.token_digest == digest)
            .options(
                selectinload(WebSession.user).selectinload(User.roles),
                selectinload(WebSession.user).selectinload(User.department),
            )
        ).one_or_none()

    def delete_by_digest(self, digest: str) -> int:
        result: CursorResult[Any] = self.session.execute(
            delete(WebSession).where(WebSession.token_digest == digest)
        )  # type: ignore[assignment]
        return result.rowcount or 0

    def delete_for_user(self, user_id: int, *, keep_digest: str | None = None) -> int:
        stmt = delete(WebSession).where(WebSession.user_id == user_id)
        if keep_digest is not None:
            stmt = stmt.where(WebSession.token_digest != keep_digest)
        result: CursorResult[Any] = self.session.execute(stmt)  # type: ignore[assignment]
        return result.rowcount or 0

    def delete_expired(self, now: datetime) -> int:
        result: CursorResult[Any] = self.session.execute(
            delete(WebSession).where(WebSession.expires_at <= now)
        )  # type: ignore[assignment]
        return result.rowcount or 0
