"""The docs that restate the code are generated from it (`scripts/gen_docs.py`): a role, permission or
route-check kind added or changed without regenerating them fails here (issue #13: the roles table listed
12 permissions of 30, the route checks 4 kinds of 6)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from govshare.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from govshare.web import deps

ROOT = Path(__file__).resolve().parent.parent


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_docs_match_the_code() -> None:
    stale = _generator().stale_files()
    assert not stale, f"run `python scripts/gen_docs.py`: {[p.name for p in stale]} out of date"


def test_every_generated_part_is_in_the_docs() -> None:
    text = "\n".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    for name in _generator().RENDERERS:
        assert f"<!-- generated:{name} -->" in text and f"<!-- /generated:{name} -->" in text, name


def test_tables_name_every_role_permission_and_route_check() -> None:
    generator = _generator()
    roles, permissions, checks = (
        generator.render_roles(),
        generator.render_permissions(),
        generator.render_route_checks(),
    )
    assert all(f"`{role}` {role.label}" in roles for role in Role)
    assert all(f"{p} " in roles for grants in ROLE_PERMISSIONS.values() for p in grants)
    assert all(f"| `{p}` |" in permissions for p in Permission)
    # The six kinds of issue #13, found by their mark rather than listed by hand.
    assert set(generator.route_check_kinds()) >= {
        "require",
        "authenticated",
        "public",
        "public_actor",
        "public_reader",
        "require_application",
    }
    assert all(f"`{name}(" in checks for name in generator.route_check_kinds())
    assert all(hasattr(deps, name) for name in generator.route_check_kinds())


def test_a_stale_table_is_detected(tmp_path: Path) -> None:
    generator = _generator()
    page = tmp_path / "page.md"
    page.write_text("intro\n<!-- generated:roles -->\n| old |\n<!-- /generated:roles -->\nend\n")
    assert generator.stale_files(tmp_path) == [page]
    page.write_text(generator.regenerate(page.read_text()))
    assert generator.stale_files(tmp_path) == []
    assert page.read_text().startswith("intro\n<!-- generated:roles -->\n| Role (label) |")
