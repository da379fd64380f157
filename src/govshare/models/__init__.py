"""All ORM models, in one package, so migrations and relationships see every table."""

from govshare.models.audit import AuditEntry, AuditHead
from govshare.models.base import Base
from govshare.models.catalog import (
    CodeSequence,
    Resource,
    ResourceItem,
    ResourceVersion,
    SearchDocument,
    SearchToken,
)
from govshare.models.identity import ApiKey, Application, Department, User, UserRole, WebSession
from govshare.models.inventory import InfoSystem

__all__ = [
    "ApiKey",
    "Application",
    "AuditEntry",
    "AuditHead",
    "Base",
    "CodeSequence",
    "Department",
    "InfoSystem",
    "Resource",
    "ResourceItem",
    "ResourceVersion",
    "SearchDocument",
    "SearchToken",
    "User",
    "UserRole",
    "WebSession",
]
