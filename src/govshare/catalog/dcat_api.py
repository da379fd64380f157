"""Placeholder: routes are added here."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/catalog", tags=["目录系统"])
