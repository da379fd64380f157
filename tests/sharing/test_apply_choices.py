"""The applications a person may file a sharing application for (`service.applications_to_apply_for`,
offered by the portal's application form): active ones of their own department, or every active one for a
node-wide applicant; none to choose from for a 使用人员, who types the code. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from govshare.auth.actor import Actor
from govshare.auth.permissions import Role
from govshare.core.db import Database
from govshare.identity import service as identity
from govshare.identity.repository import UserRepository
from govshare.models import Application
from govshare.sharing import service
from tests import factories


def _actor(db: Database, username: str) -> Actor:
    with db.transaction(readonly=True) as session:
        user = UserRepository(session).by_username(username)
        assert user is not None
        return identity.actor_for_user(user)


def test_applications_to_apply_for(db: Database) -> None:
    factories.city(db)
    factories.user(db, "mz.user", "MZ", Role.DATA_USER)
    for code, department in (("mz-dbsh", "MZ"), ("mz-old", "MZ"), ("ga-rkgl", "GA")):
        factories.application_key(db, code, department)
    with db.transaction() as session:
        retired = session.scalars(select(Application).where(Application.code == "mz-old")).one()
        retired.is_active = False

    mz_admin, mz_user = _actor(db, "mz.admin"), _actor(db, "mz.user")
    with db.transaction(readonly=True) as session:
        own = service.applications_to_apply_for(session, mz_admin)
        assert own is not None
        assert [a.code for a in own] == ["mz-dbsh"]  # not 公安's, not the retired one
        assert service.applications_to_apply_for(session, mz_user) is None
        everyone = service.applications_to_apply_for(session, Actor.system("test:console"))
        assert everyone is not None
        assert sorted(a.code for a in everyone) == ["ga-rkgl", "mz-dbsh"]
