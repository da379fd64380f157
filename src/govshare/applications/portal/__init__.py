"""The applications portal: 应用系统与接口密钥 (`apps.py`: `/apps…`). One page module, so `router` is its
router."""

from __future__ import annotations

from govshare.applications.portal.apps import router

__all__ = ["router"]
