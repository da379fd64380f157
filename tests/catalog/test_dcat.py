"""The DCAT-AP 3.0.1 export: mapping, formats, paging, incremental harvesting, and SHACL validation against
the official shapes (tests/data/dcat-ap-3.0.1, copied from shared/reference), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SH, SKOS
from sqlalchemy import event
from typer.testing import CliRunner

from govshare.auth.permissions import Permission
from govshare.catalog import dcat, dcat_service, service
from govshare.catalog.schemas import ResourceDefinition
from govshare.catalog.vocabulary import UpdateCycle
from govshare.cli.main import app as cli_app
from govshare.core.clock import BEIJING, utcnow
from govshare.core.db import Database
from govshare.settings import Settings
from tests import factories

SHAPES_DIR = Path(__file__).resolve().parents[1] / "data" / "dcat-ap-3.0.1"  # a copy of shared/reference
# Plain namespaces: rdflib's closed DCAT and XSD namespaces warn when pytest probes module attributes.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ACCESS = Namespace("http://publications.europa.eu/resource/authority/access-right/")
FREQ = Namespace("http://publications.europa.eu/resource/authority/frequency/")
THEME = Namespace("http://publications.europa.eu/resource/authority/data-theme/")
BASE = "http://testserver"
URL = "/api/v1/catalog/dcat"

# What the recommended shapes may still warn about with this fixture (docs/dcat.md explains each):
# (class of the focus node, property path).
EXPECTED_WARNINGS = {
    (DCAT.Catalog, DCTERMS.license),
    (DCAT.Dataset, DCTERMS.temporal),
    (DCAT.Dataset, DCAT.distribution),  # 不予共享 resources have no distribution
    (DCAT.Distribution, DCTERMS.license),
    (DCAT.Distribution, DCTERMS["format"]),  # a format type with no EU file-type entry (PostgreSQL)
    (DCAT.Distribution, URIRef("http://data.europa.eu/r5r/availability")),
    (DCTERMS.Location, DCAT.bbox),
    (DCTERMS.Location, DCAT.centroid),
}


def _definition(name: str, provider: str, **fields: Any) -> ResourceDefinition:
    data: dict[str, Any] = {
        "name": name,
        "provider": provider,
        "summary": f"{name}的摘要",
        "classification": {"category": "部门", "class": "3", "item": "01", "catalog": "001"},
        "format": {"category": "数据库", "type": "PostgreSQL"},
        "share": {"type": "无条件", "methods": ["接口"]},
        "update_cycle": "每日",
        "items": [{"name": "记录编号", "field": "jlbh", "type": "C", "length": 32, "key": True}],
    }
    data.update(fields)
    return ResourceDefinition.model_validate(data)


POPULATION = _definition(
    "人口基本信息",
    "GA",
    summary="全市户籍人口的基本信息",
    classification={"category": "基础", "kind": "人口", "class": "1", "item": "01", "catalog": "001"},
    share={"type": "无条件", "methods": ["接口", "数据库"]},
    update_cycle="实时",
    items=[
        {"name": "公民身份号码", "field": "gmsfhm", "type": "C", "length": 18, "key": True, "base": True},
        {"name": "姓名", "field": "xm", "type": "C", "length": 50, "base": True},
    ],
)
MARRIAGE = _definition(
    "婚姻登记信息",
    "MZ",
    summary="结婚、离婚登记信息",
    classification={"category": "主题", "theme": "社会保障", "class": "2", "item": "01", "catalog": "002"},
    format={"category": "电子表格", "type": "xlsx"},
    share={
        "type": "有条件",
        "condition": "仅限于公安、民政部门用于婚姻状况核验",
        "methods": ["接口", "文件"],
    },
    legal_basis="《婚姻登记条例》",
    update_cycle="每月",
    items=[
        {"name": "登记证号", "field": "djzh", "type": "C", "length": 30, "key": True},
        {"name": "登记日期", "field": "djrq", "type": "D"},
    ],
)
CASES = _definition(
    "刑事案件信息",
    "GA",
    share={"type": "不予", "methods": []},
    legal_basis="《中华人民共和国刑事诉讼法》",
    update_cycle="其他",
)
DRAFT = _definition(
    "流动人口登记草稿",
    "GA",
    classification={"category": "部门", "class": "3", "item": "02", "catalog": "001"},
)
WITHDRAWN = _definition(
    "旧户籍档案",
    "GA",
    update_cycle="每年",
    classification={"category": "部门", "class": "3", "item": "03", "catalog": "001"},
)


@dataclass(frozen=True)
class Catalog:
    db: Database
    key: str
    codes: dict[str, str]  # name → resource code
    withdrawn_code: str


@pytest.fixture
def catalog(db: Database) -> Catalog:
    factories.city(db)
    with db.transaction() as session:
        report = service.apply_definitions(
            session, factories.SYSTEM, [POPULATION, MARRIAGE, CASES, WITHDRAWN], publish=True
        )
        codes = {o.name: o.code for o in report.resources if o.code}
        withdrawn = next(o for o in report.resources if o.name == WITHDRAWN.name)
        service.withdraw(session, factories.SYSTEM, withdrawn.resource_id, "档案已并入人口基本信息")
        service.apply_definitions(session, factories.SYSTEM, [DRAFT], publish=False)
        # A published resource with a new draft version: the export shows the version in force.
        service.apply_definitions(
            session,
            factories.SYSTEM,
            [POPULATION.model_copy(update={"summary": "草稿中的新摘要"})],
            publish=False,
        )
    key = factories.application_key(db, "harvester", "DSJ")
    return Catalog(db, key, {n: c for n, c in codes.items() if n != WITHDRAWN.name}, codes[WITHDRAWN.name])


def _get(client: TestClient, catalog: Catalog, url: str = URL, **params: Any) -> Any:
    response = client.get(url, params=params or None, headers=factories.bearer(catalog.key))
    assert response.status_code == 200, response.text
    return response


def _turtle(client: TestClient, catalog: Catalog, **params: Any) -> Graph:
    response = _get(client, catalog, format="turtle", **params)
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    return Graph().parse(data=response.text, format="turtle")


def _datasets(graph: Graph) -> dict[str, URIRef]:
    """identifier → dataset IRI"""
    return {
        str(graph.value(d, DCTERMS.identifier)): d
        for d in graph.subjects(RDF.type, DCAT.Dataset)
        if isinstance(d, URIRef)
    }


def _zh(graph: Graph, subject: Any, predicate: URIRef) -> str:
    value = graph.value(subject, predicate)
    assert isinstance(value, Literal), f"{subject} has no {predicate}"
    assert value.language == "zh"
    return str(value)


# ---------------------------------------------------------------- mapping


def test_turtle_export_maps_published_resources(client: TestClient, catalog: Catalog) -> None:
    graph = _turtle(client, catalog)
    datasets = _datasets(graph)
    assert set(datasets) == set(catalog.codes.values())  # no draft, no withdrawn resource
    assert catalog.withdrawn_code not in graph.serialize(format="turtle")
    assert not any(str(o) in (DRAFT.name, WITHDRAWN.name) for o in graph.objects())

    catalog_node = URIRef(f"{BASE}/catalog")
    assert (catalog_node, RDF.type, DCAT.Catalog) in graph
    assert _zh(graph, catalog_node, DCTERMS.title) == Settings(_env_file=None).node_name  # type: ignore[call-arg]
    publisher = graph.value(catalog_node, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph
    assert set(graph.objects(catalog_node, DCAT.dataset)) == set(datasets.values())

    expected = {
        POPULATION.name: (ACCESS.PUBLIC, FREQ.UPDATE_CONT, "测试市公安局"),
        MARRIAGE.name: (ACCESS.RESTRICTED, FREQ.MONTHLY, "测试市民政局"),
        CASES.name: (ACCESS.NON_PUBLIC, FREQ.OTHER, "测试市公安局"),
    }
    for name, (access, frequency, provider) in expected.items():
        code = catalog.codes[name]
        dataset = datasets[code]
        assert dataset == URIRef(f"{BASE}/catalog/resources/{code}")
        assert _zh(graph, dataset, DCTERMS.title) == name
        assert graph.value(dataset, DCTERMS.accessRights) == access
        assert (access, RDF.type, DCTERMS.RightsStatement) in graph
        assert graph.value(dataset, DCTERMS.accrualPeriodicity) == frequency
        assert (frequency, RDF.type, DCTERMS.Frequency) in graph
        agent = graph.value(dataset, DCTERMS.publisher)
        assert str(agent).startswith(f"{BASE}/departments/")
        assert (agent, RDF.type, FOAF.Agent) in graph
        assert _zh(graph, agent, FOAF.name) == provider
        for prop in (DCTERMS.issued, DCTERMS.modified):
            value = graph.value(dataset, prop)
            assert isinstance(value, Literal)
            assert value.datatype == XSD.dateTime
            assert isinstance(value.toPython(), datetime)
    assert len(set(graph.subjects(RDF.type, FOAF.Agent))) == 3  # the node, 公安局, 民政局: each once


def test_the_version_in_force_is_exported_not_the_draft(client: TestClient, catalog: Catalog) -> None:
    graph = _turtle(client, catalog)
    dataset = _datasets(graph)[catalog.codes[POPULATION.name]]
    assert _zh(graph, dataset, DCTERMS.description) == "全市户籍人口的基本信息"
    assert str(graph.value(dataset, URIRef(f"{DCAT}version"))) == "1"


def test_keywords_themes_rights_and_distributions(client: TestClient, catalog: Catalog) -> None:
    graph = _turtle(client, catalog)
    datasets = _datasets(graph)
    population = datasets[catalog.codes[POPULATION.name]]
    keywords = {str(k) for k in graph.objects(population, DCAT.keyword)}
    assert keywords == {"人口", "公民身份号码", "姓名"}
    local = URIRef(f"{BASE}/catalog/classification/base/population")
    themes = set(graph.objects(population, DCAT.theme))
    assert themes == {THEME.SOCI, local}
    assert _zh(graph, graph.value(local, SKOS.broader), SKOS.prefLabel) == "基础"
    for theme in themes:
        assert (theme, RDF.type, SKOS.Concept) in graph
        assert graph.value(theme, SKOS.prefLabel) is not None
    cases = datasets[catalog.codes[CASES.name]]
    assert set(graph.objects(cases, DCAT.theme)) == {
        THEME.GOVE,
        URIRef(f"{BASE}/catalog/classification/department"),
    }

    marriage = datasets[catalog.codes[MARRIAGE.name]]
    distribution = graph.value(marriage, DCAT.distribution)
    assert (distribution, RDF.type, DCAT.Distribution) in graph
    code = catalog.codes[MARRIAGE.name]
    assert graph.value(distribution, DCAT.accessURL) == URIRef(f"{BASE}/api/v1/catalog/codes/{code}")
    assert graph.value(distribution, DCTERMS["format"]) == URIRef(
        "http://publications.europa.eu/resource/authority/file-type/XLSX"
    )
    rights = graph.value(distribution, DCTERMS.rights)
    assert (rights, RDF.type, DCTERMS.RightsStatement) in graph
    statement = _zh(graph, rights, RDFS.label)
    assert "仅限于公安、民政部门用于婚姻状况核验" in statement
    assert "《婚姻登记条例》" in statement

    assert graph.value(cases, DCAT.distribution) is None  # 不予共享: nothing to access
    assert "《中华人民共和国刑事诉讼法》" in _zh(graph, graph.value(cases, DCTERMS.rights), RDFS.label)


def test_every_update_cycle_has_an_eu_frequency() -> None:
    assert set(dcat.FREQUENCIES) == set(UpdateCycle)


# ---------------------------------------------------------------- formats


def test_jsonld_is_the_default_and_says_the_same(client: TestClient, catalog: Catalog) -> None:
    response = _get(client, catalog)
    assert response.headers["content-type"] == "application/ld+json"
    document = json.loads(response.text)
    assert isinstance(document["@context"], dict)  # inline: nothing to fetch
    from_jsonld = Graph().parse(data=response.text, format="json-ld")
    from_turtle = _turtle(client, catalog)

    def without_paging(graph: Graph) -> Graph:
        kept = Graph()
        for triple in graph:
            if not any(URL in str(term) for term in triple):
                kept.add(triple)
        return kept

    assert isomorphic(without_paging(from_jsonld), without_paging(from_turtle))


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("text/turtle", "text/turtle; charset=utf-8"),
        ("application/ld+json", "application/ld+json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/ld+json"),
        ("application/ld+json;q=0.5, text/turtle", "text/turtle; charset=utf-8"),
    ],
)
def test_accept_header_selects_the_format(
    client: TestClient, catalog: Catalog, accept: str, media_type: str
) -> None:
    headers = {**factories.bearer(catalog.key), "Accept": accept}
    response = client.get(URL, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    # The query parameter wins over Accept.
    response = client.get(URL, params={"format": "jsonld"}, headers={**headers, "Accept": "text/turtle"})
    assert response.headers["content-type"] == "application/ld+json"


# ---------------------------------------------------------------- paging and harvesting


def test_paging_with_hydra_links(client: TestClient, catalog: Catalog) -> None:
    response = _get(client, catalog, format="turtle", page_size=2)
    first = Graph().parse(data=response.text, format="turtle")
    assert len(_datasets(first)) == 2
    view = first.value(predicate=RDF.type, object=HYDRA.PartialCollectionView)
    assert view == URIRef(f"{BASE}{URL}?format=turtle&page=1&page_size=2")
    collection = first.value(predicate=HYDRA.view, object=view)
    assert first.value(collection, HYDRA.totalItems).toPython() == 3  # type: ignore[union-attr]
    assert first.value(view, HYDRA.first) == view
    assert first.value(view, HYDRA.previous) is None
    next_url = first.value(view, HYDRA.next)
    assert next_url == URIRef(f"{BASE}{URL}?format=turtle&page=2&page_size=2")
    assert first.value(view, HYDRA.last) == next_url
    assert f'<{next_url}>; rel="next"' in response.headers["link"]

    second = Graph().parse(data=_get(client, catalog, str(next_url)).text, format="turtle")
    assert len(_datasets(second)) == 1
    view = second.value(predicate=RDF.type, object=HYDRA.PartialCollectionView)
    assert second.value(view, HYDRA.next) is None
    assert str(second.value(view, HYDRA.previous)).endswith("page=1&page_size=2")
    assert set(_datasets(first)) | set(_datasets(second)) == set(catalog.codes.values())

    beyond = _turtle(client, catalog, page=3, page_size=2)
    assert _datasets(beyond) == {}
    assert (URIRef(f"{BASE}/catalog"), RDF.type, DCAT.Catalog) in beyond


def test_modified_since_returns_only_changed_resources(client: TestClient, catalog: Catalog) -> None:
    cutoff = utcnow()
    with catalog.db.transaction() as session:
        service.apply_definitions(
            session, factories.SYSTEM, [MARRIAGE.model_copy(update={"summary": "新摘要"})], publish=True
        )
    changed = {catalog.codes[MARRIAGE.name]}

    graph = _turtle(client, catalog, modified_since=cutoff.isoformat())
    assert set(_datasets(graph)) == changed
    collection = graph.value(predicate=RDF.type, object=HYDRA.Collection)
    assert graph.value(collection, HYDRA.totalItems).toPython() == 1  # type: ignore[union-attr]
    assert "modified_since=" in str(collection)
    dataset = _datasets(graph)[catalog.codes[MARRIAGE.name]]
    assert str(graph.value(dataset, URIRef(f"{DCAT}version"))) == "2"
    assert graph.value(dataset, DCTERMS.modified).toPython() >= cutoff  # type: ignore[union-attr]

    # Without a zone the moment is Beijing time: the same instant written as Beijing wall-clock time…
    beijing = cutoff.astimezone(BEIJING).replace(tzinfo=None).isoformat()
    assert set(_datasets(_turtle(client, catalog, modified_since=beijing))) == changed
    # …while UTC wall-clock time read as Beijing time is eight hours earlier and includes everything.
    utc_naive = cutoff.astimezone(UTC).replace(tzinfo=None).isoformat()
    assert set(_datasets(_turtle(client, catalog, modified_since=utc_naive))) == set(catalog.codes.values())
    future = (cutoff + timedelta(days=1)).isoformat()
    assert _datasets(_turtle(client, catalog, modified_since=future)) == {}


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": 10_001}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 501}, "page_size"),
        ({"format": "rdfxml"}, "format"),
        ({"modified_since": "yesterday"}, "modified_since"),
    ],
)
def test_bad_parameters_are_problem_documents(
    client: TestClient, catalog: Catalog, params: dict[str, Any], field: str
) -> None:
    response = client.get(URL, params=params, headers=factories.bearer(catalog.key))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_input"
    assert [e["field"] for e in body["errors"]] == [field]


def test_the_export_needs_catalog_read(client: TestClient, catalog: Catalog) -> None:
    assert client.get(URL).status_code == 401
    key = factories.application_key(catalog.db, "no-catalog", "DSJ", scopes=[Permission.DEPARTMENT_READ])
    response = client.get(URL, headers=factories.bearer(key))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_logged_in_user_may_export(client: TestClient, catalog: Catalog) -> None:
    factories.login(client, "mz.admin")
    response = client.get(URL, params={"format": "turtle"})
    assert response.status_code == 200, response.text
    graph = Graph().parse(data=response.text, format="turtle")
    assert set(_datasets(graph)) == set(catalog.codes.values())


def test_service_checks_its_inputs(catalog: Catalog) -> None:
    from govshare.errors import InvalidInput

    with catalog.db.transaction() as session:
        for kwargs in (
            {"base_url": "ftp://node"},
            {"base_url": "not a url"},
            {"base_url": BASE, "page_size": 501},
            {"base_url": BASE, "fmt": "xml"},
        ):
            with pytest.raises(InvalidInput):
                dcat_service.dcat_catalog(session, factories.SYSTEM, **kwargs)


def test_one_page_costs_a_fixed_number_of_queries(catalog: Catalog) -> None:
    def count(page_size: int) -> int:
        statements: list[str] = []

        def record(*args: Any) -> None:
            statements.append(args[2])

        with catalog.db.transaction(readonly=True) as session:
            engine = session.get_bind()
            event.listen(engine, "before_cursor_execute", record)
            try:
                dcat_service.dcat_catalog(session, factories.SYSTEM, base_url=BASE, page_size=page_size)
            finally:
                event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    assert count(1) == count(3) <= 4


# ---------------------------------------------------------------- SHACL


def _shapes(*names: str) -> Graph:
    if not SHAPES_DIR.is_dir():
        pytest.fail(f"DCAT-AP shapes not found at {SHAPES_DIR} (tests/data/dcat-ap-3.0.1, see its SOURCE.md)")
    graph = Graph()
    for name in names:
        graph.parse(SHAPES_DIR / name, format="turtle")
    return graph


def _results(report: Graph) -> list[dict[str, Any]]:
    return [
        {
            "severity": report.value(r, SH.resultSeverity),
            "focus": report.value(r, SH.focusNode),
            "path": report.value(r, SH.resultPath),
            "message": str(report.value(r, SH.resultMessage)),
        }
        for r in report.subjects(RDF.type, SH.ValidationResult)
    ]


def test_export_conforms_to_dcat_ap_shapes(client: TestClient, catalog: Catalog) -> None:
    data = _turtle(client, catalog)
    conforms, report, text = validate(
        data, shacl_graph=_shapes("shapes.ttl", "range.ttl"), inference="none", advanced=False
    )
    violations = [r for r in _results(report) if r["severity"] == SH.Violation]
    assert violations == [], text
    assert conforms, text

    # The validation has teeth: an untyped access right and a catalog without a description fail it.
    data.remove((ACCESS.PUBLIC, RDF.type, DCTERMS.RightsStatement))
    data.remove((URIRef(f"{BASE}/catalog"), DCTERMS.description, None))
    conforms, report, _ = validate(
        data, shacl_graph=_shapes("shapes.ttl", "range.ttl"), inference="none", advanced=False
    )
    assert not conforms
    assert {r["path"] for r in _results(report)} == {DCTERMS.accessRights, DCTERMS.description}


def test_recommended_shapes_report(client: TestClient, catalog: Catalog) -> None:
    data = _turtle(client, catalog)
    _, report, text = validate(
        data, shacl_graph=_shapes("shapes_recommended.ttl"), inference="none", allow_warnings=True
    )
    results = _results(report)
    print(f"\nDCAT-AP recommended shapes: {len(results)} warnings")
    found: set[tuple[Any, Any]] = set()
    for r in sorted(results, key=lambda r: (str(r["path"]), str(r["focus"]))):
        classes = set(data.objects(r["focus"], RDF.type))
        cls = next(
            (c for c in (DCAT.Catalog, DCAT.Dataset, DCAT.Distribution, DCTERMS.Location) if c in classes),
            None,
        )
        found.add((cls, r["path"]))
        print(f"  {r['severity'].n3(report.namespace_manager)} {r['path']} on {r['focus']}")
    assert all(r["severity"] == SH.Warning for r in results), text
    assert found <= EXPECTED_WARNINGS, found - EXPECTED_WARNINGS


# ---------------------------------------------------------------- CLI


@pytest.mark.usefixtures("cli_env")
def test_cli_writes_the_export(catalog: Catalog, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "catalog.jsonld"
    result = runner.invoke(
        cli_app,
        [
            "catalog",
            "dcat",
            "--format",
            "jsonld",
            "--out",
            str(out),
            "--base-url",
            "https://node.example.gov.cn/",
        ],
    )
    assert result.exit_code == 0, result.output
    graph = Graph().parse(out, format="json-ld")
    assert {str(d) for d in _datasets(graph).values()} == {
        f"https://node.example.gov.cn/catalog/resources/{code}" for code in catalog.codes.values()
    }

    result = runner.invoke(cli_app, ["catalog", "dcat", "--page-size", "1", "--page", "2"])
    assert result.exit_code == 0, result.output
    graph = Graph().parse(data=result.output, format="turtle")
    assert len(_datasets(graph)) == 1

    result = runner.invoke(cli_app, ["catalog", "dcat", "--modified-since", "2999-01-01T00:00:00"])
    assert result.exit_code == 0, result.output
    assert _datasets(Graph().parse(data=result.output, format="turtle")) == {}

    for bad in (["--format", "xml"], ["--modified-since", "soon"], ["--page-size", "501"]):
        result = runner.invoke(cli_app, ["catalog", "dcat", *bad])
        assert result.exit_code != 0
        assert "invalid_input" in result.output
