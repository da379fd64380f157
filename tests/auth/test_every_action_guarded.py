"""Every entry point into a domain that acts for someone declares its guard (issue #13, "Done when").

`tests/web/test_route_authorization.py` already fails on a public function of a `*service` module
without `@action`/`@public_action`/`@internal`. This test closes the gap around it: any public function,
in any non-edge module of a domain, that takes an `actor` is an action someone may call, so it must be
registered with the guard too, unless it is listed below with the reason it needs no guard of its own.
A new helper that takes an actor therefore fails here until it is guarded or argued for.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import govshare
from govshare.auth.actor import Actor
from govshare.auth.guard import ACTIONS, action
from govshare.auth.permissions import Permission
from govshare.errors import PermissionDenied

# Not domains: the kernel, the ORM models, the edges (web, cli) and the demo seeder.
SHARED = {"core", "auth", "models", "migrations", "web", "cli", "demo"}
# A domain's edge modules: routes, portal pages, CLI verbs. They call guarded services.
EDGES = ("api", "*_api", "portal", "cli", "*_cli")

# Public functions that take an actor but are not actions, each with the reason.
NOT_ACTIONS = {
    # policies modules are the policy layer: predicates and checks an action calls inside its body
    # (matched by module below, listed here for the record)
    # Jobs run as the system actor, started by the scheduler/CLI; each calls guarded service actions.
    "govshare.backup.jobs.run_scheduled": "job entry point; calls backup.service actions",
    "govshare.collection.jobs.run_due": "job entry point; calls collection.service actions",
    "govshare.collection.jobs.run_started": "job entry point; continues a batch its action started",
    "govshare.collection.jobs.run_batch_job": "job entry point; runs a batch its starter's action authorized",
    "govshare.collection.jobs.watchdog": "job entry point; calls collection.service.detect_dead_batches",
    "govshare.jobs.actors.snapshot": "serialises the actor a queued job will run as; decides nothing",
    # Helpers called from inside a guarded action, after that action's check.
    "govshare.catalog.workflow.allowed_actions": "lists the steps an actor may take; each step is guarded",
    "govshare.collection.pipeline.execute": "runs a batch that collection.service.run_* authorized",
    "govshare.sharing.access.deny": "records a refusal decided by the calling data-API action",
    "govshare.sharing.access.key_of": "names the caller's key in an audit entry; decides nothing",
    "govshare.sharing.access.open_access": "the grant check itself, called by records.open_call",
    "govshare.sharing.access.record_probe": "audits a look-up made by sharing.data_service.person_*",
    "govshare.sharing.records.open_call": "opens a data-API call for the guarded data_service actions",
    "govshare.sharing.workflow.application_for": "resolves the applicant inside sharing.service actions",
    "govshare.sharing.workflow.audit_request": "writes the audit entry of a sharing.service action",
    "govshare.sharing.workflow.consumer_may": "a predicate used by sharing.service actions",
}


def _domain_modules() -> list[ModuleType]:
    modules = []
    for info in pkgutil.walk_packages(govshare.__path__, "govshare."):
        parts = info.name.split(".")
        if len(parts) < 3 or parts[1] in SHARED:
            continue
        if any(fnmatch.fnmatchcase(part, edge) for part in parts[2:] for edge in EDGES):
            continue
        modules.append(importlib.import_module(info.name))
    return modules


def _unguarded_actor_functions() -> list[str]:
    found = []
    for module in _domain_modules():
        if module.__name__.rsplit(".", 1)[-1] == "policies":
            continue
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if func.__module__ != module.__name__ or name.startswith("_"):
                continue
            if "actor" in inspect.signature(func).parameters and not hasattr(func, "__govshare_action__"):
                found.append(f"{module.__name__}.{name}")
    return sorted(found)


def test_every_public_function_taking_an_actor_is_guarded_or_argued_for() -> None:
    unguarded = [name for name in _unguarded_actor_functions() if name not in NOT_ACTIONS]
    assert unguarded == [], (
        "functions that take an actor but declare no @action/@public_action/@internal "
        f"(guard them, or add them to NOT_ACTIONS with the reason): {unguarded}"
    )


def test_the_allow_list_names_only_functions_that_still_exist_unguarded() -> None:
    """A stale entry would silently allow a future function of the same name."""
    assert sorted(set(NOT_ACTIONS) - set(_unguarded_actor_functions())) == []


def test_every_service_module_of_every_domain_is_walked() -> None:
    walked = {m.__name__ for m in _domain_modules()}
    assert {"govshare.catalog.service", "govshare.sharing.service", "govshare.collection.service"} <= walked
    assert not any(name.endswith((".api", ".cli")) for name in walked)


def test_the_guard_refuses_before_the_body_runs() -> None:
    ran = []

    @action(Permission.AUDIT_READ, name="test.guarded_probe")
    def probe(session: object, actor: Actor) -> None:
        ran.append(actor)

    try:
        nobody = Actor(kind="user", id="1", name="nobody")
        with pytest.raises(PermissionDenied):
            probe(None, nobody)
        assert ran == []
        with pytest.raises(TypeError):
            probe(None, None)  # type: ignore[arg-type]
    finally:
        ACTIONS.pop("test.guarded_probe", None)
