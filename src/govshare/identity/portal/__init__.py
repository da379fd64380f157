"""The identity portal: 登录与退出, 修改口令, and 系统管理's departments, users, roles, 三员变更 and the
node's settings (read only).

`router` carries every page's routes, in this order. No two modules serve the same path, so the order of the
modules is only for reading; inside admin.py, `GET /admin/users/new` is declared before
`GET /admin/users/{username}` (a test requests both).

1. login.py: `/login`, `/logout`;
2. account.py: `/me/password`, the security admin's password reset, `/admin/officers…`;
3. admin.py: `/admin`, `/admin/departments…`, `/admin/users…`, `/admin/roles`;
4. settings.py: `/admin/settings`.

The routes are copied rather than `include_router`-ed: recent FastAPI keeps an included router as one nested
object, and the app's routes must stay flat APIRoutes (app._add_routes; the authorization test walks them).
"""

from __future__ import annotations

from fastapi import APIRouter

from govshare.identity.portal import account, admin, login, settings

router = APIRouter(include_in_schema=False)
for _pages in (login, account, admin, settings):
    router.routes.extend(_pages.router.routes)

__all__ = ["router"]
