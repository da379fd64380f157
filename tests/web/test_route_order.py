"""No route of the node depends on the order routes were added (issue #13: pages were spliced in front with
`routes[:0] =` so that a literal page such as `/collection/sources/guided` or `/admin/users/new` came before
the parameterised route that would otherwise take it for an id). Every literal path, with each of its
methods, must be matched by its own route only: then the order cannot matter."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match


def _full_matches(app: FastAPI, path: str, method: str) -> list[str]:
    scope = {"type": "http", "path": path, "method": method, "root_path": ""}
    return [
        f"{sorted(r.methods)} {r.path}"
        for r in app.routes
        if isinstance(r, APIRoute) and r.matches(scope)[0] == Match.FULL
    ]


def test_every_literal_path_is_matched_by_its_own_route_only(app: FastAPI) -> None:
    literal = [r for r in app.routes if isinstance(r, APIRoute) and "{" not in r.path]
    assert len(literal) > 50
    shadowed = {}
    for route in literal:
        for method in route.methods:
            matches = _full_matches(app, route.path, method)
            if matches != [f"{sorted(route.methods)} {route.path}"]:
                shadowed[f"{method} {route.path}"] = matches
    assert shadowed == {}


def test_the_new_account_form_and_an_account_page_are_different_routes(app: FastAPI) -> None:
    assert _full_matches(app, "/admin/users/new", "GET") == ["['GET'] /admin/users/new"]
    account_page = "['GET'] /admin/users/{username:account_page}"
    assert _full_matches(app, "/admin/users/mz.admin", "GET") == [account_page]
