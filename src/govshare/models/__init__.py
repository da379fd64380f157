"""All ORM models, in one package, so migrations and relationships see every table."""

from govshare.models.audit import AuditEntry, AuditHead
from govshare.models.base import Base
from govshare.models.identity import ApiKey, Application, Department, User, UserRole, WebSession

__all__ = [
    "ApiKey",
    "Application",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Department",
    "User",
    "UserRole",
    "WebSession",
]
