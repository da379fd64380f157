"""Request and response shapes of sharing: applications, decisions, grants, usage and data-API answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from govshare.core.inputs import Input
from govshare.models import ShareGrant, ShareRequest
from govshare.sharing.vocabulary import (
    CLOCKED_STATES,
    GrantAction,
    GrantKind,
    PurposeKind,
    RequestAction,
    RequestKind,
    RequestState,
)

FieldName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
ScopeValue = Annotated[str, Field(min_length=1, max_length=200)]
RowScope = dict[FieldName, Annotated[list[ScopeValue], Field(min_length=1, max_length=1000)]]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class _In(Input):
    pass


class ApplyIn(_In):
    application: str = Field(min_length=1, max_length=64, description="申请使用数据的应用系统代码")
    resource: str = Field(min_length=1, max_length=64, description="信息资源代码")
    purpose_kind: PurposeKind = Field(
        description="使用用途：administrative_basis 行政依据 / work_reference 工作参考"
        " / data_check 数据校核 / business_collaboration 业务协同 / other 其他"
    )
    purpose: Text = Field(description="具体用途（业务事项）")
    basis: Text = Field(description="申请依据：业务依据或法律法规依据")
    items: list[FieldName] = Field(min_length=1, max_length=500, description="申请的信息项（字段名）")
    clear_items: list[FieldName] = Field(default_factory=list, max_length=500, description="需要明文的信息项")
    row_scope: RowScope = Field(
        default_factory=dict, description="记录范围：{信息项: [允许的取值]}，如某区县"
    )
    period_start: date
    period_end: date
    requests_per_day: int = Field(1000, ge=1, le=10_000_000, description="预计每日请求次数")
    rows_per_day: int = Field(10_000, ge=1, le=1_000_000_000, description="预计每日获取记录数")

    @field_validator("items", "clear_items")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class NegotiateIn(_In):
    application: str = Field(min_length=1, max_length=64)
    resource: str = Field(min_length=1, max_length=64)
    reason: Text = Field(description="协商事由：为何需要该不予共享资源")


class SubscribeIn(_In):
    application: str = Field(min_length=1, max_length=64)
    resource: str = Field(min_length=1, max_length=64)
    purpose_kind: PurposeKind
    purpose: Text
    items: list[FieldName] | None = Field(None, max_length=500, description="订阅的无条件信息项；不填为全部")


class DecisionIn(_In):
    decision: Literal["approve", "refuse"]
    reason: str = Field("", max_length=2000, description="不同意时必须说明理由；同意时可填写说明")
    items: list[FieldName] | None = Field(None, max_length=500, description="同意的信息项；不填为申请的全部")
    clear_items: list[FieldName] | None = Field(None, max_length=500, description="同意明文的信息项")
    row_scope: RowScope | None = Field(None, description="同意的记录范围；只能比申请的更窄")
    valid_to: date | None = Field(None, description="授权截止日期；不晚于申请的使用期限")
    requests_per_day: int | None = Field(None, ge=1, le=10_000_000)
    rows_per_day: int | None = Field(None, ge=1, le=1_000_000_000)
    existing_grant: Literal["merge", "replace"] | None = Field(
        None,
        description="该应用已持有此资源的授权且本次同意会收窄它时必选：merge（合并，保留原授权的范围）"
        "或 replace（取代，原授权撤销并记录）",
    )


class PrereviewIn(_In):
    passed: bool
    comment: str = Field("", max_length=2000, description="审查意见；不通过时必填")


class ReasonIn(_In):
    reason: Text


class SettleIn(_In):
    outcome: Literal["reopen", "close"] = Field(description="reopen：责成提供部门重新审批；close：协调办结")
    comment: Text


class RequestOut(BaseModel):
    number: str
    kind: RequestKind
    kind_label: str
    state: RequestState
    state_label: str
    resource_code: str | None
    application: str
    provider_department_id: int
    consumer_department_id: int
    purpose_kind: PurposeKind
    purpose_kind_label: str
    purpose: str
    basis: str
    items: list[str]
    clear_items: list[str]
    row_scope: dict[str, list[str]]
    period_start: date
    period_end: date
    requests_per_day: int
    rows_per_day: int
    requested_by: str
    submitted_at: datetime
    due_at: datetime | None
    provisional_calendar: bool
    overdue: bool
    reminded_at: datetime | None
    escalated_at: datetime | None
    prereview_by: str | None
    prereview_comment: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    approved_items: list[str] | None
    approved_clear_items: list[str] | None
    approved_row_scope: dict[str, list[str]] | None
    provider_working_days: int | None
    negotiation_reason: str | None
    negotiation_outcome: str | None
    grant_id: int | None = None
    grant_ended: str | None = Field(None, description="授权已撤销或被取代时的原因")
    working_days_left: int | None = Field(
        None,
        description="距办理时限还剩的工作日（按本地法定节假日与调休计算）；超期为负数；"
        "不在计时状态（已办结、已撤回等）时为空",
    )
    allowed_actions: list[RequestAction] = Field(
        default_factory=list,
        description="调用者在申请当前状态下可以办理的操作：approve、refuse（…/decision）、answer、withdraw、"
        "dispute、escalate、prereview、settle",
    )

    @classmethod
    def of(
        cls,
        request: ShareRequest,
        *,
        now: datetime,
        grant: tuple[int, str | None] | None = None,
        working_days_left: int | None = None,
        allowed_actions: list[RequestAction] | None = None,
    ) -> RequestOut:
        """The response shape of one request; `sharing.views.request_views` fills in the reader-dependent
        parts (its grant, the working days left and the steps the reader may take)."""
        kind, state, purpose = (
            RequestKind(request.kind),
            RequestState(request.state),
            PurposeKind(request.purpose_kind),
        )
        fields: dict[str, Any] = {name: getattr(request, name) for name in _REQUEST_FIELDS}
        return cls(
            **fields,
            kind=kind,
            kind_label=kind.label,
            state=state,
            state_label=state.label,
            purpose_kind=purpose,
            purpose_kind_label=purpose.label,
            resource_code=request.resource.code,
            application=request.application.code,
            overdue=bool(request.due_at and request.due_at < now and state in CLOCKED_STATES),
            grant_id=grant[0] if grant else None,
            grant_ended=grant[1] if grant else None,
            working_days_left=working_days_left,
            allowed_actions=allowed_actions or [],
        )


_REQUEST_FIELDS = (
    "number", "provider_department_id", "consumer_department_id", "purpose", "basis", "items", "clear_items",
    "row_scope", "period_start", "period_end", "requests_per_day", "rows_per_day", "requested_by",
    "submitted_at", "due_at", "provisional_calendar", "reminded_at", "escalated_at", "prereview_by",
    "prereview_comment", "decided_by", "decided_at", "decision_reason", "approved_items",
    "approved_clear_items", "approved_row_scope", "provider_working_days", "negotiation_reason",
    "negotiation_outcome",
)  # fmt: skip


class GrantOut(BaseModel):
    id: int
    kind: GrantKind
    kind_label: str
    state: str
    state_label: str
    request_number: str | None
    application: str
    resource_code: str | None
    provider_department_id: int
    consumer_department_id: int
    items: list[str]
    clear_items: list[str]
    row_scope: dict[str, list[str]]
    purpose_kind: PurposeKind
    purpose: str
    valid_from: datetime
    valid_to: datetime
    requests_per_day: int
    rows_per_day: int
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoked_reason: str | None
    allowed_actions: list[GrantAction] = Field(
        default_factory=list, description="调用者可以办理的操作：revoke（撤销授权，仅提供部门或使用部门）"
    )

    @classmethod
    def of(
        cls,
        grant: ShareGrant,
        *,
        state: str,
        state_label: str,
        request_number: str | None,
        allowed_actions: list[GrantAction] | None = None,
    ) -> GrantOut:
        """The response shape of one grant; `sharing.views.grant_views` fills in its state and the steps
        the reader may take."""
        kind = GrantKind(grant.kind)
        names = (
            "id", "provider_department_id", "consumer_department_id", "items", "clear_items", "row_scope",
            "purpose", "valid_from", "valid_to", "requests_per_day", "rows_per_day", "created_by",
            "created_at", "revoked_at", "revoked_by", "revoked_reason",
        )  # fmt: skip
        return cls(
            **{n: getattr(grant, n) for n in names},
            kind=kind,
            kind_label=kind.label,
            state=state,
            state_label=state_label,
            request_number=request_number,
            application=grant.application.code,
            resource_code=grant.resource.code,
            purpose_kind=PurposeKind(grant.purpose_kind),
            allowed_actions=allowed_actions or [],
        )


class UsageRow(BaseModel):
    key: str  # resource code, department code or application code
    name: str
    calls: int
    rows: int
    refusals: int


class Timeliness(BaseModel):
    department_code: str
    department_name: str
    decided: int
    within_deadline: int
    overdue_open: int
    average_working_days: float | None


class DeadlineReport(BaseModel):
    reminded: list[str]
    escalated: list[str]
