"""Placeholder."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/inventory", tags=["政务信息系统清单"])
