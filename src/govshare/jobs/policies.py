"""Who sees and steers the job queue: the platform admin, who runs the node (auth/permissions.py)."""

from __future__ import annotations

from govshare.auth.permissions import Permission

VIEW = Permission.JOB_READ
MANAGE = Permission.JOB_MANAGE
