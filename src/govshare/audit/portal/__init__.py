"""The audit portal (审计员): the log, one entry, the chain's verification and 谁查看了我 (`log.py`:
`/audit…`). One page module, so `router` is its router."""

from __future__ import annotations

from govshare.audit.portal.log import router

__all__ = ["router"]
