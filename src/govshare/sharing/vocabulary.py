"""Sharing's controlled values, each with its Chinese label."""

from __future__ import annotations

from typing import Literal

from govshare.catalog.vocabulary import Labelled, register_labels


class PurposeKind(Labelled):
    """使用用途 (国发〔2016〕51号)."""

    ADMINISTRATIVE_BASIS = "administrative_basis"
    WORK_REFERENCE = "work_reference"
    DATA_CHECK = "data_check"
    BUSINESS_COLLABORATION = "business_collaboration"
    OTHER = "other"


class RequestKind(Labelled):
    APPLY = "apply"
    NEGOTIATE = "negotiate"


class RequestState(Labelled):
    PREREVIEW = "prereview"  # 待符合性审查 (主管部门), when the jurisdiction has that step
    PENDING = "pending"  # 待提供部门审批
    APPROVED = "approved"  # 同意
    PARTIAL = "partial"  # 部分同意: fewer items or fewer rows than asked
    REFUSED = "refused"  # 不同意, with its reason
    PREREVIEW_REJECTED = "prereview_rejected"  # 符合性审查未通过
    WITHDRAWN = "withdrawn"  # 申请方撤回
    NEGOTIATING = "negotiating"  # 协商中 (after a refusal, or about a 不予共享 resource)
    ESCALATED = "escalated"  # 已提请主管部门协调
    SETTLED = "settled"  # 主管部门已协调办结


# The states whose working-day clock runs (a deadline is counted down and escalated when missed).
CLOCKED_STATES = frozenset({RequestState.PREREVIEW, RequestState.PENDING, RequestState.NEGOTIATING})

# The steps a reader may take on an application (`workflow.allowed_actions`); each is one API call on
# /api/v1/sharing/requests/{number}: approve and refuse are `…/decision`, the others their own path.
RequestAction = Literal[
    "approve", "refuse", "answer", "withdraw", "dispute", "escalate", "prereview", "settle"
]

# What a reader may do with a grant (`workflow.grant_actions`): revoke is
# POST /api/v1/sharing/grants/{id}/revoke.
GrantAction = Literal["revoke"]


class GrantKind(Labelled):
    SUBSCRIPTION = "subscription"  # 无条件 items, at once
    APPROVAL = "approval"  # compiled from an approved application


class GrantState(Labelled):
    ACTIVE = "active"
    NOT_YET = "not_yet"
    EXPIRED = "expired"
    REVOKED = "revoked"


register_labels(
    (PurposeKind.ADMINISTRATIVE_BASIS, "行政依据"),
    (PurposeKind.WORK_REFERENCE, "工作参考"),
    (PurposeKind.DATA_CHECK, "数据校核"),
    (PurposeKind.BUSINESS_COLLABORATION, "业务协同"),
    (PurposeKind.OTHER, "其他"),
    (RequestKind.APPLY, "共享申请"),
    (RequestKind.NEGOTIATE, "协商申请"),
    (RequestState.PREREVIEW, "待符合性审查"),
    (RequestState.PENDING, "待审批"),
    (RequestState.APPROVED, "已同意"),
    (RequestState.PARTIAL, "部分同意"),
    (RequestState.REFUSED, "不同意"),
    (RequestState.PREREVIEW_REJECTED, "审查未通过"),
    (RequestState.WITHDRAWN, "已撤回"),
    (RequestState.NEGOTIATING, "协商中"),
    (RequestState.ESCALATED, "已提请主管部门协调"),
    (RequestState.SETTLED, "协调办结"),
    (GrantKind.SUBSCRIPTION, "无条件订阅"),
    (GrantKind.APPROVAL, "审批授权"),
    (GrantState.ACTIVE, "有效"),
    (GrantState.NOT_YET, "未生效"),
    (GrantState.EXPIRED, "已过期"),
    (GrantState.REVOKED, "已撤销"),
)
