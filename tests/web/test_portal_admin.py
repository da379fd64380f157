"""Portal pages of 系统管理: departments (new and edit), users and roles (三员分立), the roles matrix, code
sets and the node's settings. Every change is checked through the API, not only the pages' status codes.
On SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr

from govshare.auth.permissions import Role
from govshare.core.db import Database
from govshare.identity.portal.settings import settings_rows
from govshare.settings import Settings
from tests import factories
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET
from tests.web.portal_helpers import HTML, page, portal_login, post, token


def api(client: TestClient, path: str) -> object:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def user_of(client: TestClient, username: str) -> dict[str, object]:
    found = api(client, f"/api/v1/users/{username}")
    assert isinstance(found, dict)
    return found


def test_platform_admin_creates_a_department_and_a_user(client: TestClient, db: Database) -> None:
    factories.city(db)
    portal_login(client, "admin", "/admin")
    index = page(client, "/admin")
    for link in ("/admin/departments", "/admin/users", "/admin/roles", "/admin/code-sets", "/admin/settings"):
        assert f'href="{link}"' in index
    assert "<script" not in index and "http://" not in index and "https://" not in index

    form = page(client, "/admin/departments")
    assert "测试市公安局" in form and "新增部门" in form
    # The form re-shows the service's message and what was typed; nothing is created.
    taken = post(
        client,
        "/admin/departments",
        form,
        code="GA",
        name="另一个公安局",
        division_code="990100",
        level="city",
    )
    assert taken.status_code == 409
    assert "部门代码“GA”已存在" in taken.text and 'value="另一个公安局"' in taken.text
    bad = post(
        client, "/admin/departments", form, code="WJ", name="测试市卫健委", division_code="99", level="city"
    )
    assert bad.status_code == 422 and "行政区划代码：格式不正确" in bad.text

    done = post(
        client,
        "/admin/departments",
        form,
        code="WJ",
        name="测试市卫生健康委员会",
        division_code="990100",
        level="city",
        parent_code="DSJ",
    )
    assert (done.status_code, done.headers["location"]) == (303, "/admin/departments?done=department")
    created = api(client, "/api/v1/departments/WJ")
    assert created == {
        "code": "WJ",
        "name": "测试市卫生健康委员会",
        "division_code": "990100",
        "level": "city",
        "level_label": "市级",
        "parent_code": "DSJ",
        "uscc": None,
        "is_active": True,
    }
    assert "部门已新增" in page(client, done.headers["location"])

    # A user in the new department: the password rules are the service's.
    new = page(client, "/admin/users/new")
    assert (
        'value="data_user"' in new and 'value="auditor"' not in new
    )  # privileged roles: security admin only
    weak = post(
        client,
        "/admin/users",
        new,
        username="wj.li",
        display_name="李卫",
        department_code="WJ",
        password="short",
        roles=["data_user"],
    )
    assert weak.status_code == 422 and "初始口令：口令至少需要 12 个字符" in weak.text
    assert 'value="wj.li"' in weak.text and "short" not in weak.text  # the password is never sent back
    forged = post(
        client,
        "/admin/users",
        new,
        username="wj.li",
        display_name="李卫",
        department_code="WJ",
        password=factories.PASSWORD,
        roles=["auditor"],
    )
    assert forged.status_code == 403  # the service refuses a privileged role from the platform admin
    made = post(
        client,
        "/admin/users",
        new,
        username="wj.li",
        display_name="李卫",
        department_code="WJ",
        password=factories.PASSWORD,
        roles=["data_user", "data_steward"],
    )
    assert (made.status_code, made.headers["location"]) == (303, "/admin/users/wj.li?done=user")
    user = user_of(client, "wj.li")
    assert (user["department_code"], user["roles"], user["is_active"]) == (
        "WJ",
        ["data_steward", "data_user"],
        True,
    )
    listed = page(client, "/admin/users?department=WJ")
    assert "wj.li" in listed and "李卫" in listed and "ga.admin" not in listed
    assert "1</td>" in page(client, "/admin/departments")  # WJ's user count

    # Disable and enable through the user page.
    detail = page(client, made.headers["location"])
    assert "用户已新增" in detail and "停用账号" in detail
    assert post(client, "/admin/users/wj.li/disable", detail).status_code == 303
    assert user_of(client, "wj.li")["is_active"] is False
    assert "已停用" in page(client, "/admin/users?department=WJ")
    again = page(client, "/admin/users/wj.li")
    assert post(client, "/admin/users/wj.li/enable", again).status_code == 303
    assert user_of(client, "wj.li")["is_active"] is True


def test_platform_admin_edits_a_department(client: TestClient, db: Database) -> None:
    factories.city(db)  # DSJ ← GA, DSJ ← MZ
    factories.department(db, "GA-XJ", "测试市公安局刑侦支队", parent="GA")
    portal_login(client, "admin", "/admin/departments")
    listing = page(client, "/admin/departments")
    for code in ("DSJ", "GA", "MZ", "GA-XJ"):
        assert f'href="/admin/departments/{code}"' in listing

    form = page(client, "/admin/departments/GA")
    assert 'value="测试市公安局"' in form and 'value="990100"' in form
    assert '<option value="DSJ" selected>' in form and '<option value="city" selected>' in form
    # Neither the department itself nor its sub-departments are offered as its parent.
    assert '<option value="MZ">' in form
    assert '<option value="GA">' not in form and '<option value="GA-XJ"' not in form

    # A name taken by another department: 409, the service's message beside the form, what was typed kept.
    taken = post(
        client,
        "/admin/departments/GA",
        form,
        name="测试市民政局",
        division_code="990102",
        level="county",
        parent_code="DSJ",
    )
    assert taken.status_code == 409
    assert "部门名称“测试市民政局”已存在" in taken.text and 'role="alert"' in taken.text
    assert 'value="测试市民政局"' in taken.text and 'value="990102"' in taken.text
    assert '<option value="county" selected>' in taken.text
    # A sub-department as the parent would make a cycle: refused, even when forged into the form.
    cycle = post(
        client,
        "/admin/departments/GA",
        form,
        name="测试市公安局",
        division_code="990100",
        level="city",
        parent_code="GA-XJ",
    )
    assert cycle.status_code == 422
    assert "上级部门：“测试市公安局刑侦支队”是本部门的下级部门，不能作为上级部门（会形成循环）" in cycle.text
    bad = post(client, "/admin/departments/GA", form, name="测", division_code="99", level="city")
    assert bad.status_code == 422 and "名称：长度不能少于 2 个字符" in bad.text
    assert "行政区划代码：格式不正确" in bad.text
    assert api(client, "/api/v1/departments/GA") == {
        "code": "GA",
        "name": "测试市公安局",
        "division_code": "990100",
        "level": "city",
        "level_label": "市级",
        "parent_code": "DSJ",
        "uscc": None,
        "is_active": True,
    }

    done = post(
        client,
        "/admin/departments/GA",
        form,
        name="测试市公安局（新）",
        division_code="990102",
        level="county",
        parent_code="MZ",
        uscc="11110000mb0000000x",
    )
    assert (done.status_code, done.headers["location"]) == (303, "/admin/departments/GA?done=updated")
    assert api(client, "/api/v1/departments/GA") == {
        "code": "GA",
        "name": "测试市公安局（新）",
        "division_code": "990102",
        "level": "county",
        "level_label": "县级",
        "parent_code": "MZ",
        "uscc": "11110000MB0000000X",
        "is_active": True,
    }
    shown = page(client, done.headers["location"])
    assert "部门信息已保存" in shown and 'value="测试市公安局（新）"' in shown
    assert '<option value="MZ" selected>' in shown
    # An empty parent and USCC clear them.
    cleared = post(
        client,
        "/admin/departments/GA",
        shown,
        name="测试市公安局（新）",
        division_code="990102",
        level="county",
    )
    assert cleared.status_code == 303
    found = api(client, "/api/v1/departments/GA")
    assert isinstance(found, dict) and (found["parent_code"], found["uscc"]) == (None, None)
    page(client, "/admin/departments/NOPE", status=404)


def test_department_admin_cannot_edit_and_csrf_is_required(client: TestClient, db: Database) -> None:
    factories.city(db)
    portal_login(client, "ga.admin", "/admin/departments")
    listing = page(client, "/admin/departments")
    assert "测试市公安局" in listing and 'href="/admin/departments/GA"' not in listing
    page(client, "/admin/departments/GA", status=403)
    refused = post(
        client, "/admin/departments/GA", listing, name="改名的公安局", division_code="990100", level="city"
    )
    assert refused.status_code == 403

    portal_login(client, "admin", "/admin/departments/GA")
    form = page(client, "/admin/departments/GA")
    fields = {"name": "改名的公安局", "division_code": "990100", "level": "city", "parent_code": "DSJ"}
    for data in (fields, {**fields, "csrf_token": "0" * 64}):
        response = client.post("/admin/departments/GA", data=data, headers=HTML, follow_redirects=False)
        assert response.status_code == 403 and "csrf" in response.text.lower()
    assert 'value="测试市公安局"' in form
    found = api(client, "/api/v1/departments/GA")
    assert isinstance(found, dict) and found["name"] == "测试市公安局"


def test_security_admin_grants_roles_and_separation_is_shown(client: TestClient, db: Database) -> None:
    factories.city(db)
    portal_login(client, "security", "/admin")
    index = page(client, "/admin")
    assert 'href="/admin/users"' in index and 'href="/admin/departments"' not in index
    assert page(client, "/admin/users/new", status=403)  # no user:manage

    detail = page(client, "/admin/users/ga.steward")
    assert 'value="catalog_reviewer"' in detail  # the security admin hands out privileged roles
    granted = post(client, "/admin/users/ga.steward/roles", detail, role="catalog_reviewer")
    assert (granted.status_code, granted.headers["location"]) == (303, "/admin/users/ga.steward?done=granted")
    assert user_of(client, "ga.steward")["roles"] == ["catalog_reviewer", "data_steward"]
    assert "角色已授予" in page(client, granted.headers["location"])

    # 三员分立: the platform admin cannot also be the auditor; the service's message is shown.
    admin_page = page(client, "/admin/users/admin")
    clash = post(client, "/admin/users/admin/roles", admin_page, role="auditor")
    assert clash.status_code == 409
    assert "三员分立：已担任平台管理员的用户不能同时担任审计员" in clash.text
    assert user_of(client, "admin")["roles"] == ["platform_admin"]

    # Revoking through the role's own button.
    page_now = page(client, "/admin/users/ga.steward")
    assert 'action="/admin/users/ga.steward/roles/catalog_reviewer/revoke"' in page_now
    revoked = post(client, "/admin/users/ga.steward/roles/catalog_reviewer/revoke", page_now)
    assert revoked.status_code == 303
    assert user_of(client, "ga.steward")["roles"] == ["data_steward"]

    # Nobody changes their own roles: no form on one's own page.
    own = page(client, "/admin/users/security")
    assert "/admin/users/security/roles" not in own


def test_security_admin_unlocks_a_locked_account(client: TestClient, db: Database) -> None:
    factories.city(db)
    for _ in range(3):  # the test settings make this address wait after 3 failures
        client.post("/api/v1/auth/login", json={"username": "ga.steward", "password": "wrong-Passw0rd!"})
    locked = client.post(
        "/api/v1/auth/login", json={"username": "ga.steward", "password": factories.PASSWORD}
    )
    assert locked.status_code == 401  # issue #12: the same answer as a wrong password, no account_locked

    portal_login(client, "security", "/admin/users")
    assert "登录等待至" in page(client, "/admin/users")
    detail = page(client, "/admin/users/ga.steward")
    assert "登录等待至" in detail and "解锁账号" in detail
    assert user_of(client, "ga.steward")["locked_until"] is not None
    done = post(client, "/admin/users/ga.steward/unlock", detail)
    assert (done.status_code, done.headers["location"]) == (303, "/admin/users/ga.steward?done=unlocked")
    assert user_of(client, "ga.steward")["locked_until"] is None
    assert "账号已解锁" in page(client, done.headers["location"])
    factories.login(client, "ga.steward")  # logs in again


def test_department_admin_manages_only_own_department(client: TestClient, db: Database) -> None:
    factories.city(db)
    portal_login(client, "ga.admin", "/admin")
    index = page(client, "/admin")
    assert 'href="/admin/users"' in index and 'href="/admin/settings"' not in index
    listed = page(client, "/admin/users")
    assert "ga.steward" in listed and "ga.admin" in listed
    assert "mz.admin" not in listed and "security" not in listed
    page(client, "/admin/users/mz.admin", status=403)
    page(client, "/admin/users?department=MZ", status=403)
    page(client, "/admin/settings", status=403)
    page(client, "/admin/departments", status=200)

    new = page(client, "/admin/users/new")
    assert 'value="GA"' in new and 'value="MZ"' not in new
    refused = post(
        client,
        "/admin/users",
        new,
        username="mz.wang",
        display_name="王民",
        department_code="MZ",
        password=factories.PASSWORD,
    )
    assert refused.status_code == 403
    made = post(
        client,
        "/admin/users",
        new,
        username="ga.wang",
        display_name="王警",
        department_code="GA",
        password=factories.PASSWORD,
        roles=["data_user"],
    )
    assert made.status_code == 303
    assert user_of(client, "ga.wang")["roles"] == ["data_user"]

    # Another department's user cannot be disabled, even with a valid form token.
    steward = page(client, "/admin/users/ga.steward")
    assert post(client, "/admin/users/mz.admin/disable", steward).status_code == 403
    portal_login(client, "admin", "/")
    assert user_of(client, "mz.admin")["is_active"] is True


def test_data_user_is_refused_and_csrf_is_required(client: TestClient, db: Database) -> None:
    factories.city(db)
    factories.user(db, "mz.user", "MZ", Role.DATA_USER)
    portal_login(client, "mz.user", "/")
    assert 'href="/admin"' not in page(client, "/")
    for path in (
        "/admin",
        "/admin/departments",
        "/admin/departments/MZ",
        "/admin/users",
        "/admin/roles",
        "/admin/code-sets",
        "/admin/settings",
    ):
        page(client, path, status=403)

    portal_login(client, "admin", "/admin")
    for data in ({}, {"csrf_token": "0" * 64}):
        response = client.post(
            "/admin/departments",
            data={"code": "WJ", "name": "测试市卫健委", "division_code": "990100", "level": "city", **data},
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 403 and "csrf" in response.text.lower()
    response = client.get("/api/v1/departments/WJ")
    assert response.status_code == 404


def test_roles_matrix_and_settings_hide_secrets(client: TestClient, db: Database) -> None:
    factories.city(db)
    portal_login(client, "admin", "/admin")
    roles = page(client, "/admin/roles")
    assert "平台管理员 *" in roles and "部门管理员" in roles and "管理部门" in roles
    assert "本部门" in roles and "全部" in roles

    settings = page(client, "/admin/settings")
    assert TEST_SECRET not in settings and TEST_AUDIT_KEY not in settings
    assert "GOVSHARE_SECRET_KEY" in settings and "已设置（不显示）" in settings
    assert "GOVSHARE_LOGIN_MAX_FAILURES" in settings and "<td>3</td>" in settings
    assert "GOVSHARE_SESSION_TTL_MINUTES" in settings and "提供部门答复时限" in settings
    assert "10 个工作日" in settings
    # A password in the database URL is masked.
    url = client.app.state.settings.resolved_database_url  # type: ignore[attr-defined]
    if "@" in url and ":" in url.split("@")[0].split("//")[1]:
        password = url.split("@")[0].split(":")[-1]
        assert password not in settings


def test_code_set_import_add_and_edit(client: TestClient, db: Database) -> None:
    factories.city(db)
    portal_login(client, "admin", "/admin/code-sets")
    listing = page(client, "/admin/code-sets")
    assert 'enctype="multipart/form-data"' in listing

    csv = "代码,名称\n1,一级\n2,二级\n".encode()
    fields = {"code": "T-JB", "version": "2024", "name": "测试级别代码"}
    imported = client.post(
        "/admin/code-sets/import",
        data={"csrf_token": token(listing), **fields},
        files={"file": ("jb.csv", csv, "text/csv")},
        headers=HTML,
        follow_redirects=False,
    )
    assert (imported.status_code, imported.headers["location"]) == (
        303,
        "/admin/code-sets/T-JB?done=imported",
    )
    codes = api(client, "/api/v1/standards/code-sets/T-JB/codes")
    assert isinstance(codes, dict) and [c["code"] for c in codes["items"]] == ["1", "2"]

    # Without the token the import is refused and nothing is written.
    refused = client.post(
        "/admin/code-sets/import",
        data={**fields, "code": "T-JB2"},
        files={"file": ("jb.csv", csv, "text/csv")},
        headers=HTML,
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/standards/code-sets/T-JB2").status_code == 404
    # A row error is shown in Chinese.
    broken = client.post(
        "/admin/code-sets/import",
        data={"csrf_token": token(listing), **fields, "code": "T-JB3"},
        files={"file": ("jb.csv", "代码,名称\n1,\n".encode(), "text/csv")},
        headers=HTML,
        follow_redirects=False,
    )
    assert broken.status_code == 422 and "名称不能为空" in broken.text

    detail = page(client, "/admin/code-sets/T-JB")
    assert "一级" in detail and "增加代码" in detail
    version = re.search(r'id="a-version" name="version" required maxlength="32" value="([^"]+)"', detail)
    assert version
    added = post(
        client,
        "/admin/code-sets/T-JB/codes",
        detail,
        value="3",
        label="三级",
        note="新增",
        version=version.group(1),
    )
    assert (added.status_code, added.headers["location"]) == (303, "/admin/code-sets/T-JB?done=code")
    shown = page(client, added.headers["location"])
    assert "三级" in shown and "代码已保存为代码集的新版本" in shown
    codes = api(client, "/api/v1/standards/code-sets/T-JB/codes")
    assert isinstance(codes, dict)
    assert codes["version"] == version.group(1)
    assert [(c["code"], c["label"]) for c in codes["items"]] == [("1", "一级"), ("2", "二级"), ("3", "三级")]
    old = api(client, "/api/v1/standards/code-sets/T-JB/codes?version=2024")
    assert isinstance(old, dict) and len(old["items"]) == 2  # the earlier version is unchanged

    # Editing a code: the version number already taken is refused with the service's message.
    dup = post(
        client,
        "/admin/code-sets/T-JB/codes",
        shown,
        position="2",
        value="2",
        label="第二级",
        version=version.group(1),
    )
    assert dup.status_code == 409 and "已有版本" in dup.text and 'value="第二级"' in dup.text
    edited = post(
        client, "/admin/code-sets/T-JB/codes", shown, position="2", value="2", label="第二级", version="v3"
    )
    assert edited.status_code == 303
    codes = api(client, "/api/v1/standards/code-sets/T-JB/codes")
    assert isinstance(codes, dict) and codes["version"] == "v3"
    assert [c["label"] for c in codes["items"]] == ["一级", "第二级", "三级"]

    # A code without a token changes nothing.
    response = client.post(
        "/admin/code-sets/T-JB/codes",
        data={"value": "4", "label": "四级", "version": "v4"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert api(client, "/api/v1/standards/code-sets/T-JB")["current_version"] == "v3"  # type: ignore[index]

    # Built-in national code sets are changed by file import only.
    builtin = next(s for s in api(client, "/api/v1/standards/code-sets") if s["is_builtin"])  # type: ignore[attr-defined]
    assert "逐条修改" in page(client, f"/admin/code-sets/{builtin['code']}")


def test_settings_rows_mask_database_password_and_tokens(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        data_dir=tmp_path,
        database_url="postgresql+psycopg://gs:S3cret-Pw@db.example/govshare?sslmode=require&password=Qw-9",
        secret_key=SecretStr(TEST_SECRET),
        audit_key=SecretStr(TEST_AUDIT_KEY),
        metrics_token=SecretStr("metrics-token-value-123"),
    )
    shown = repr(settings_rows(settings))
    for secret in ("S3cret-Pw", "Qw-9", "metrics-token-value-123", TEST_SECRET, TEST_AUDIT_KEY):
        assert secret not in shown
    assert "postgresql+psycopg://gs:***@db.example/govshare" in shown and "sslmode=require" in shown
    assert "GOVSHARE_DATABASE_URL" in shown and "GOVSHARE_METRICS_TOKEN" in shown
