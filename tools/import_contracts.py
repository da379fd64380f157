"""A custom import-linter contract: a domain's SQL modules are private to that domain.

import-linter's own contract types cannot say "`govshare.<d>.repository` may be imported from inside
`govshare.<d>` only" for every domain at once (a `forbidden` contract would also forbid the domain's own
repository, and one contract per domain forgets the next domain). This contract does, and it finds the
domains itself: every sub-package of the root package that is not listed in `shared_packages` is a
domain, so a new domain package is covered the day it appears.

Registered in pyproject.toml (`[tool.importlinter] contract_types`); `lint-imports` puts the working
directory on `sys.path`, so `make lint` run from the repository root finds this module.
"""

from __future__ import annotations

import fnmatch

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class _DomainContract(Contract):
    """Finds the domains: sub-packages of `root_package` not named in `shared_packages`."""

    root_package = fields.StringField()
    shared_packages = fields.SetField(subfield=fields.StringField())

    def _domains(self, graph: grimp.ImportGraph) -> list[str]:
        root = str(self.root_package)
        shared = {f"{root}.{name}" for name in self.shared_packages}  # type: ignore[attr-defined]
        return sorted(
            child for child in graph.find_children(root) if child not in shared and graph.find_children(child)
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            lines = ", ".join(str(n) for n in violation["lines"])
            output.print_error(
                f"- {violation['importer']} -> {violation['imported']} (l.{lines}): {violation['why']}",
                bold=False,
            )
            output.new_line()


def _lines(graph: grimp.ImportGraph, importer: str, imported: str) -> list[int]:
    return [d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)]


class DomainPrivateContract(_DomainContract):
    """Modules named like `private_modules` inside a domain are imported only from that same domain.

    Options:
        - root_package: the package whose sub-packages are domains (e.g. `govshare`).
        - shared_packages: sub-packages of the root that are not domains (core, models, web…); their
          private-looking modules are not checked, and they may not import a domain's private module
          either unless listed in `allowed_importers`.
        - private_modules: fnmatch patterns of a domain module's last name (`repository`, `*queries`).
        - allowed_importers: modules (or packages) that may import any domain's private modules.
    """

    type_name = "domain_private"

    private_modules = fields.SetField(subfield=fields.StringField())
    allowed_importers = fields.SetField(subfield=fields.StringField(), required=False)

    def _is_private(self, module: str, domain: str) -> bool:
        if module == domain:
            return False
        last = module.rsplit(".", 1)[-1]
        return any(fnmatch.fnmatchcase(last, p) for p in self.private_modules)  # type: ignore[attr-defined]

    def _allowed(self, importer: str) -> bool:
        for allowed in self.allowed_importers or ():  # type: ignore[attr-defined]
            if importer == allowed or importer.startswith(f"{allowed}."):
                return True
        return False

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        violations: list[dict[str, object]] = []
        for domain in self._domains(graph):
            for module in sorted(graph.find_descendants(domain)):
                if not self._is_private(module, domain):
                    continue
                for importer in sorted(graph.find_modules_that_directly_import(module)):
                    if importer == domain or importer.startswith(f"{domain}.") or self._allowed(importer):
                        continue
                    violations.append(
                        {
                            "importer": importer,
                            "imported": module,
                            "lines": _lines(graph, importer, module),
                            "why": "another domain's SQL module; call its service or readers module",
                        }
                    )
        return ContractCheck(kept=not violations, metadata={"violations": violations})


class DomainHttpFreeContract(_DomainContract):
    """Only a domain's edge modules (routes, portal pages, CLI verbs) import the web layer.

    Options (besides root_package and shared_packages):
        - edge_modules: fnmatch patterns; a domain module is an edge when any part of its name below
          the domain matches (`portal` covers `catalog.portal.review`).
        - forbidden_modules: modules (and their descendants) that non-edge domain modules must not
          import directly: `govshare.web`, `fastapi`, `starlette`.
    """

    type_name = "domain_http_free"

    edge_modules = fields.SetField(subfield=fields.StringField())
    forbidden_modules = fields.SetField(subfield=fields.StringField())

    def _is_edge(self, module: str, domain: str) -> bool:
        parts = module[len(domain) + 1 :].split(".")
        patterns = self.edge_modules  # type: ignore[attr-defined]
        return any(fnmatch.fnmatchcase(part, p) for part in parts for p in patterns)

    def _is_forbidden(self, module: str) -> bool:
        return any(module == f or module.startswith(f"{f}.") for f in self.forbidden_modules)  # type: ignore[attr-defined]

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        violations: list[dict[str, object]] = []
        for domain in self._domains(graph):
            for module in sorted({domain, *graph.find_descendants(domain)}):
                if module != domain and self._is_edge(module, domain):
                    continue
                for imported in sorted(graph.find_modules_directly_imported_by(module)):
                    if self._is_forbidden(imported):
                        violations.append(
                            {
                                "importer": module,
                                "imported": imported,
                                "lines": _lines(graph, module, imported),
                                "why": "only api/portal/cli modules import the web layer",
                            }
                        )
        return ContractCheck(kept=not violations, metadata={"violations": violations})
