"""The kernel contract of import-linter (`pyproject.toml`) lists the kernel packages and, as forbidden, every
other package of govshare: a new package that is in neither list would escape it, so this test fails until
the new package is put in one of them."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import govshare

ROOT = Path(__file__).resolve().parents[2]


def _kernel_contract() -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (kernel,) = [c for c in contracts if c["name"].startswith("The shared kernel")]
    return kernel


def test_every_package_is_either_kernel_or_forbidden_to_the_kernel() -> None:
    kernel = _kernel_contract()
    listed = {m.removeprefix("govshare.") for m in kernel["source_modules"] + kernel["forbidden_modules"]}
    modules = {m.name for m in pkgutil.iter_modules(govshare.__path__) if m.name not in {"__main__"}}
    assert {"core", "jobs", "overview", "sharing"} <= modules
    assert sorted(modules - listed) == []
    assert sorted(listed - modules) == []  # no stale name either
