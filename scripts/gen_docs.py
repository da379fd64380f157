"""Regenerate the parts of the docs that restate the code, so they cannot drift from it.

Each generated part sits between marker comments in a `docs/*.md` file:

    <!-- generated:roles -->  … <!-- /generated:roles -->
    <!-- generated:permissions -->  … <!-- /generated:permissions -->
    <!-- generated:route-checks -->  … <!-- /generated:route-checks -->

`python scripts/gen_docs.py` rewrites them from `auth/permissions.py` and `web/deps.py`;
`python scripts/gen_docs.py --check` lists the stale files and exits 1 (`tests/test_docs.py` does the
same, so a permission, role or route-check kind added without its docs fails the suite).
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from fastapi import params

from govshare.auth import permissions as perms
from govshare.web import deps

DOCS = Path(__file__).resolve().parent.parent / "docs"
SCOPE_LETTER = {perms.Scope.ALL: "A", perms.Scope.OWN_DEPARTMENT: "D"}


def _permission_notes() -> dict[str, str]:
    """The trailing comment of each `Permission` member in its source: what the permission is for."""
    notes = {}
    for line in inspect.getsource(perms.Permission).splitlines():
        found = re.match(r'\s*(\w+)\s*=\s*"[^"]+"\s*#\s*(?:noqa:\s*\S+\s*-\s*)?(.*)$', line)
        if found:
            notes[found.group(1)] = found.group(2).strip()
    return notes


def render_roles() -> str:
    """Each role with its label and its permissions, A = the whole node, D = own department."""
    lines = ["| Role (label) | Permissions (A = all, D = own department) |", "|---|---|"]
    for role in perms.Role:
        granted = ", ".join(f"{p} {SCOPE_LETTER[s]}" for p, s in perms.ROLE_PERMISSIONS[role].items())
        lines.append(f"| `{role}` {role.label} | {granted or '(none)'} |")
    return "\n".join(lines)


def render_permissions() -> str:
    """Each permission, who holds it, whether an application key may carry it, and its note."""
    notes = _permission_notes()
    lines = ["| Permission | Held by (A / D) | Application key | Note |", "|---|---|---|---|"]
    for permission in perms.Permission:
        holders = ", ".join(
            f"`{role}` {SCOPE_LETTER[grants[permission]]}"
            for role, grants in perms.ROLE_PERMISSIONS.items()
            if permission in grants
        )
        key = ""
        if permission in perms.APPLICATION_GRANTABLE:
            key = "default" if permission in perms.APPLICATION_DEFAULT else "on request"
            if permission in perms.APPLICATION_OWN_DEPARTMENT:
                key += ", own department"
        note = notes.get(permission.name, "").replace("|", "\\|")
        nobody = "application keys only" if key else "console only"
        lines.append(f"| `{permission}` | {holders or nobody} | {key} | {note} |")
    return "\n".join(lines)


def route_check_kinds() -> dict[str, Callable[..., object]]:
    """The factories in `web/deps.py` whose dependency carries the route-check mark: each is called with
    placeholder arguments (permissions none, reasons a string) and kept if what it returns is marked."""
    kinds: dict[str, Callable[..., object]] = {}
    for name, function in inspect.getmembers(deps, inspect.isfunction):
        if name.startswith("_") or function.__module__ != deps.__name__:
            continue
        parameters = inspect.signature(function).parameters.values()
        if not all(p.kind is p.VAR_POSITIONAL or p.annotation in ("str", str) for p in parameters):
            continue
        made = function(*("placeholder" for p in parameters if p.kind is not p.VAR_POSITIONAL))
        if isinstance(made, params.Depends) and hasattr(made.dependency, deps.ROUTE_CHECK_ATTR):
            kinds[name] = function
    return kinds


def render_route_checks() -> str:
    """Each route-check kind, its signature and the first paragraph of its docstring."""
    lines = ["| Route check | What it admits |", "|---|---|"]
    for name, function in route_check_kinds().items():
        signature = inspect.signature(function)
        arguments = ", ".join(
            f"*{p.name}" if p.kind is p.VAR_POSITIONAL else p.name for p in signature.parameters.values()
        )
        summary = " ".join((inspect.getdoc(function) or "").split("\n\n")[0].split()).replace("|", "\\|")
        lines.append(f"| `{name}({arguments})` | {summary} |")
    return "\n".join(lines)


RENDERERS: dict[str, Callable[[], str]] = {
    "roles": render_roles,
    "permissions": render_permissions,
    "route-checks": render_route_checks,
}


def regenerate(text: str) -> str:
    """`text` with every generated part replaced by what the code says now."""
    for name, render in RENDERERS.items():
        start, end = f"<!-- generated:{name} -->", f"<!-- /generated:{name} -->"
        pattern = re.compile(rf"({re.escape(start)}\n)(?:.*?\n)?({re.escape(end)})", re.S)
        text = pattern.sub(partial(_fill, render()), text)
    return text


def _fill(table: str, found: re.Match[str]) -> str:
    return found.group(1) + table + "\n" + found.group(2)


def stale_files(docs: Path = DOCS) -> list[Path]:
    return [path for path in sorted(docs.glob("*.md")) if regenerate(text := path.read_text()) != text]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = stale_files()
        for path in stale:
            print(f"{path}: generated part out of date; run python scripts/gen_docs.py", file=sys.stderr)
        return 1 if stale else 0
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text()
        updated = regenerate(text)
        if updated != text:
            path.write_text(updated)
            print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
