"""Catalog search: full text over names, summaries and item names, filters, facet counts; every query is
time-limited and capped (Datasette's rule: no request can tie up the node)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.auth.guard import action, internal
from govshare.auth.permissions import Permission
from govshare.catalog import search_queries as queries
from govshare.catalog import tokens as tk
from govshare.catalog.vocabulary import BaseKind, Category, ShareType, UpdateCycle
from govshare.core.node import node_config
from govshare.core.timelimit import time_limited
from govshare.errors import InvalidInput, QueryTimeout, ServiceUnavailable
from govshare.models import Department, Resource, ResourceVersion, SearchDocument

QUERY_TIME_LIMIT_MS = 2000
MAX_QUERY_TOKENS = 32
MAX_PAGE_SIZE = 100
MAX_OFFSET = 5000


class SearchQuery(BaseModel):
    q: str = Field("", max_length=100)
    provider: list[str] = Field(default_factory=list, max_length=50)
    category: str | None = None
    classification: str | None = Field(None, max_length=40)
    share_type: str | None = None
    open: bool | None = None
    update_cycle: str | None = None
    grade: str | None = None
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class Hit(BaseModel):
    resource_id: int
    code: str
    name: str
    provider_code: str
    provider_name: str
    share_type: str
    share_type_label: str
    open: bool
    update_cycle: str
    grade: str
    classification: str
    published_at: datetime
    score: float


class FacetValue(BaseModel):
    value: str
    label: str
    count: int


class SearchResult(BaseModel):
    total: int
    page: int
    page_size: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    took_ms: float


# ---------------------------------------------------------------- index maintenance


def _classification(version: ResourceVersion) -> str:
    if version.category == Category.BASE.value:
        return f"base:{version.base_kind}"
    if version.category == Category.THEME.value:
        return f"theme:{version.theme}"
    return "department"


@internal("called by the catalog lifecycle when a version is published")
def index_version(session: Session, resource: Resource, version: ResourceVersion) -> None:
    item_names = " ".join(i.name for i in version.items)
    weights = tk.weighted(
        [(version.summary, 1.0), (item_names, 2.0), (version.name, 3.0), (resource.code or "", 3.0)]
    )
    queries.replace_document(
        session,
        SearchDocument(
            resource_id=resource.id,
            code=resource.code or "",
            name=version.name,
            department_id=resource.department_id,
            category=version.category,
            classification=_classification(version),
            share_type=version.share_type,
            open_to_public=version.open_to_public,
            update_cycle=version.update_cycle,
            security_grade=version.security_grade,
            published_at=version.published_at or resource.updated_at,
            text=tk.normalize(" ".join([version.name, version.summary, item_names, resource.code or ""])),
        ),
        weights,
    )


@internal("called by the catalog lifecycle when a resource is withdrawn")
def unindex(session: Session, resource_id: int) -> None:
    queries.remove_document(session, resource_id)


# ---------------------------------------------------------------- querying


def _filters(session: Session, query: SearchQuery, rules_grade: Any) -> dict[str, ColumnElement[bool]]:
    conditions: dict[str, ColumnElement[bool]] = {}
    if query.provider:
        ids = queries.department_ids(session, query.provider)
        conditions["provider"] = SearchDocument.department_id.in_(ids or [-1])
    if query.category:
        conditions["category"] = SearchDocument.category == _parse(Category, query.category, "category")
    if query.classification:
        conditions["classification"] = SearchDocument.classification == query.classification
    if query.share_type:
        conditions["share_type"] = SearchDocument.share_type == _parse(
            ShareType, query.share_type, "share_type"
        )
    if query.open is not None:
        conditions["open"] = SearchDocument.open_to_public.is_(query.open)
    if query.update_cycle:
        conditions["update_cycle"] = SearchDocument.update_cycle == _parse(
            UpdateCycle, query.update_cycle, "update_cycle"
        )
    if query.grade:
        try:
            conditions["grade"] = SearchDocument.security_grade == rules_grade(query.grade)
        except ValueError as exc:
            raise InvalidInput.on("grade", str(exc)) from exc
    return conditions


def _parse(enum: Any, value: str, field: str) -> str:
    try:
        return str(enum.parse(value).value)
    except ValueError as exc:
        raise InvalidInput.on(field, str(exc)) from exc


def _typed(facet: str, value: Any) -> Any:
    if facet == "provider":
        return int(value)
    if facet == "open":
        return str(value).lower() in ("1", "true", "t")
    return value


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@action(Permission.CATALOG_READ)
def search(session: Session, actor: Actor, query: SearchQuery) -> SearchResult:
    started = time.perf_counter()
    offset = (query.page - 1) * query.page_size
    if offset > MAX_OFFSET:
        raise InvalidInput.on("page", f"最多翻到第 {MAX_OFFSET // query.page_size + 1} 页，请增加筛选条件")
    rules = node_config(session).jurisdiction.catalog
    conditions = _filters(session, query, rules.grade_code)
    try:
        with time_limited(session, QUERY_TIME_LIMIT_MS):
            counted, rows = queries.search(
                session, query.q, conditions, MAX_QUERY_TOKENS, page_size=query.page_size, offset=offset
            )
    except QueryTimeout as exc:
        raise ServiceUnavailable("查询超时，请缩小检索范围") from exc
    total = next((int(n) for facet, _, n in counted if facet == "__total__"), 0)
    facet_rows: dict[str, list[tuple[Any, int]]] = {name: [] for name in queries.FACET_COLUMNS}
    for facet, value, n in counted:
        if facet != "__total__":
            facet_rows[facet].append((_typed(facet, value), int(n)))
    for values in facet_rows.values():
        values.sort(key=lambda pair: (-pair[1], str(pair[0])))
    departments = queries.departments_by_id(session)
    hits = [
        Hit(
            resource_id=row["resource_id"],
            code=row["code"],
            name=row["name"],
            provider_code=departments[row["department_id"]].code,
            provider_name=departments[row["department_id"]].name,
            share_type=row["share_type"],
            share_type_label=ShareType(row["share_type"]).label,
            open=bool(row["open_to_public"]),
            update_cycle=row["update_cycle"],
            grade=row["security_grade"],
            classification=row["classification"],
            published_at=_aware(row["published_at"]),
            score=float(row["score"] or 0),
        )
        for row in rows
    ]
    facets = {
        name: [
            FacetValue(
                value=str(_facet_value(name, v, departments)),
                label=_facet_label(name, v, departments, rules),
                count=n,
            )
            for v, n in values
        ]
        for name, values in facet_rows.items()
    }
    return SearchResult(
        total=total,
        page=query.page,
        page_size=query.page_size,
        hits=hits,
        facets=facets,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
    )


def _facet_value(name: str, value: Any, departments: dict[int, Department]) -> str:
    if name == "provider":
        return departments[value].code
    if name == "open":
        return "true" if value else "false"
    return str(value)


def _facet_label(name: str, value: Any, departments: dict[int, Department], rules: Any) -> str:
    if name == "provider":
        return departments[value].name
    if name == "open":
        return "向社会开放" if value else "不开放"
    if name == "share_type":
        return ShareType(value).label
    if name == "update_cycle":
        return UpdateCycle(value).label
    if name == "grade":
        return str(rules.grade_label(value))
    if name == "classification":
        kind, _, rest = str(value).partition(":")
        if kind == "base":
            return f"基础·{BaseKind(rest).label}" if rest in set(BaseKind) else "基础"
        if kind == "theme":
            return f"主题·{rest}"
        return "部门"
    return str(value)
