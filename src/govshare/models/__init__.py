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
from govshare.models.collection import Batch, QuarantineRow, RecordTable, Source, SourceConnection
from govshare.models.identity import (
    ApiKey,
    Application,
    Department,
    LoginDelay,
    OfficerProposal,
    User,
    UserRole,
    WebSession,
)
from govshare.models.inventory import InfoSystem
from govshare.models.jobs import Job
from govshare.models.opendata import OpenUsageDaily
from govshare.models.sharing import AccessSubject, ShareGrant, ShareRequest, UsageDaily
from govshare.models.standards import Code, CodeSet, CodeSetVersion, DataElement

__all__ = [
    "AccessSubject",
    "ApiKey",
    "Application",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Batch",
    "Code",
    "CodeSequence",
    "CodeSet",
    "CodeSetVersion",
    "DataElement",
    "Department",
    "InfoSystem",
    "Job",
    "LoginDelay",
    "OfficerProposal",
    "OpenUsageDaily",
    "QuarantineRow",
    "RecordTable",
    "Resource",
    "ResourceItem",
    "ResourceVersion",
    "SearchDocument",
    "SearchToken",
    "ShareGrant",
    "ShareRequest",
    "Source",
    "SourceConnection",
    "UsageDaily",
    "User",
    "UserRole",
    "WebSession",
]
