"""Two-person rule for the security officers' (三员) accounts.

Granting or revoking an officer role, and enabling or disabling an officer's account, is never done by one
person: a platform admin or a security admin proposes it, and an officer holding the *other* of those two
roles confirms it. The proposer cannot confirm, the target cannot confirm, and the auditor neither
proposes nor confirms (the auditor changes nothing). Every step is audited. The console
(`Actor.system()`) acts directly instead (docs/architecture.md, 三员分立).
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import SECURITY_OFFICER_ROLES, Permission, Role
from govshare.core.clock import utcnow
from govshare.errors import Conflict, DenialContext, InvalidInput, NotFound, PermissionDenied
from govshare.identity import policies
from govshare.identity import service as identity
from govshare.identity.repository import OfficerProposalRepository, UserRepository
from govshare.models import OfficerProposal, User

ProposalKind = Literal["grant_role", "revoke_role", "disable", "enable"]
KIND_LABELS: dict[str, str] = {
    "grant_role": "授予三员角色",
    "revoke_role": "收回三员角色",
    "disable": "停用三员账号",
    "enable": "启用三员账号",
}
DECIDERS = frozenset({Role.PLATFORM_ADMIN, Role.SECURITY_ADMIN})  # who proposes and confirms


def _deciding_role(actor: Actor, action_name: str, target: str) -> Role:
    held = actor.roles & DECIDERS
    if actor.kind != "user" or len(held) != 1:
        raise PermissionDenied(
            "三员变更只能由平台管理员或安全管理员提议和确认",
            context=DenialContext(
                action=action_name, permission="officer", target_type="user", target_id=target
            ),
        )
    return next(iter(held))


def _check_applicable(session: Session, kind: str, user: User, role: Role | None) -> None:
    """The change still makes sense (at proposal and again at confirmation)."""
    current = {Role(r.role) for r in user.roles}
    if kind == "grant_role":
        assert role is not None
        if role in current:
            raise Conflict(f"“{user.username}”已担任{role.label}")
        policies.ensure_separation(current, role)
        if not user.is_active:
            raise Conflict(f"“{user.username}”已停用，不能授予三员角色")
    elif kind == "revoke_role":
        assert role is not None
        if role not in current:
            raise Conflict(f"“{user.username}”未担任{role.label}")
        if user.is_active and UserRepository(session).active_holders_of(role.value) <= 1:
            raise Conflict(f"“{role.label}”至少要保留一名在用的账号，不能收回最后一名的角色")
    else:
        if not policies.officer_roles(user):
            raise InvalidInput.on("username", f"“{user.username}”不是三员账号，直接停用或启用即可")
        if kind == "enable" and user.is_active:
            raise Conflict(f"“{user.username}”已是启用状态")
        if kind == "disable":
            if not user.is_active:
                raise Conflict(f"“{user.username}”已是停用状态")
            for held in sorted(policies.officer_roles(user)):
                if UserRepository(session).active_holders_of(held.value) <= 1:
                    raise Conflict(f"“{held.label}”至少要保留一名在用的账号，不能停用最后一名")


@action(Permission.ROLE_ASSIGN, Permission.USER_MANAGE)
def propose(
    session: Session,
    actor: Actor,
    username: str,
    kind: ProposalKind,
    role: Role | None = None,
    reason: str = "",
) -> OfficerProposal:
    proposer_role = _deciding_role(actor, "identity.officer.propose", username)
    user = UserRepository(session).by_username(username)
    if user is None:
        raise NotFound(f"用户“{username}”不存在")
    if actor.id == str(user.id):
        raise PermissionDenied(
            "不能对自己的账号提议三员变更",
            context=DenialContext(
                action="identity.officer.propose",
                permission="officer",
                target_type="user",
                target_id=username,
            ),
        )
    if kind in ("grant_role", "revoke_role"):
        if role is None or role not in SECURITY_OFFICER_ROLES:
            raise InvalidInput.on("role", "请选择三员角色：平台管理员、安全管理员或审计员")
    else:
        role = None
    _check_applicable(session, kind, user, role)
    repo = OfficerProposalRepository(session)
    if repo.pending_like(kind, user.id, role.value if role else None) is not None:
        raise Conflict("已有相同的待确认提议")
    proposal = OfficerProposal(
        kind=kind,
        target_user_id=user.id,
        role=role.value if role else None,
        status="pending",
        proposed_by=actor.name,
        proposer_role=proposer_role.value,
        reason=reason,
        created_at=utcnow(),
    )
    proposal.target = user
    repo.add(proposal)
    audit.record(
        session,
        actor,
        "identity.officer.propose",
        target_type="user",
        target_id=username,
        detail={
            "proposal": proposal.id,
            "kind": kind,
            "role": role.value if role else None,
            "reason": reason,
        },
    )
    return proposal


def _pending(session: Session, proposal_id: int) -> OfficerProposal:
    proposal = OfficerProposalRepository(session).by_id(proposal_id)
    if proposal is None:
        raise NotFound(f"三员变更提议 {proposal_id} 不存在")
    if proposal.status != "pending":
        raise Conflict(f"三员变更提议 {proposal_id} 已处理（{proposal.status}）")
    return proposal


@action(Permission.ROLE_ASSIGN, Permission.USER_MANAGE)
def confirm(session: Session, actor: Actor, proposal_id: int) -> OfficerProposal:
    proposal = _pending(session, proposal_id)
    user = proposal.target
    confirmer_role = _deciding_role(actor, "identity.officer.confirm", user.username)
    context = DenialContext(
        action="identity.officer.confirm", permission="officer", target_type="user", target_id=user.username
    )
    if actor.name == proposal.proposed_by:
        raise PermissionDenied("提议人不能确认自己的提议", context=context)
    if actor.id == str(user.id):
        raise PermissionDenied("不能确认与自己账号有关的提议", context=context)
    if confirmer_role.value == proposal.proposer_role:
        raise PermissionDenied(
            f"须由另一角色的三员确认（提议人是{Role(proposal.proposer_role).label}）", context=context
        )
    role = Role(proposal.role) if proposal.role else None
    _check_applicable(session, proposal.kind, user, role)
    proposal.status, proposal.decided_by, proposal.decided_at = "confirmed", actor.name, utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "identity.officer.confirm",
        target_type="user",
        target_id=user.username,
        detail={"proposal": proposal.id, "kind": proposal.kind, "proposed_by": proposal.proposed_by},
    )
    by: dict[str, str | int] = {"proposal": proposal.id, "proposed_by": proposal.proposed_by}
    if proposal.kind == "grant_role" and role is not None:
        identity.apply_grant(session, actor, user, role, **by)
    elif proposal.kind == "revoke_role" and role is not None:
        identity.apply_revoke(session, actor, user, role, **by)
    else:
        identity.apply_active(session, actor, user, proposal.kind == "enable", **by)
    return proposal


@action(Permission.ROLE_ASSIGN, Permission.USER_MANAGE)
def reject(session: Session, actor: Actor, proposal_id: int) -> OfficerProposal:
    """The proposer withdraws, or an officer who could confirm declines."""
    proposal = _pending(session, proposal_id)
    _deciding_role(actor, "identity.officer.reject", proposal.target.username)
    if actor.id == str(proposal.target_user_id):
        raise PermissionDenied(
            "不能驳回与自己账号有关的提议",
            context=DenialContext(
                action="identity.officer.reject",
                permission="officer",
                target_type="user",
                target_id=proposal.target.username,
            ),
        )
    proposal.status, proposal.decided_by, proposal.decided_at = "rejected", actor.name, utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "identity.officer.reject",
        target_type="user",
        target_id=proposal.target.username,
        detail={"proposal": proposal.id, "kind": proposal.kind},
    )
    return proposal


@action(Permission.USER_READ)
def list_proposals(session: Session, actor: Actor, status: str | None = None) -> list[OfficerProposal]:
    if actor.kind == "user" and not actor.roles & SECURITY_OFFICER_ROLES:
        raise PermissionDenied(
            "只有三员可以查看三员变更提议",
            context=DenialContext(action="identity.officer.list", permission="officer"),
        )
    return OfficerProposalRepository(session).list(status)
