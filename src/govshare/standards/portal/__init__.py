"""The standards portal: 系统管理 → 代码集 (`code_sets.py`: `/admin/code-sets…`), for whoever holds
`standards:edit`. One page module, so `router` is its router."""

from __future__ import annotations

from govshare.standards.portal.code_sets import router

__all__ = ["router"]
