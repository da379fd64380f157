from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from govshare.auth.permissions import Permission
from govshare.core.clock import utcnow
from govshare.core.inputs import Input
from govshare.identity.schemas import DepartmentCode
from govshare.models import ApiKey, Application

ApplicationCode = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]+$")]


class ApplicationCreate(Input):
    code: ApplicationCode
    name: str = Field(min_length=2, max_length=100)
    department_code: DepartmentCode
    description: str = Field("", max_length=500)


class ApplicationOut(BaseModel):
    code: str
    name: str
    department_code: str
    department_name: str
    description: str
    is_active: bool

    @classmethod
    def of(cls, application: Application) -> ApplicationOut:
        return cls(
            code=application.code,
            name=application.name,
            department_code=application.department.code,
            department_name=application.department.name,
            description=application.description,
            is_active=application.is_active,
        )


class ApplicationDetailOut(ApplicationOut):
    allowed_actions: list[str] = Field(description="调用者可对该应用的密钥进行的操作：issue_key、revoke_key")


class KeyIssue(Input):
    scopes: list[Permission] | None = Field(
        None, max_length=len(Permission), description="默认：应用可持有的全部权限"
    )
    days: int | None = Field(None, ge=1, le=3650, description="有效天数，默认取节点设置")


class KeyRevoke(Input):
    reason: str = Field("", max_length=2000, description="吊销理由，记入审计日志")


class KeyOut(BaseModel):
    prefix: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    state: str

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        return cls(
            prefix=key.prefix,
            scopes=key.scopes,
            created_by=key.created_by,
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            last_used_at=key.last_used_at,
            state=key_state(key),
        )


class IssuedKey(KeyOut):
    key: str = Field(description="完整密钥，仅在签发时显示一次")


def key_state(key: ApiKey) -> str:
    """active / expired / revoked, as of now."""
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at <= utcnow():
        return "expired"
    return "active"
