"""Request and response shapes for departments, users and sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from govshare.auth.permissions import ROLE_PERMISSIONS, Role
from govshare.core.inputs import Input
from govshare.models import Department, OfficerProposal, User
from govshare.standards.validators import uscc_text

LEVEL_LABELS = {"province": "省级", "city": "市级", "county": "县级"}
_LEVEL_ALIASES = {
    "省": "province",
    "省级": "province",
    "市": "city",
    "市级": "city",
    "县": "county",
    "县级": "county",
    "区": "county",
    "区县": "county",
}


def _level(value: object) -> object:
    return _LEVEL_ALIASES.get(value, value) if isinstance(value, str) else value


def _role(value: object) -> object:
    if isinstance(value, str):
        for role in Role:
            if value == role.label:
                return role.value
    return value


Level = Annotated[Literal["province", "city", "county"], BeforeValidator(_level)]
RoleName = Annotated[Role, BeforeValidator(_role)]
DepartmentCode = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Username = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[a-z][a-z0-9_.-]+$")]
USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"


def _uscc(value: object) -> object:
    """A 统一社会信用代码 as typed (full-width, lower case, spaces, hyphens) in the code's own spelling,
    before the pattern checks it: the API, the portal and the console accept the same input. Blank stays
    blank, so the pattern still refuses it (null, not "", clears a department's code)."""
    return (uscc_text(value) or "") if isinstance(value, str) else value


Uscc = Annotated[str, BeforeValidator(_uscc), Field(pattern=USCC_PATTERN)]


class DepartmentCreate(Input):
    code: DepartmentCode
    name: str = Field(min_length=2, max_length=100)
    division_code: str = Field(pattern=r"^\d{6}$", description="行政区划代码，6 位数字")
    level: Level
    parent_code: DepartmentCode | None = None
    uscc: Uscc | None = Field(None, description="统一社会信用代码（全角、小写、空格和连字符会被规范化）")


class DepartmentUpdate(Input):
    """A change to a department (`PATCH`): only the fields sent change; the code never does.

    `parent_code` and `uscc` may be sent as null to clear them; name, division code and level may not.
    """

    name: str | None = Field(None, min_length=2, max_length=100)
    division_code: str | None = Field(None, pattern=r"^\d{6}$", description="行政区划代码，6 位数字")
    level: Level | None = None
    parent_code: DepartmentCode | None = Field(None, description="上级部门代码；null 表示没有上级部门")
    uscc: Uscc | None = Field(None, description="统一社会信用代码（规范化同新建）；null 表示清除")

    @field_validator("name", "division_code", "level")
    @classmethod
    def _required_when_sent(cls, value: object) -> object:
        if value is None:  # runs only for a value that was sent: an omitted field keeps its default
            raise ValueError("不能为空；不修改请省略该字段")
        return value

    def changes(self) -> dict[str, object]:
        """The fields sent, with their values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    division_code: str
    level: str
    level_label: str
    parent_code: str | None
    uscc: str | None
    is_active: bool

    @classmethod
    def of(cls, department: Department, codes_by_id: dict[int, str]) -> DepartmentOut:
        return cls(
            code=department.code,
            name=department.name,
            division_code=department.division_code,
            level=department.level,
            level_label=LEVEL_LABELS.get(department.level, department.level),
            parent_code=codes_by_id.get(department.parent_id) if department.parent_id else None,
            uscc=department.uscc,
            is_active=department.is_active,
        )


class UserCreate(Input):
    username: Username
    display_name: str = Field(min_length=1, max_length=64)
    department_code: DepartmentCode
    password: str = Field(min_length=1, max_length=256)
    roles: list[RoleName] = Field(default_factory=list, max_length=len(Role))


class UserOut(BaseModel):
    username: str
    display_name: str
    department_code: str
    department_name: str
    roles: list[Role]
    role_labels: list[str]
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    must_change_password: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        roles = sorted(Role(r.role) for r in user.roles)
        return cls(
            username=user.username,
            display_name=user.display_name,
            department_code=user.department.code,
            department_name=user.department.name,
            roles=roles,
            role_labels=[r.label for r in roles],
            is_active=user.is_active,
            locked_until=user.locked_until,
            last_login_at=user.last_login_at,
            must_change_password=user.must_change_password,
        )


class UserDetailOut(UserOut):
    """One account with what the caller may do to it (the same rules the portal's user page follows; each
    action is checked again when asked for)."""

    allowed_actions: list[str]  # grant_role, revoke_role, unlock, reset_password, disable|enable,
    # propose_officer_change (an officer account's role or state changes only by a confirmed proposal)
    grantable_roles: list[Role]  # roles the caller may grant this user directly (no officer role)


class RoleChange(Input):
    role: RoleName


class LoginRequest(Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class PasswordChange(Input):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class PasswordResetOut(BaseModel):
    username: str
    one_time_password: str = Field(description="一次性口令，只显示这一次；用户下次登录后必须修改")


class ProposalCreate(Input):
    username: Username
    kind: Literal["grant_role", "revoke_role", "disable", "enable"]
    role: RoleName | None = None
    reason: str = Field("", max_length=500)


class ProposalOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    username: str
    role: Role | None
    status: str
    proposed_by: str
    proposer_role: Role
    reason: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, proposal: OfficerProposal) -> ProposalOut:
        labels = {
            "grant_role": "授予三员角色",
            "revoke_role": "收回三员角色",
            "disable": "停用三员账号",
            "enable": "启用三员账号",
        }
        return cls(
            id=proposal.id,
            kind=proposal.kind,
            kind_label=labels.get(proposal.kind, proposal.kind),
            username=proposal.target.username,
            role=Role(proposal.role) if proposal.role else None,
            status=proposal.status,
            proposed_by=proposal.proposed_by,
            proposer_role=Role(proposal.proposer_role),
            reason=proposal.reason,
            created_at=proposal.created_at,
            decided_by=proposal.decided_by,
            decided_at=proposal.decided_at,
        )


class RoleOut(BaseModel):
    role: Role
    label: str
    permissions: dict[str, str]

    @classmethod
    def all(cls) -> list[RoleOut]:
        return [
            cls(role=r, label=r.label, permissions={str(p): str(s) for p, s in ROLE_PERMISSIONS[r].items()})
            for r in Role
        ]


class ActorOut(BaseModel):
    kind: str
    name: str
    department_code: str | None
    application_code: str | None
    roles: list[Role]
    permissions: dict[str, str]
    must_change_password: bool = False
