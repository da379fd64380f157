"""The open-data portal (公共数据开放门户, public, no login): `router` carries its pages (pages.py)."""

from __future__ import annotations

from govshare.opendata.portal.pages import router

__all__ = ["router"]
