"""Placeholder: commands registered on `catalog_app` are added here."""

from __future__ import annotations

from govshare.catalog.cli import catalog_app

__all__ = ["catalog_app"]
