"""The catalog as DCAT-AP 3.0.1 (docs/dcat.md): one dcat:Catalog for the node, one dcat:Dataset per
published, active resource, and Hydra paging links.

This module only builds and serializes graphs from rows the service has loaded; it does no I/O. Every node
that a DCAT-AP class-range constraint points at is typed here (dct:RightsStatement, dct:Frequency,
foaf:Agent …), because validators run without inference: an untyped EU authority IRI is a violation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Final
from urllib.parse import quote, urlencode

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from govshare.catalog.vocabulary import (
    BaseKind,
    Category,
    FormatCategory,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from govshare.models import Department, ResourceVersion

HYDRA: Final = Namespace("http://www.w3.org/ns/hydra/core#")
VCARD: Final = Namespace("http://www.w3.org/2006/vcard/ns#")
DCAT_VERSION: Final = URIRef(f"{DCAT}version")  # DCAT 3; rdflib's DCAT namespace predates it
DCATAP: Final = Namespace("http://data.europa.eu/r5r/")
EU: Final = "http://publications.europa.eu/resource/authority/"
ACCESS_RIGHT: Final = Namespace(EU + "access-right/")
FREQUENCY: Final = Namespace(EU + "frequency/")
DATA_THEME: Final = Namespace(EU + "data-theme/")
FILE_TYPE: Final = Namespace(EU + "file-type/")
LANGUAGE: Final = Namespace(EU + "language/")
PUBLISHER_TYPE: Final = Namespace("http://purl.org/adms/publishertype/")

FORMATS: Final = ("jsonld", "turtle")
MEDIA_TYPES: Final = {"jsonld": "application/ld+json", "turtle": "text/turtle; charset=utf-8"}
LANG: Final = "zh"

# 共享类型 → EU access-right authority table (domain reference §3).
ACCESS_RIGHTS: Final = {
    ShareType.UNCONDITIONAL: ACCESS_RIGHT.PUBLIC,
    ShareType.CONDITIONAL: ACCESS_RIGHT.RESTRICTED,
    ShareType.NONE: ACCESS_RIGHT.NON_PUBLIC,
}

# 更新周期 → EU frequency authority table. 实时 is "continuously updated" (UPDATE_CONT), not CONT
# ("the event repeats without cessation"); 每半年 is ANNUAL_2 ("semiannual"; the table's BIANNUAL is the
# ambiguous legacy code); 其他 is OTHER, not IRREG: the guide's 其他 means "none of the above".
FREQUENCIES: Final = {
    UpdateCycle.REALTIME: FREQUENCY.UPDATE_CONT,
    UpdateCycle.DAILY: FREQUENCY.DAILY,
    UpdateCycle.WEEKLY: FREQUENCY.WEEKLY,
    UpdateCycle.MONTHLY: FREQUENCY.MONTHLY,
    UpdateCycle.QUARTERLY: FREQUENCY.QUARTERLY,
    UpdateCycle.SEMIANNUAL: FREQUENCY.ANNUAL_2,
    UpdateCycle.ANNUAL: FREQUENCY.ANNUAL,
    UpdateCycle.OTHER: FREQUENCY.OTHER,
}

# The EU data-theme table is the controlled vocabulary DCAT-AP requires for dcat:theme; labels are the
# table's English preferred labels.
THEME_LABELS: Final = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
}
BASE_THEMES: Final = {
    BaseKind.POPULATION: ("SOCI",),
    BaseKind.LEGAL_PERSON: ("ECON",),
    BaseKind.GEOSPATIAL: ("ENVI", "REGI"),
    BaseKind.CREDIT: ("ECON",),
    BaseKind.LICENSE: ("GOVE",),
}
TOPIC_THEMES: Final = {
    "公共服务": ("GOVE",),
    "健康保障": ("HEAL",),
    "社会保障": ("SOCI",),
    "食品药品安全": ("HEAL", "AGRI"),
    "安全生产": ("JUST",),
    "价格监管": ("ECON",),
    "能源安全": ("ENER",),
    "信用体系": ("ECON",),
    "城乡建设": ("REGI",),
    "社区治理": ("SOCI",),
    "生态环保": ("ENVI",),
    "应急维稳": ("JUST",),
}
DEPARTMENT_THEMES: Final = ("GOVE",)

# 信息资源格式类型 (free text) → EU file-type table, for the values that have an exact entry there.
FILE_TYPES: Final = {
    name: FILE_TYPE[name.upper()]
    for name in (
        "csv",
        "json",
        "xml",
        "pdf",
        "xlsx",
        "xls",
        "docx",
        "doc",
        "zip",
        "jpeg",
        "png",
        "tiff",
        "mp4",
        "txt",
        "html",
        "shp",
        "geojson",
    )
} | {"jpg": FILE_TYPE.JPEG, "tif": FILE_TYPE.TIFF}

PUBLISHER_TYPES: Final = {
    "province": (PUBLISHER_TYPE.RegionalAuthority, "Regional authority"),
    "city": (PUBLISHER_TYPE.LocalAuthority, "Local authority"),
    "county": (PUBLISHER_TYPE.LocalAuthority, "Local authority"),
}

JSONLD_CONTEXT: Final = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "dcatap": str(DCATAP),
    "foaf": str(FOAF),
    "hydra": str(HYDRA),
    "rdfs": str(RDFS),
    "skos": str(SKOS),
    "vcard": str(VCARD),
    "xsd": str(XSD),
}


@dataclass(frozen=True)
class NodeInfo:
    """The node as the catalog's publisher, and the catalog's own dates (over all published resources)."""

    name: str
    division_code: str
    issued: datetime | None
    modified: datetime | None


@dataclass(frozen=True)
class Paging:
    page: int
    page_size: int
    total: int
    fmt: str
    modified_since: datetime | None

    @property
    def last_page(self) -> int:
        return max(1, ceil(self.total / self.page_size))


class Uris:
    """Every IRI the export mints, all under the node's base URL and stable across exports."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def _iri(self, path: str) -> URIRef:
        return URIRef(f"{self.base}{path}")

    @property
    def homepage(self) -> URIRef:
        return self._iri("/")

    @property
    def catalog(self) -> URIRef:
        return self._iri("/catalog")

    @property
    def node(self) -> URIRef:
        return self._iri("/node")

    @property
    def classification_scheme(self) -> URIRef:
        return self._iri("/catalog/classification")

    def classification(self, *parts: str) -> URIRef:
        return self._iri("/catalog/classification/" + "/".join(quote(p, safe="") for p in parts))

    def dataset(self, code: str) -> URIRef:
        return self._iri(f"/catalog/resources/{quote(code, safe='')}")

    def api_resource(self, code: str) -> URIRef:
        return self._iri(f"/api/v1/catalog/codes/{quote(code, safe='')}")

    def department(self, code: str) -> URIRef:
        return self._iri(f"/departments/{quote(code, safe='')}")

    def division(self, code: str) -> URIRef:
        return self._iri(f"/divisions/{quote(code, safe='')}")

    def export(self, paging: Paging, page: int | None) -> URIRef:
        """The export's own URL: the whole (filtered) collection, or one page of it."""
        params: list[tuple[str, str]] = []
        if page is not None:
            params += [("format", paging.fmt), ("page", str(page)), ("page_size", str(paging.page_size))]
        if paging.modified_since is not None:
            params.append(("modified_since", paging.modified_since.isoformat()))
        query = f"?{urlencode(params)}" if params else ""
        return self._iri(f"/api/v1/catalog/dcat{query}")


def page_links(uris: Uris, paging: Paging) -> dict[str, str]:
    """first / previous / next / last page URLs (also sent as HTTP Link headers)."""
    links = {"first": uris.export(paging, 1), "last": uris.export(paging, paging.last_page)}
    if paging.page > 1:
        links["previous"] = uris.export(paging, min(paging.page - 1, paging.last_page))
    if paging.page < paging.last_page:
        links["next"] = uris.export(paging, paging.page + 1)
    return {rel: str(url) for rel, url in links.items()}


def new_graph() -> Graph:
    graph = Graph(bind_namespaces="core")
    for prefix, namespace in JSONLD_CONTEXT.items():
        graph.bind(prefix, Namespace(namespace))
    return graph


def _zh(text: str) -> Literal:
    return Literal(text, lang=LANG)


def _datetime(value: datetime) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.dateTime)


class _Builder:
    def __init__(self, graph: Graph, uris: Uris, node: NodeInfo) -> None:
        self.g, self.uris, self.node = graph, uris, node
        self.seen: set[URIRef] = set()

    def once(self, iri: URIRef) -> bool:
        """True the first time a shared node (agent, concept, location) is described."""
        if iri in self.seen:
            return False
        self.seen.add(iri)
        return True

    # ------------------------------------------------------------ shared nodes

    def publisher_type(self, agent: URIRef, level: str) -> None:
        known = PUBLISHER_TYPES.get(level)
        if known is None:
            return
        concept, label = known
        self.g.add((agent, DCTERMS.type, concept))
        if self.once(concept):
            self.g.add((concept, RDF.type, SKOS.Concept))
            self.g.add((concept, SKOS.prefLabel, Literal(label, lang="en")))

    def location(self, division_code: str) -> URIRef:
        iri = self.uris.division(division_code)
        if self.once(iri):
            self.g.add((iri, RDF.type, DCTERMS.Location))
            self.g.add((iri, DCTERMS.identifier, Literal(division_code)))
        return iri

    def department(self, department: Department) -> URIRef:
        iri = self.uris.department(department.code)
        if self.once(iri):
            self.g.add((iri, RDF.type, FOAF.Agent))
            self.g.add((iri, RDF.type, FOAF.Organization))
            self.g.add((iri, FOAF.name, _zh(department.name)))
            if department.uscc:
                self.g.add((iri, DCTERMS.identifier, Literal(department.uscc)))
            self.publisher_type(iri, department.level)
        return iri

    def contact(self, department: Department) -> URIRef:
        iri = URIRef(f"{self.uris.department(department.code)}#contact")
        if self.once(iri):
            self.g.add((iri, RDF.type, VCARD.Kind))
            self.g.add((iri, RDF.type, VCARD.Organization))
            self.g.add((iri, VCARD.fn, _zh(department.name)))
            self.g.add((iri, VCARD.hasURL, self.uris.homepage))  # requests go through the platform
        return iri

    def typed(self, iri: URIRef, cls: URIRef) -> URIRef:
        if self.once(iri):
            self.g.add((iri, RDF.type, cls))
        return iri

    def eu_theme(self, code: str) -> URIRef:
        iri = DATA_THEME[code]
        if self.once(iri):
            self.g.add((iri, RDF.type, SKOS.Concept))
            self.g.add((iri, SKOS.prefLabel, Literal(THEME_LABELS[code], lang="en")))
            self.g.add((iri, SKOS.inScheme, URIRef(str(DATA_THEME).rstrip("/"))))
        return iri

    def local_concept(self, parts: tuple[str, ...], label: str, broader: URIRef | None) -> URIRef:
        iri = self.uris.classification(*parts)
        if self.once(iri):
            scheme = self.uris.classification_scheme
            self.g.add((iri, RDF.type, SKOS.Concept))
            self.g.add((iri, SKOS.prefLabel, _zh(label)))
            self.g.add((iri, SKOS.inScheme, scheme))
            if broader is None:
                self.g.add((iri, SKOS.topConceptOf, scheme))
            else:
                self.g.add((iri, SKOS.broader, broader))
        return iri

    # ------------------------------------------------------------ catalog

    def catalog(self) -> URIRef:
        g, uris, node = self.g, self.uris, self.node
        catalog = uris.catalog
        g.add((catalog, RDF.type, DCAT.Catalog))
        g.add((catalog, DCTERMS.title, _zh(node.name)))
        g.add((catalog, DCTERMS.description, _zh(f"{node.name}的政务信息资源目录：已发布、在用的信息资源。")))
        agent = uris.node
        g.add((agent, RDF.type, FOAF.Agent))
        g.add((agent, FOAF.name, _zh(node.name)))
        self.publisher_type(agent, "province" if node.division_code.endswith("0000") else "city")
        g.add((catalog, DCTERMS.publisher, agent))
        g.add((catalog, FOAF.homepage, self.typed(uris.homepage, FOAF.Document)))
        g.add((catalog, DCTERMS.language, self.typed(LANGUAGE.ZHO, DCTERMS.LinguisticSystem)))
        g.add((catalog, DCTERMS.spatial, self.location(node.division_code)))
        eu_scheme = URIRef(str(DATA_THEME).rstrip("/"))
        g.add((eu_scheme, RDF.type, SKOS.ConceptScheme))
        g.add((eu_scheme, DCTERMS.title, Literal("Data theme", lang="en")))
        local_scheme = uris.classification_scheme
        g.add((local_scheme, RDF.type, SKOS.ConceptScheme))
        g.add((local_scheme, DCTERMS.title, _zh("政务信息资源分类")))
        g.add((catalog, DCAT.themeTaxonomy, eu_scheme))
        g.add((catalog, DCAT.themeTaxonomy, local_scheme))
        if node.issued is not None:
            g.add((catalog, DCTERMS.issued, _datetime(node.issued)))
        if node.modified is not None:
            g.add((catalog, DCTERMS.modified, _datetime(node.modified)))
        return catalog

    # ------------------------------------------------------------ datasets

    def themes(self, version: ResourceVersion) -> tuple[list[URIRef], list[str]]:
        """The EU data themes and the most specific concept of the local classification (its broader
        concepts are described too), and the classification's own label as a keyword."""
        category = Category(version.category)
        top = self.local_concept((category.value,), category.label, None)
        if category == Category.BASE and version.base_kind:
            kind = BaseKind(version.base_kind)
            concept = self.local_concept((category.value, kind.value), kind.label, top)
            return [*map(self.eu_theme, BASE_THEMES[kind]), concept], [kind.label]
        if category == Category.THEME and version.theme:
            concept = self.local_concept((category.value, version.theme), version.theme, top)
            codes = TOPIC_THEMES.get(version.theme, DEPARTMENT_THEMES)
            return [*map(self.eu_theme, codes), concept], [version.theme]
        return [*map(self.eu_theme, DEPARTMENT_THEMES), top], []

    def share_statement(self, dataset: URIRef, version: ResourceVersion) -> URIRef:
        share = ShareType(version.share_type)
        parts = [f"共享类型：{share.label}"]
        if version.share_condition.strip():
            parts.append(f"共享条件：{version.share_condition.strip()}")
        if version.share_methods:
            parts.append("共享方式：" + "、".join(ShareMethod(m).label for m in version.share_methods))
        if version.legal_basis.strip():
            parts.append(f"依据：{version.legal_basis.strip()}")
        opening = "是" if version.open_to_public else "否"
        if version.open_to_public and version.open_condition.strip():
            opening += f"（{version.open_condition.strip()}）"
        parts.append(f"向社会开放：{opening}")
        statement = URIRef(f"{dataset}#share")
        self.g.add((statement, RDF.type, DCTERMS.RightsStatement))
        self.g.add((statement, RDFS.label, _zh("；".join(parts))))
        return statement

    def distribution(self, dataset: URIRef, code: str, version: ResourceVersion, rights: URIRef) -> URIRef:
        g = self.g
        distribution = URIRef(f"{dataset}#distribution")
        g.add((distribution, RDF.type, DCAT.Distribution))
        g.add((distribution, DCAT.accessURL, self.uris.api_resource(code)))
        methods = "、".join(ShareMethod(m).label for m in version.share_methods) or "平台"
        fmt = FormatCategory(version.format_category).label
        if version.format_type.strip():
            fmt += f"（{version.format_type.strip()}）"
        g.add(
            (
                distribution,
                DCTERMS.description,
                _zh(f"通过{self.node.name}以{methods}方式共享；资源格式：{fmt}"),
            )
        )
        g.add((distribution, DCTERMS.rights, rights))
        file_type = FILE_TYPES.get(version.format_type.strip().lower().lstrip("."))
        if file_type is not None:
            g.add((distribution, DCTERMS.format, self.typed(file_type, DCTERMS.MediaTypeOrExtent)))
        return distribution

    def dataset(self, catalog: URIRef, version: ResourceVersion) -> None:
        g = self.g
        resource = version.resource
        code = resource.code
        if code is None:  # published resources always have a code; the service filters on it
            return
        dataset = self.uris.dataset(code)
        g.add((catalog, DCAT.dataset, dataset))
        g.add((dataset, RDF.type, DCAT.Dataset))
        g.add((dataset, DCTERMS.identifier, Literal(code)))
        g.add((dataset, DCTERMS.title, _zh(version.name)))
        g.add((dataset, DCTERMS.description, _zh(version.summary.strip() or version.name)))
        g.add((dataset, DCTERMS.publisher, self.department(resource.department)))
        g.add((dataset, DCAT.contactPoint, self.contact(resource.department)))
        g.add((dataset, DCTERMS.spatial, self.location(resource.department.division_code)))
        share = ShareType(version.share_type)
        g.add((dataset, DCTERMS.accessRights, self.typed(ACCESS_RIGHTS[share], DCTERMS.RightsStatement)))
        frequency = FREQUENCIES[UpdateCycle(version.update_cycle)]
        g.add((dataset, DCTERMS.accrualPeriodicity, self.typed(frequency, DCTERMS.Frequency)))
        if resource.first_published_at is not None:
            g.add((dataset, DCTERMS.issued, _datetime(resource.first_published_at)))
        g.add((dataset, DCTERMS.modified, _datetime(version.published_at or resource.updated_at)))
        g.add((dataset, DCAT_VERSION, Literal(str(version.number))))
        themes, labels = self.themes(version)
        for theme in themes:
            g.add((dataset, DCAT.theme, theme))
        for keyword in _unique([*labels, *(item.name for item in version.items)]):
            g.add((dataset, DCAT.keyword, _zh(keyword)))
        for related in version.related_codes:
            g.add((dataset, DCTERMS.relation, self.uris.dataset(related)))
        rights = self.share_statement(dataset, version)
        g.add((dataset, DCTERMS.rights, rights))
        if share != ShareType.NONE:
            g.add((dataset, DCAT.distribution, self.distribution(dataset, code, version, rights)))

    # ------------------------------------------------------------ paging

    def paging(self, paging: Paging) -> None:
        g, uris = self.g, self.uris
        collection = uris.export(paging, None)
        view = uris.export(paging, paging.page)
        g.add((collection, RDF.type, HYDRA.Collection))
        g.add((collection, HYDRA.totalItems, Literal(paging.total, datatype=XSD.nonNegativeInteger)))
        g.add((collection, HYDRA.view, view))
        g.add((view, RDF.type, HYDRA.PartialCollectionView))
        for rel, url in page_links(uris, paging).items():
            g.add((view, HYDRA[rel], URIRef(url)))


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def build_catalog(
    base_url: str, node: NodeInfo, versions: Sequence[ResourceVersion], paging: Paging
) -> Graph:
    """The catalog graph for one page: `versions` are the published versions of active resources, each
    with its resource, the resource's department and the version's items loaded."""
    graph = new_graph()
    builder = _Builder(graph, Uris(base_url), node)
    catalog = builder.catalog()
    for version in versions:
        builder.dataset(catalog, version)
    builder.paging(paging)
    return graph


def serialize(graph: Graph, fmt: str) -> bytes:
    """Turtle, or JSON-LD compacted with an inline context (no remote context to fetch)."""
    if fmt == "turtle":
        return graph.serialize(format="turtle", encoding="utf-8")
    if fmt == "jsonld":
        return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, indent=2, encoding="utf-8")
    raise ValueError(f"unknown DCAT format {fmt!r}")
