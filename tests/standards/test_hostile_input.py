"""The project's hostile-input probes (tests/web/test_hostile_input.py), run on the standards routes.

That module reads the operations from the OpenAPI document of an app it builds at import time; here it is
loaded again with `create_app` wrapped to add the standards routes, and its tests are re-exported, so
every probe reaches the standards endpoints too. Once the web app includes the standards router itself,
the original module covers them and this file can go.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import govshare.web.app as web_app
from govshare.standards.api import router

_ORIGINAL = web_app.create_app


def _with_standards(*args: Any, **kwargs: Any) -> Any:
    app = _ORIGINAL(*args, **kwargs)
    if not any(getattr(r, "path", "").startswith(router.prefix) for r in app.routes):
        app.router.routes.extend(router.routes)
    return app


def _load() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "web" / "test_hostile_input.py"
    spec = importlib.util.spec_from_file_location("tests.standards._hostile_input", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    web_app.create_app = _with_standards  # type: ignore[assignment]
    try:
        spec.loader.exec_module(module)
    finally:
        web_app.create_app = _ORIGINAL  # type: ignore[assignment]
    return module


_hostile = _load()
_STANDARDS = [op for op in _hostile.OPERATIONS if op.path.startswith(router.prefix)]

cheap_password_hashing = _hostile.cheap_password_hashing
node = _hostile.node


@pytest.mark.parametrize("op", _STANDARDS, ids=lambda op: f"{op.method} {op.path}")
def test_hostile_input_to_the_standards_routes(client: Any, node: Any, op: Any) -> None:
    _hostile.test_hostile_input_gets_a_4xx_problem_never_a_500(client, node, op)


def test_the_standards_operations_are_probed() -> None:
    assert len(_STANDARDS) == 11
