"""三员分立 for the audit log: only the auditor reads or verifies it; nobody edits it.

The rule itself lives in `auth.permissions.ROLE_PERMISSIONS` (only `Role.AUDITOR` holds `audit:*`), and the
database refuses UPDATE and DELETE on `audit_entry` (migration 0001). This module names the rule for
readers and for the tests that prove it.
"""

from __future__ import annotations

from govshare.auth.permissions import ROLE_PERMISSIONS, Permission, Role

AUDIT_PERMISSIONS = frozenset({Permission.AUDIT_READ, Permission.AUDIT_VERIFY})


def roles_that_read_audit() -> set[Role]:
    return {role for role, grants in ROLE_PERMISSIONS.items() if AUDIT_PERMISSIONS & grants.keys()}
