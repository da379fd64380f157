"""Key rules: an application key carries reading permissions (`APPLICATION_GRANTABLE`) and, when asked
for, pushing records to its own department's sources; never administration or audit;
keys are checked against the database on every request."""

from __future__ import annotations

from govshare.auth.permissions import APPLICATION_GRANTABLE, Permission


def grantable_to_applications(permission: Permission) -> bool:
    return permission in APPLICATION_GRANTABLE
