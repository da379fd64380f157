"""公共数据开放 (open data): the open datasets, their records page, downloads, DCAT and usage statistics.

Everything here is public: every action is a `public_action` and accepts any actor (the portal and the API
call it with the anonymous actor of `public_actor`). What is open is decided in two places only:
`repository.open_conditions` (which resources) and `policies.withheld_reason` (which of their items);
a resource that is not open is "not found" (404) everywhere, exactly like one that does not exist.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import Table
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import internal, public_action
from govshare.catalog.vocabulary import BaseKind, Category, DataType, UpdateCycle
from govshare.core.clock import BEIJING, utcnow
from govshare.core.inputs import text_problem
from govshare.core.node import node_config
from govshare.core.uow import unit_of
from govshare.errors import InvalidInput, NotFound
from govshare.models import ResourceVersion
from govshare.opendata import repository
from govshare.opendata.policies import withheld_reason
from govshare.opendata.repository import OpenDataRepository
from govshare.sharing import access as acc
from govshare.sharing.records import fetch, json_value

PAGE_SIZE = 20
MAX_PAGE = 1000
RECORDS_PAGE_SIZE = 20
RECORDS_PAGE_MAX = 100  # the records API's largest page
RECORDS_MAX_OFFSET = 100_000  # deeper than this, download the file
PREVIEW_ROWS = 10
FORMATS = ("csv", "xlsx", "json")
FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel（XLSX）", "json": "JSON"}
NOT_OPEN = "开放数据集“{code}”不存在或未向社会开放"


@dataclass(frozen=True)
class OpenItem:
    field: str
    name: str
    data_type: str

    @property
    def type_label(self) -> str:
        try:
            return DataType(self.data_type).label
        except ValueError:
            return self.data_type


@dataclass(frozen=True)
class WithheldItem:
    name: str
    reason: str


@dataclass(frozen=True)
class OpenDataset:
    resource_id: int
    version_id: int
    code: str
    name: str
    summary: str
    provider_code: str
    provider_name: str
    classification: str  # facet key: base:legal_person, theme:社会保障, department
    classification_label: str
    update_cycle: str
    open_condition: str
    share_type: str
    published_at: datetime | None
    first_published_at: datetime | None
    items: list[OpenItem]
    withheld: list[WithheldItem]
    has_data: bool = False
    record_count: int = 0
    last_updated: datetime | None = None
    data_version: str = ""  # version id + last batch: what a generated file is cached under

    @property
    def fields(self) -> list[str]:
        return [i.field for i in self.items]

    def download_path(self, fmt: str) -> str:
        return f"/api/open/v1/datasets/{quote(self.code, safe='')}/download?format={fmt}"


@dataclass(frozen=True)
class Facet:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class OpenPage:
    datasets: list[OpenDataset]
    total: int
    page: int
    page_size: int
    providers: list[Facet]
    classifications: list[Facet]

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.page_size - 1) // self.page_size)


@dataclass(frozen=True)
class RecordsPage:
    dataset: OpenDataset
    page: int
    page_size: int
    total: int
    records: list[dict[str, Any]]


@dataclass
class Stats:
    totals: dict[str, int]
    datasets: int
    top: list[dict[str, Any]] = field(default_factory=list)
    months: list[dict[str, Any]] = field(default_factory=list)


# --- reading the open datasets ------------------------------------------------------------------------


def _classification(version: ResourceVersion) -> tuple[str, str]:
    category = Category(version.category)
    if category == Category.BASE and version.base_kind:
        return f"base:{version.base_kind}", f"{category.label}·{BaseKind(version.base_kind).label}"
    if category == Category.THEME and version.theme:
        return f"theme:{version.theme}", f"{category.label}·{version.theme}"
    return category.value, category.label


@internal("the open-data rule applied to a loaded version; callers list only open versions")
def describe(session: Session, version: ResourceVersion) -> OpenDataset:
    rules = node_config(session).jurisdiction.catalog
    opened: list[OpenItem] = []
    withheld: list[WithheldItem] = []
    for item in version.items:
        reason = withheld_reason(
            item_share_type=item.share_type,
            resource_share_type=version.share_type,
            grade=item.security_grade,
            mask_rule=item.mask_rule,
            rules=rules,
        )
        if reason is None:
            opened.append(OpenItem(item.field_name, item.name, item.data_type))
        else:
            withheld.append(WithheldItem(item.name, reason))
    resource = version.resource
    key, label = _classification(version)
    try:
        cycle = UpdateCycle(version.update_cycle).label
    except ValueError:
        cycle = version.update_cycle
    return OpenDataset(
        resource_id=resource.id,
        version_id=version.id,
        code=resource.code or "",
        name=version.name,
        summary=version.summary,
        provider_code=resource.department.code,
        provider_name=resource.department.name,
        classification=key,
        classification_label=label,
        update_cycle=cycle,
        open_condition=version.open_condition.strip(),
        share_type=version.share_type,
        published_at=version.published_at,
        first_published_at=resource.first_published_at,
        items=opened,
        withheld=withheld,
    )


# Current-record counts per (database, resource, data version): counting a large table on every list
# view would be slow, and the count only changes with a new batch.
_COUNTS: dict[tuple[str, int, str], int] = {}
_COUNTS_LOCK = threading.Lock()


@internal("adds counts to datasets the caller already found open")
def with_data(session: Session, datasets: list[OpenDataset]) -> list[OpenDataset]:
    """Add record counts, last update and the data version (for file caching)."""
    if not datasets:
        return []
    batches = OpenDataRepository(session).last_batches([d.resource_id for d in datasets])
    database = str(session.get_bind().engine.url)
    out = []
    for dataset in datasets:
        batch_id, applied = batches.get(dataset.resource_id, (0, None))
        version = f"v{dataset.version_id}-b{batch_id}"
        table = record_table(session, dataset)
        if table is None:
            out.append(replace(dataset, data_version=version))
            continue
        key = (database, dataset.resource_id, version)
        count = _COUNTS.get(key)
        if count is None:
            count = repository.current_record_count(session, table)
            with _COUNTS_LOCK:
                if len(_COUNTS) > 10_000:
                    _COUNTS.clear()
                _COUNTS[key] = count
        out.append(
            replace(dataset, has_data=True, record_count=count, last_updated=applied, data_version=version)
        )
    return out


@internal("the record table of a dataset the caller already found open")
def record_table(session: Session, dataset: OpenDataset) -> Table | None:
    return acc.locate(session, dataset.code)[1]


def _text(value: str, name: str, limit: int) -> str:
    value = value.strip()
    problem = text_problem(value)
    if problem:
        raise InvalidInput.on(name, problem)
    if len(value) > limit:
        raise InvalidInput.on(name, f"最多 {limit} 个字符")
    return value


@public_action("open data is published to the public without login")
def search(
    session: Session,
    actor: Actor,
    *,
    q: str = "",
    provider: str | None = None,
    classification: str | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> OpenPage:
    """Open datasets matching the words of `q` (in the name, summary, provider or opened item names), with
    facets by provider and classification (each counted with the other filters applied)."""
    q = _text(q, "q", 100)
    provider = _text(provider, "provider", 32) if provider else None
    classification = _text(classification, "classification", 40) if classification else None
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInput.on("page", f"须在 1 到 {MAX_PAGE} 之间")
    if not 1 <= page_size <= 100:
        raise InvalidInput.on("page_size", "须在 1 到 100 之间")
    words = [w.lower() for w in q.split() if w]
    datasets = []
    for version in OpenDataRepository(session).open_versions():
        dataset = describe(session, version)
        haystack = " ".join(
            [
                dataset.name,
                dataset.summary,
                dataset.provider_name,
                dataset.code,
                *(i.name for i in dataset.items),
            ]
        ).lower()
        if all(w in haystack for w in words):
            datasets.append(dataset)

    def facet(attr: str, label_attr: str, other: str, chosen: str | None) -> list[Facet]:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for d in datasets:
            if chosen is None or getattr(d, other) == chosen:
                counts[(getattr(d, attr), getattr(d, label_attr))] += 1
        return [Facet(v, lbl, n) for (v, lbl), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][1]))]

    providers = facet("provider_code", "provider_name", "classification", classification)
    classes = facet("classification", "classification_label", "provider_code", provider)
    chosen = [
        d
        for d in datasets
        if (provider is None or d.provider_code == provider)
        and (classification is None or d.classification == classification)
    ]
    start = (page - 1) * page_size
    shown = with_data(session, chosen[start : start + page_size])
    return OpenPage(shown, len(chosen), page, page_size, providers, classes)


@public_action("open data is published to the public without login")
def dataset(session: Session, actor: Actor, code: str) -> OpenDataset:
    """One open dataset, or NotFound (also for a resource that exists but is not open)."""
    versions = OpenDataRepository(session).open_versions(code=_code(code))
    if not versions:
        raise NotFound(NOT_OPEN.format(code=code[:64]))
    return with_data(session, [describe(session, versions[0])])[0]


def _code(code: str) -> str:
    if not code or len(code) > 64 or text_problem(code):
        raise NotFound(NOT_OPEN.format(code=code[:64].encode("ascii", "replace").decode()))
    return code


def _rows(session: Session, dataset: OpenDataset, *, offset: int, limit: int) -> list[dict[str, Any]]:
    table = record_table(session, dataset)
    if table is None:
        return []
    columns = [table.c[f] for f in dataset.fields if f in table.c]
    query = repository.current_page(table, columns, offset=offset, limit=limit)
    return [{k: json_value(v) for k, v in row.items()} for row in fetch(session, query)]


@public_action("open data is published to the public without login")
def preview(session: Session, actor: Actor, dataset: OpenDataset) -> list[dict[str, Any]]:
    """The first rows of the dataset, opened items only, for the dataset page."""
    return _rows(session, dataset, offset=0, limit=PREVIEW_ROWS)


@public_action("open data is published to the public without login")
def records(
    session: Session, actor: Actor, code: str, *, page: int = 1, page_size: int = RECORDS_PAGE_SIZE
) -> RecordsPage:
    """One page of current records (opened items only); counted as an API call."""
    if not 1 <= page_size <= RECORDS_PAGE_MAX:
        raise InvalidInput.on("page_size", f"须在 1 到 {RECORDS_PAGE_MAX} 之间")
    if page < 1 or (page - 1) * page_size > RECORDS_MAX_OFFSET:
        raise InvalidInput.on(
            "page", f"页码须从 1 开始，且跳过的记录不超过 {RECORDS_MAX_OFFSET} 条；更多记录请下载文件"
        )
    found = dataset(session, actor, code)
    rows = _rows(session, found, offset=(page - 1) * page_size, limit=page_size)
    count(session, found.resource_id, "api_calls")
    return RecordsPage(found, page, page_size, found.record_count, rows)


# --- usage ------------------------------------------------------------------------------------------------


def _today() -> date:
    return utcnow().astimezone(BEIJING).date()


def _write(session: Session, write: Callable[[Session], object]) -> None:
    """Run a usage write now, or, in a request whose session only reads (the public API's routes), hand it
    to the edge, which runs it in one short write transaction before the response is sent: generating a
    large download then holds no write lock (on SQLite a writer's transaction would block every other
    writer of the node for the whole generation)."""
    unit_of(session).defer(write)


@internal("counts a public request in the usage statistics")
def count(session: Session, resource_id: int, counter: str) -> None:
    """Add one to today's counter (page_views, downloads_<format>, api_calls) in one upsert."""
    day = _today()
    _write(session, lambda writer: OpenDataRepository(writer).count(day, resource_id, counter))


@internal("counts and audits a download the caller already admitted")
def record_download(session: Session, actor: Actor, dataset: OpenDataset, fmt: str) -> None:
    """A download is counted and audited as an anonymous access (the actor carries the client address)."""
    count(session, dataset.resource_id, f"downloads_{fmt}")
    detail = {"format": fmt, "rows": dataset.record_count, "data_version": dataset.data_version}
    _write(
        session,
        lambda writer: audit.record(
            writer, actor, "open.download", target_type="resource", target_id=dataset.code, detail=detail
        ),
    )


@public_action("the usage statistics of open data are public")
def stats(session: Session, actor: Actor, *, months: int = 12, top: int = 10) -> Stats:
    repo = OpenDataRepository(session)
    open_datasets = {v.resource.id: v for v in repo.open_versions()}
    result = Stats(totals=repo.totals(), datasets=len(open_datasets))
    ranked: list[dict[str, Any]] = []
    for resource_id, views, downloads, calls in repo.per_resource():
        version = open_datasets.get(resource_id)
        if version is None:  # no longer open: its counts stay in the totals, not in the ranking
            continue
        ranked.append(
            {
                "code": version.resource.code,
                "name": version.name,
                "provider": version.resource.department.name,
                "page_views": int(views or 0),
                "downloads": int(downloads or 0),
                "api_calls": int(calls or 0),
            }
        )
    ranked.sort(
        key=lambda r: (-int(r["downloads"]), -int(r["api_calls"]), -int(r["page_views"]), str(r["code"]))
    )
    result.top = ranked[:top]
    first = (_today().replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    by_month: dict[str, dict[str, int]] = {}
    for day, csv, xlsx, json_, calls, views in repo.per_day(first):
        month = by_month.setdefault(
            day.strftime("%Y-%m"), {"csv": 0, "xlsx": 0, "json": 0, "api_calls": 0, "page_views": 0}
        )
        values = {"csv": csv, "xlsx": xlsx, "json": json_, "api_calls": calls, "page_views": views}
        for name, value in values.items():
            month[name] += int(value or 0)
    result.months = [
        {"month": m, **v, "downloads": v["csv"] + v["xlsx"] + v["json"]} for m, v in sorted(by_month.items())
    ]
    return result
