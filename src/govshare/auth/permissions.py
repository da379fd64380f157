"""Permissions and roles, as data.

A role grants permissions, each with a scope: ``ALL`` (the whole node) or ``OWN_DEPARTMENT``. The three
security-officer roles (三员: platform admin, security admin, auditor) are mutually exclusive, and no
permission over the audit log is granted to anyone but the auditor (三员分立).
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    DEPARTMENT_READ = "department:read"
    DEPARTMENT_MANAGE = "department:manage"
    USER_READ = "user:read"
    USER_MANAGE = "user:manage"
    ROLE_ASSIGN = "role:assign"
    USER_UNLOCK = "user:unlock"
    USER_RESET_PASSWORD = "user:reset_password"  # noqa: S105 - a one-time password the holder must change (not 三员)
    APPLICATION_READ = "application:read"
    APPLICATION_MANAGE = "application:manage"
    API_KEY_MANAGE = "api_key:manage"
    API_KEY_REVOKE = "api_key:revoke"
    AUDIT_READ = "audit:read"
    AUDIT_VERIFY = "audit:verify"
    CATALOG_READ = "catalog:read"
    CATALOG_EDIT = "catalog:edit"
    CATALOG_REVIEW = "catalog:review"
    CATALOG_WITHDRAW = "catalog:withdraw"
    CATALOG_OVERRIDE = "catalog:override"
    INVENTORY_READ = "inventory:read"
    INVENTORY_EDIT = "inventory:edit"
    STANDARDS_EDIT = "standards:edit"
    COLLECTION_READ = "collection:read"  # batches, counts and sources (not the quarantined records)
    COLLECTION_RUN = "collection:run"  # sources, runs, quarantine download and reprocessing
    COLLECTION_PUSH = "collection:push"  # a department's system pushes records to its own sources
    CONNECTION_MANAGE = "connection:manage"  # source database connections (the platform admin)
    SHARING_READ = "sharing:read"  # applications and grants (own department: as consumer or provider)
    SHARING_APPLY = "sharing:apply"  # apply for / subscribe to data for the department's applications
    SHARING_APPROVE = "sharing:approve"  # the provider department decides and revokes
    SHARING_SUPERVISE = "sharing:supervise"  # the 主管部门: 符合性审查, 协商 and overdue escalations
    SHARING_STATS = "sharing:stats"  # usage statistics (calls, rows, refusals)
    DATA_READ = "data:read"  # an application key calls the data API (within its grants)
    ACCESS_TRACE = "audit:trace"  # "who looked at me": accesses to one person or organisation
    BACKUP_MANAGE = "backup:manage"  # backups: the console (Actor.system) only; no role holds it
    JOB_READ = "job:read"  # the background job queue (govshare worker): state, attempts, errors
    JOB_MANAGE = "job:manage"  # retry a dead job, cancel a queued one


class Scope(StrEnum):
    ALL = "all"
    OWN_DEPARTMENT = "own_department"


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    SECURITY_ADMIN = "security_admin"
    AUDITOR = "auditor"
    CATALOG_REVIEWER = "catalog_reviewer"
    DEPARTMENT_ADMIN = "department_admin"
    DATA_STEWARD = "data_steward"
    DATA_USER = "data_user"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.PLATFORM_ADMIN: "平台管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.AUDITOR: "审计员",
    Role.CATALOG_REVIEWER: "目录审核员",
    Role.DEPARTMENT_ADMIN: "部门管理员",
    Role.DATA_STEWARD: "数据管理员",
    Role.DATA_USER: "使用人员",
}

P, S = Permission, Scope

ROLE_PERMISSIONS: dict[Role, dict[Permission, Scope]] = {
    # 平台管理员 (the 系统管理员 of 三员): runs the node (departments, accounts, applications); never sees
    # the audit log and cannot hand out the security-officer roles.
    Role.PLATFORM_ADMIN: {
        P.DEPARTMENT_READ: S.ALL,
        P.DEPARTMENT_MANAGE: S.ALL,
        P.USER_READ: S.ALL,
        P.USER_MANAGE: S.ALL,
        P.APPLICATION_READ: S.ALL,
        P.APPLICATION_MANAGE: S.ALL,
        P.API_KEY_MANAGE: S.ALL,
        P.CATALOG_READ: S.ALL,
        P.CATALOG_OVERRIDE: S.ALL,
        P.INVENTORY_READ: S.ALL,
        P.INVENTORY_EDIT: S.ALL,
        P.STANDARDS_EDIT: S.ALL,  # data elements and code sets of the node
        P.COLLECTION_READ: S.ALL,  # monitors every department's batches; never sees quarantined records
        P.CONNECTION_MANAGE: S.ALL,  # registers the departments' source database connections
        P.SHARING_READ: S.ALL,
        P.SHARING_STATS: S.ALL,
        P.JOB_READ: S.ALL,  # runs the node: sees and retries its background jobs
        P.JOB_MANAGE: S.ALL,
    },
    # 安全管理员: who holds which role, locked accounts, key revocation.
    Role.SECURITY_ADMIN: {
        P.DEPARTMENT_READ: S.ALL,
        P.USER_READ: S.ALL,
        P.ROLE_ASSIGN: S.ALL,
        P.USER_UNLOCK: S.ALL,
        P.USER_RESET_PASSWORD: S.ALL,
        P.APPLICATION_READ: S.ALL,
        P.API_KEY_REVOKE: S.ALL,
        P.CATALOG_READ: S.ALL,
    },
    # 审计员: reads everything it needs to audit, changes nothing.
    Role.AUDITOR: {
        P.DEPARTMENT_READ: S.ALL,
        P.USER_READ: S.ALL,
        P.APPLICATION_READ: S.ALL,
        P.AUDIT_READ: S.ALL,
        P.AUDIT_VERIFY: S.ALL,
        P.CATALOG_READ: S.ALL,
        P.INVENTORY_READ: S.ALL,
        P.COLLECTION_READ: S.ALL,
        P.SHARING_READ: S.ALL,
        P.SHARING_STATS: S.ALL,
        P.ACCESS_TRACE: S.ALL,
    },
    # 目录审核员: the 共享主管部门's reviewer: reviews and withdraws catalog entries of every department,
    # pre-reviews applications (符合性审查), settles 协商 and receives overdue escalations.
    Role.CATALOG_REVIEWER: {
        P.DEPARTMENT_READ: S.ALL,
        P.CATALOG_READ: S.ALL,
        P.CATALOG_REVIEW: S.ALL,
        P.CATALOG_WITHDRAW: S.ALL,
        P.INVENTORY_READ: S.ALL,
        P.SHARING_READ: S.ALL,
        P.SHARING_SUPERVISE: S.ALL,
        P.SHARING_STATS: S.ALL,
    },
    Role.DEPARTMENT_ADMIN: {
        P.DEPARTMENT_READ: S.ALL,
        P.USER_READ: S.OWN_DEPARTMENT,
        P.USER_MANAGE: S.OWN_DEPARTMENT,
        P.APPLICATION_READ: S.OWN_DEPARTMENT,
        P.APPLICATION_MANAGE: S.OWN_DEPARTMENT,
        P.API_KEY_MANAGE: S.OWN_DEPARTMENT,
        P.API_KEY_REVOKE: S.OWN_DEPARTMENT,
        P.CATALOG_READ: S.ALL,
        P.CATALOG_EDIT: S.OWN_DEPARTMENT,
        P.CATALOG_WITHDRAW: S.OWN_DEPARTMENT,
        P.INVENTORY_READ: S.ALL,
        P.INVENTORY_EDIT: S.OWN_DEPARTMENT,
        P.COLLECTION_READ: S.OWN_DEPARTMENT,
        P.COLLECTION_RUN: S.OWN_DEPARTMENT,
        P.COLLECTION_PUSH: S.OWN_DEPARTMENT,
        P.SHARING_READ: S.OWN_DEPARTMENT,
        P.SHARING_APPLY: S.OWN_DEPARTMENT,
        P.SHARING_APPROVE: S.OWN_DEPARTMENT,
        P.SHARING_STATS: S.OWN_DEPARTMENT,
    },
    # 数据管理员: compiles the department's catalog (目录编制) and its system inventory.
    Role.DATA_STEWARD: {
        P.DEPARTMENT_READ: S.ALL,
        P.APPLICATION_READ: S.OWN_DEPARTMENT,
        P.CATALOG_READ: S.ALL,
        P.CATALOG_EDIT: S.OWN_DEPARTMENT,
        P.INVENTORY_READ: S.ALL,
        P.INVENTORY_EDIT: S.OWN_DEPARTMENT,
        P.COLLECTION_READ: S.OWN_DEPARTMENT,
        P.COLLECTION_RUN: S.OWN_DEPARTMENT,
        P.COLLECTION_PUSH: S.OWN_DEPARTMENT,
        P.SHARING_READ: S.OWN_DEPARTMENT,
        P.SHARING_APPLY: S.OWN_DEPARTMENT,
        P.SHARING_STATS: S.OWN_DEPARTMENT,
    },
    # 使用人员: applies for the data the department's systems need, and follows the applications.
    Role.DATA_USER: {
        P.DEPARTMENT_READ: S.ALL,
        P.CATALOG_READ: S.ALL,
        P.INVENTORY_READ: S.ALL,
        P.SHARING_READ: S.OWN_DEPARTMENT,
        P.SHARING_APPLY: S.OWN_DEPARTMENT,
    },
}

# 三员: one person holds at most one of these.
SECURITY_OFFICER_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})

# Roles only the security admin may grant; department-level roles may be granted by whoever manages the
# user (platform admin, or the department admin within the department).
PRIVILEGED_ROLES = SECURITY_OFFICER_ROLES | {Role.CATALOG_REVIEWER}

# What a key of an application may carry: reading, never administering or auditing.
APPLICATION_GRANTABLE: frozenset[Permission] = frozenset(
    {P.DEPARTMENT_READ, P.CATALOG_READ, P.COLLECTION_PUSH, P.DATA_READ}
)
# What a new key carries when none is asked for: reading only (the data API still needs a grant per
# resource); pushing is asked for by name.
APPLICATION_DEFAULT: frozenset[Permission] = frozenset({P.DEPARTMENT_READ, P.CATALOG_READ, P.DATA_READ})
# Key permissions that act for the application's own department only.
APPLICATION_OWN_DEPARTMENT: frozenset[Permission] = frozenset({P.COLLECTION_PUSH})
