"""Changing one's own password, and the security admin's reset to a one-time password."""

from __future__ import annotations

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import action, public_action
from govshare.auth.permissions import Permission
from govshare.core import security
from govshare.core.clock import utcnow
from govshare.core.uow import unit_of
from govshare.errors import DenialContext, InvalidInput, NotFound, PermissionDenied
from govshare.identity import policies
from govshare.identity.passwords import one_time_password
from govshare.identity.repository import LoginDelayRepository, UserRepository, WebSessionRepository
from govshare.identity.service import check_password
from govshare.models import User


def _self(session: Session, actor: Actor) -> User:
    user = UserRepository(session).by_id(int(actor.id)) if actor.kind == "user" and actor.id else None
    if user is None:
        raise PermissionDenied(
            "只有登录的用户才能修改自己的口令",
            context=DenialContext(action="identity.change_password", permission="user"),
        )
    return user


@public_action("every logged-in user changes their own password, proven by the current one")
def change_password(
    session: Session, actor: Actor, current: str, new: str, *, keep_session: str | None = None
) -> User:
    """Replace the actor's password. Ends every other session of the user (`keep_session`: the digest of
    the session making the change, kept) and clears `must_change_password`."""
    user = _self(session, actor)
    if not security.verify_password(user.password_hash, current):
        refused = InvalidInput.on("current_password", "当前口令不正确")
        username = user.username

        def record_failure(fresh: Session) -> None:  # the action is rolled back; its trace is not
            audit.record(
                fresh,
                actor,
                "identity.password.change",
                target_type="user",
                target_id=username,
                outcome=audit.FAILURE,
                detail={"reason": "bad_current_password"},
            )

        unit_of(session).after_rollback(record_failure)
        raise refused
    if new == current:
        raise InvalidInput.on("new_password", "新口令不能与当前口令相同")
    check_password(session, new, [user.username, user.display_name], field="new_password")
    user.password_hash = security.hash_password(new)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    ended = WebSessionRepository(session).delete_for_user(user.id, keep_digest=keep_session)
    session.flush()
    audit.record(
        session,
        actor,
        "identity.password.change",
        target_type="user",
        target_id=user.username,
        detail={"other_sessions_ended": ended},
    )
    return user


@action(Permission.USER_RESET_PASSWORD)
def reset_password(session: Session, actor: Actor, username: str, password: str | None = None) -> str:
    """Give `username` a new password, returned once: random unless the console sets one (`password`).
    The holder must change it at the next login; their sessions and login waits end. An officer's
    (三员) password is reset only at the console: a security admin who could reset it could log in as the
    platform admin or the auditor."""
    user = UserRepository(session).by_username(username)
    if user is None:
        raise NotFound(f"用户“{username}”不存在")
    context = DenialContext(
        action="identity.reset_password",
        permission=Permission.USER_RESET_PASSWORD,
        target_type="user",
        target_id=username,
    )
    if actor.kind != "system":
        if password is not None:
            raise PermissionDenied("重置口令只能生成一次性口令，不能指定", context=context)
        if actor.id == str(user.id):
            raise PermissionDenied("不能重置自己的口令，请用“修改口令”", context=context)
        if policies.officer_roles(user):
            raise PermissionDenied(
                "三员账号的口令只能在节点控制台重置（govshare user passwd）", context=context
            )
    if password is None:
        password = one_time_password()
    else:
        check_password(session, password, [user.username, user.display_name])
    user.password_hash = security.hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = True
    user.locked_until, user.failed_logins = None, 0
    WebSessionRepository(session).delete_for_user(user.id)
    LoginDelayRepository(session).delete(user.id)
    session.flush()
    audit.record(session, actor, "identity.password.reset", target_type="user", target_id=username)
    return password
