"""Identity readers for other domains and the edges: departments and users by their natural keys.

Applications, inventory, collection, the CLI and the demo seeder resolve a department code or a login
name while running their own action; they read it here instead of importing the identity repositories,
which stay private to identity (import-linter contract `domain_private`). No actor and no check: the
caller has done that.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from govshare.identity.repository import DepartmentRepository, UserRepository
from govshare.models import Department, User


def department_by_code(session: Session, code: str) -> Department | None:
    return DepartmentRepository(session).by_code(code)


def all_departments(session: Session) -> list[Department]:
    return DepartmentRepository(session).all()


def user_by_username(session: Session, username: str) -> User | None:
    return UserRepository(session).by_username(username)


def holders_of_role(session: Session, role: str) -> int:
    """How many users hold the role (active or not)."""
    return UserRepository(session).holders_of(role)
