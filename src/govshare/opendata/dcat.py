"""The open datasets as DCAT-AP 3.0.1 (`GET /api/open/v1/dcat`), built by the catalog's DCAT builder
(`govshare.catalog.dcat`) and then adapted to open data:

* only open datasets, and their keywords only from opened items (`policies.withheld_reason`);
* `dct:accessRights` PUBLIC (the data is open to everyone; the share type stays in the rights statement);
* a `dcat:landingPage` (the portal's dataset page) and one distribution per download format, with
  `dcat:downloadURL`, instead of the sharing platform's API distribution;
* no paging: the open catalog is one graph.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import public_action
from govshare.catalog import dcat
from govshare.catalog.dcat_service import _base_url
from govshare.core.node import node_config
from govshare.errors import InvalidInput
from govshare.models import ResourceItem, ResourceVersion
from govshare.opendata import service
from govshare.opendata.repository import OpenDataRepository
from govshare.opendata.service import FORMATS, OpenDataset

HYDRA_TYPES = (dcat.HYDRA.Collection, dcat.HYDRA.PartialCollectionView)
MEDIA = {
    "csv": ("text/csv", dcat.FILE_TYPE.CSV),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", dcat.FILE_TYPE.XLSX),
    "json": ("application/json", dcat.FILE_TYPE.JSON),
}
IANA = "https://www.iana.org/assignments/media-types/"


class _OpenedVersion:
    """A published version seen through the open-data rule: the same attributes, its opened items only."""

    def __init__(self, version: ResourceVersion, opened: set[str]) -> None:
        self._version = version
        self.items: list[ResourceItem] = [i for i in version.items if i.field_name in opened]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._version, name)


@public_action("the DCAT export of the open datasets is public")
def open_catalog(session: Session, actor: Actor, *, base_url: str, fmt: str = "jsonld") -> Graph:
    if fmt not in dcat.FORMATS:
        raise InvalidInput.on("format", f"取值必须是 {'、'.join(dcat.FORMATS)} 之一")
    base = _base_url(base_url)
    versions = OpenDataRepository(session).open_versions()
    described = service.with_data(session, [service.describe(session, v) for v in versions])
    datasets = {found.code: found for found in described}
    opened_versions = [
        cast(ResourceVersion, _OpenedVersion(version, set(found.fields)))
        for version, found in zip(versions, described, strict=True)
    ]
    config = node_config(session)
    published = [v.published_at for v in versions if v.published_at is not None]
    issued = [v.resource.first_published_at for v in versions if v.resource.first_published_at is not None]
    node = dcat.NodeInfo(
        name=config.node_name,
        division_code=config.division_code,
        issued=min(issued) if issued else None,
        modified=max(published) if published else None,
    )
    paging = dcat.Paging(
        page=1, page_size=max(1, len(versions)), total=len(versions), fmt=fmt, modified_since=None
    )
    graph = dcat.build_catalog(base, node, opened_versions, paging)
    _adapt(graph, dcat.Uris(base), base, datasets)
    return graph


def _adapt(graph: Graph, uris: dcat.Uris, base: str, datasets: dict[str, OpenDataset]) -> None:
    for kind in HYDRA_TYPES:
        for subject in list(graph.subjects(RDF.type, kind)):
            graph.remove((subject, None, None))
    catalog = uris.catalog
    graph.remove((catalog, DCTERMS.description, None))
    graph.add(
        (catalog, DCTERMS.description, Literal("公共数据开放目录：向社会开放的政务数据集。", lang=dcat.LANG))
    )
    public = dcat.ACCESS_RIGHT.PUBLIC
    graph.add((public, RDF.type, DCTERMS.RightsStatement))
    for code, found in datasets.items():
        dataset = uris.dataset(code)
        graph.remove((dataset, DCTERMS.accessRights, None))
        graph.add((dataset, DCTERMS.accessRights, public))
        for old in list(graph.objects(dataset, DCAT.distribution)):
            graph.remove((old, None, None))
            graph.remove((dataset, DCAT.distribution, old))
        page = URIRef(f"{base}/open/datasets/{quote(code, safe='')}")
        graph.add((page, RDF.type, FOAF.Document))
        graph.add((dataset, DCAT.landingPage, page))
        rights = URIRef(f"{dataset}#share")
        if found.open_condition:
            graph.add(
                (rights, DCTERMS.description, Literal(f"开放条件：{found.open_condition}", lang=dcat.LANG))
            )
        if not found.has_data:
            continue
        for fmt in FORMATS:
            media, file_type = MEDIA[fmt]
            url = URIRef(base + found.download_path(fmt))
            distribution = URIRef(f"{dataset}#open-{fmt}")
            graph.add((dataset, DCAT.distribution, distribution))
            graph.add((distribution, RDF.type, DCAT.Distribution))
            graph.add((distribution, DCAT.accessURL, url))
            graph.add((distribution, DCAT.downloadURL, url))
            graph.add(
                (distribution, DCTERMS.title, Literal(f"{found.name}（{fmt.upper()}）", lang=dcat.LANG))
            )
            graph.add((distribution, DCTERMS.rights, rights))
            media_iri = URIRef(IANA + media)
            graph.add((media_iri, RDF.type, DCTERMS.MediaType))
            graph.add((distribution, DCAT.mediaType, media_iri))
            graph.add((file_type, RDF.type, DCTERMS.MediaTypeOrExtent))
            graph.add((distribution, DCTERMS["format"], file_type))
