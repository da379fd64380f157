"""The DCAT-AP export of the catalog (docs/dcat.md): published, active resources, paged by id, optionally
only those changed since a moment, for harvesters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from rdflib import Graph
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.catalog import dcat
from govshare.catalog import dcat_queries as queries
from govshare.core.clock import assume_beijing
from govshare.core.node import node_config
from govshare.errors import InvalidInput

MAX_PAGE = 10_000
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class DcatPage:
    graph: Graph
    fmt: str
    page: int
    page_size: int
    total: int  # resources matching, over all pages
    datasets: int  # resources on this page
    last_page: int
    links: dict[str, str]  # first / previous / next / last

    def serialize(self) -> bytes:
        return dcat.serialize(self.graph, self.fmt)

    @property
    def media_type(self) -> str:
        return dcat.MEDIA_TYPES[self.fmt]


def _base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidInput.on("base_url", "须为 http:// 或 https:// 开头的绝对地址，不带查询串")
    return value.strip().rstrip("/")


def _check(fmt: str, page: int, page_size: int) -> None:
    if fmt not in dcat.FORMATS:
        raise InvalidInput.on("format", f"取值必须是 {'、'.join(dcat.FORMATS)} 之一")
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInput.on("page", f"须在 1 到 {MAX_PAGE} 之间")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput.on("page_size", f"须在 1 到 {MAX_PAGE_SIZE} 之间")


@action(Permission.CATALOG_READ)
def dcat_catalog(
    session: Session,
    actor: Actor,
    *,
    base_url: str,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    modified_since: datetime | None = None,
    fmt: str = "jsonld",
) -> DcatPage:
    """One page of the catalog as a DCAT-AP graph. `modified_since` keeps resources whose record changed
    at or after that moment (a naive value is Beijing time); `fmt` only shapes the paging links."""
    _check(fmt, page, page_size)
    base = _base_url(base_url)
    since = assume_beijing(modified_since, "modified_since")
    total, issued, last_published, last_withdrawn = queries.catalog_figures(session, since)
    versions = queries.page_of_versions(session, since, page=page, page_size=page_size)

    config = node_config(session)
    changes = [t for t in (last_published, last_withdrawn) if t is not None]
    node = dcat.NodeInfo(
        name=config.node_name,
        division_code=config.division_code,
        issued=issued,
        modified=max(changes) if changes else None,
    )
    paging = dcat.Paging(page=page, page_size=page_size, total=int(total or 0), fmt=fmt, modified_since=since)
    graph = dcat.build_catalog(base, node, versions, paging)
    return DcatPage(
        graph=graph,
        fmt=fmt,
        page=page,
        page_size=page_size,
        total=paging.total,
        datasets=len(versions),
        last_page=paging.last_page,
        links=dcat.page_links(dcat.Uris(base), paging),
    )
