"""The job queue's portal page (平台管理员): `/admin/jobs` and one job, with retry and cancel (`pages.py`)."""

from __future__ import annotations

from govshare.jobs.portal.pages import router

__all__ = ["router"]
