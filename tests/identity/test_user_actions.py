"""What a caller may do to an account (`identity.policies.user_actions`): the rules the portal's user page
shows its buttons by, and the `allowed_actions` / `grantable_roles` of `GET /api/v1/users/{username}`."""

from __future__ import annotations

from fastapi.testclient import TestClient

from govshare.auth.permissions import PRIVILEGED_ROLES, Role
from govshare.core.db import Database
from govshare.identity import policies
from govshare.identity import service as identity
from govshare.identity.repository import UserRepository
from tests import factories


def user_detail(client: TestClient, caller: str, username: str) -> dict[str, object]:
    factories.login(client, caller)
    answer = client.get(f"/api/v1/users/{username}")
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_the_security_admin_grants_any_role_unlocks_and_resets_but_does_not_disable(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    body = user_detail(client, "security", "ga.steward")
    assert body["allowed_actions"] == ["grant_role", "revoke_role", "unlock", "reset_password"]
    # officer roles are granted by a confirmed proposal only, never directly
    excluded = {Role.PLATFORM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR, Role.DATA_STEWARD}  # + held
    assert body["grantable_roles"] == [r.value for r in Role if r not in excluded]


def test_a_department_admin_manages_their_departments_users_with_ordinary_roles_only(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    body = user_detail(client, "ga.admin", "ga.steward")
    assert body["allowed_actions"] == ["grant_role", "revoke_role", "disable"]
    granted = set(body["grantable_roles"])  # type: ignore[arg-type]
    assert granted and not granted & {r.value for r in PRIVILEGED_ROLES}
    assert Role.DATA_STEWARD.value not in granted  # already held: revoked, not granted


def test_nobody_changes_their_own_roles_or_disables_themselves(client: TestClient, db: Database) -> None:
    factories.city(db)
    body = user_detail(client, "ga.admin", "ga.admin")
    assert body["allowed_actions"] == []
    assert body["grantable_roles"] == []


def test_an_officer_account_is_changed_by_proposal_and_its_password_only_at_the_console(
    client: TestClient, db: Database
) -> None:
    factories.city(db)
    assert user_detail(client, "admin", "auditor")["allowed_actions"] == ["propose_officer_change"]
    security_sees = user_detail(client, "security", "auditor")
    assert security_sees["allowed_actions"] == ["unlock", "propose_officer_change"]
    assert security_sees["grantable_roles"] == []
    # a disabled ordinary account is offered for enabling, not disabling
    headers = factories.login(client, "admin")
    assert client.post("/api/v1/users/ga.steward/disable", headers=headers).status_code in (200, 204)
    assert user_detail(client, "admin", "ga.steward")["allowed_actions"][-1:] == ["enable"]  # type: ignore[index]


def test_possible_parents_exclude_the_department_and_its_sub_departments(db: Database) -> None:
    factories.city(db)
    factories.department(db, "GA1", "测试市公安局一分局", parent="GA")
    factories.department(db, "GA11", "一分局下属所", parent="GA1")
    with db.transaction(readonly=True) as session:
        departments = identity.list_departments(session, factories.SYSTEM)
        ga = next(d for d in departments if d.code == "GA")
        parents = {d.code for d in policies.possible_parents(departments, ga)}
    assert parents == {"DSJ", "MZ"}


def test_user_actions_is_a_pure_rule_over_the_loaded_account(db: Database) -> None:
    factories.city(db)
    with db.transaction(readonly=True) as session:
        steward = identity.get_user(session, factories.SYSTEM, "ga.steward")
        admin_user = UserRepository(session).by_username("admin")
        assert admin_user is not None
        platform_admin = identity.actor_for_user(admin_user)
        may = policies.user_actions(platform_admin, steward)
    assert may.may_toggle and not may.may_unlock and not may.may_reset_password and not may.is_officer
    assert may.removable == [Role.DATA_STEWARD]
