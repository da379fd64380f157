"""数据归集 service actions: sources, starting batches (authorized here; `pipeline.execute` runs them),
batch status, quarantine and reprocessing, scheduling and stored-record look-ups.

Starting a batch is its own unit of work (the batch row must be visible, with its process, before the
long read begins); the CLI, the API and the scheduler call `start_*`, commit, then run the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psutil
from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.catalog import readers as catalog_readers
from govshare.catalog.vocabulary import UpdateCycle, VersionState
from govshare.collection import connections, pipeline, policies, store
from govshare.collection.mapping import DATABASE_KINDS, Mapping, kind_of, load_mapping
from govshare.collection.plan import build_plan, lookup_values
from govshare.collection.repository import CollectionRepository
from govshare.collection.schemas import BatchOut, DueSource, QuarantineOut, SourceCreate, SourceOut
from govshare.collection.scratch import remove_leftovers
from govshare.core.clock import utcnow
from govshare.core.node import node_config
from govshare.errors import Conflict, InvalidInput, NotFound
from govshare.models import Batch, Resource, ResourceVersion, Source

RUN, PUSH, READ = policies.RUN, policies.PUSH, policies.READ
CYCLES: dict[str, timedelta] = {
    UpdateCycle.REALTIME: timedelta(minutes=5),
    UpdateCycle.DAILY: timedelta(days=1),
    UpdateCycle.WEEKLY: timedelta(days=7),
    UpdateCycle.MONTHLY: timedelta(days=30),
    UpdateCycle.QUARTERLY: timedelta(days=91),
    UpdateCycle.SEMIANNUAL: timedelta(days=182),
    UpdateCycle.ANNUAL: timedelta(days=365),
}


@dataclass(frozen=True)
class Started:
    """A batch that was authorized and recorded, ready for `pipeline.execute`."""

    prepared: pipeline.PreparedBatch
    mapping: Mapping
    kind: str  # the source kind (csv, postgresql, push …)
    cursor_after: str | None  # incremental database reads start after this
    opened: connections.Opened | None = None  # a database source's connection, table or checked query


def _published(session: Session, reference: str) -> tuple[Resource, ResourceVersion]:
    resource = catalog_readers.resource_by_code(session, reference)
    if resource is None:
        matches = catalog_readers.published_resources_named(session, reference)
        if len(matches) > 1:
            raise InvalidInput.on("resource", f"名称为“{reference}”的资源不止一个，请使用资源代码")
        resource = matches[0] if matches else None
    if resource is None:
        unpublished = catalog_readers.latest_version_named(session, reference)
        if unpublished is not None:
            state = VersionState(unpublished.state).label
            raise Conflict(
                f"信息资源“{reference}”尚未发布（目录中为“{state}”），不能归集：须经审核发布后才能归集数据"
            )
        raise NotFound(f"信息资源“{reference}”不存在")
    version = next((v for v in resource.versions if v.state == VersionState.PUBLISHED.value), None)
    if resource.status == "withdrawn":
        raise Conflict(f"信息资源“{reference}”已下架（撤销），不能归集")
    if version is None or resource.status != "active":
        raise Conflict(f"信息资源“{reference}”尚未发布，不能归集：须经审核发布后才能归集数据")
    return resource, version


def _is_dead(batch: Batch, dead_after: timedelta, now: datetime, host: str) -> str | None:
    """Why a running batch is dead, or None."""
    if batch.host == host and batch.pid is not None:
        try:
            process = psutil.Process(batch.pid)
            started = datetime.fromtimestamp(process.create_time(), tz=batch.started_at.tzinfo)
            if started > batch.started_at + timedelta(seconds=1):
                return f"进程 {batch.pid} 已结束（该进程号已被其他进程使用）"
        except psutil.NoSuchProcess:
            return f"进程 {batch.pid} 已结束（被终止或崩溃）"
    if now - batch.heartbeat_at > dead_after:
        return f"超过 {int(dead_after.total_seconds() // 60)} 分钟没有心跳"
    return None


def _fail_dead(session: Session, actor: Actor, batches: list[Batch]) -> list[int]:
    config = node_config(session)
    now, host = utcnow(), pipeline.host_name()
    failed = []
    for batch in batches:
        reason = _is_dead(batch, timedelta(minutes=config.collection_dead_after_minutes), now, host)
        if reason:
            batch.status, batch.phase, batch.finished_at = "failed", "done", now
            batch.error = f"批次已中断：{reason}；未提交任何数据，可重新运行"
            if batch.host == host:
                remove_leftovers(config.work_dir, batch.id)
            audit.record(
                session, actor, "collection.batch_dead", target_type="batch", target_id=str(batch.id)
            )
            failed.append(batch.id)
    session.flush()
    return failed


@action(READ)
def detect_dead_batches(session: Session, actor: Actor) -> list[int]:
    """Mark running batches whose process is gone (or silent too long) as failed; their ids."""
    scope = policies.row_scope(actor)
    running = [b for b in CollectionRepository(session).running() if scope.allows(b.department_id)]
    return _fail_dead(session, actor, running)


def _start(
    session: Session,
    actor: Actor,
    *,
    resource: Resource,
    version: ResourceVersion,
    mapping: Mapping,
    origin: str,
    kind: str,
    permission: Any,
    source: Source | None = None,
    parent_id: int | None = None,
    mode: str | None = None,
    batch_kind: str = "run",
    allow_removals: bool = False,
) -> Started:
    policies.check(actor, permission, resource.department_id, "collection.start", resource.code or "")
    plan, items = build_plan(session, version, mapping)
    opened = None
    if kind in DATABASE_KINDS:
        if not mapping.source.connection:
            raise InvalidInput.on("source.connection", "数据库来源须用 source.connection 指定数据源连接")
        opened = connections.open_for(
            session,
            mapping.source.connection,
            resource.department_id,
            mapping.source.table,
            mapping.source.query,
        )
    repo = CollectionRepository(session)
    # the watchdog: every start fails the node's stuck batches (any resource), releasing their resources
    dead = set(_fail_dead(session, Actor.system("watchdog"), repo.running()))
    running = [b for b in repo.running(resource.id) if b.id not in dead]
    if running:
        raise Conflict(f"该资源正在归集（批次 {running[0].id}），请待其完成后再运行")
    mode = mode or mapping.mode
    cursor_after = source.cursor_value if (source and mode == "incremental") else None
    host, pid = pipeline.process_identity()
    batch = Batch(
        resource_id=resource.id,
        department_id=resource.department_id,
        source_id=source.id if source else None,
        parent_id=parent_id,
        kind=batch_kind,
        origin=origin[:500],
        mapping=mapping.to_yaml(),
        mode=mode,
        status="running",
        started_by=actor.name,
        started_at=utcnow(),
        heartbeat_at=utcnow(),
        host=host,
        pid=pid,
        cursor_from=cursor_after,
    )
    repo.add(batch)
    audit.record(
        session,
        actor,
        "collection.start",
        target_type="batch",
        target_id=str(batch.id),
        detail={"resource": resource.code, "origin": batch.origin, "mode": mode, "kind": batch_kind},
    )
    table_fields = tuple(store.Field(i.field_name, i.data_type, i.length) for i in items)
    fields = tuple(f for f in table_fields if f.name in mapping.columns)
    prepared = pipeline.PreparedBatch(
        batch_id=batch.id,
        resource_id=resource.id,
        source_id=source.id if source else None,
        plan=plan,
        fields=fields,
        table_fields=table_fields,
        full=mode == "full",
        parent_id=parent_id,
        allow_removals=allow_removals,
    )
    return Started(prepared, mapping, kind, cursor_after, opened)


@action(RUN)
def start_ingest(
    session: Session,
    actor: Actor,
    resource: str,
    mapping: Mapping,
    *,
    source_path: str | None = None,
    mode: str | None = None,
    node_file: bool = False,
    allow_removals: bool = False,
) -> Started:
    """Start a batch from a mapping given by hand (the CLI's `govshare ingest`). A file named at the console
    may be anywhere but the node's own database and data directory, unless the node wrote it itself
    (`node_file`: the demo's generated files)."""
    found, version = _published(session, resource or mapping.resource or "")
    path = mapping.source_path(source_path)
    if path is not None and not node_file:
        connections.check_operator_file(session, str(path))
    kind = kind_of(mapping, path, _connection_kind(session, mapping, path, found.department_id))
    origin = (
        str(path) if path is not None else f"{mapping.source.connection}:{mapping.source.table or '查询'}"
    )
    return _start(
        session,
        actor,
        resource=found,
        version=version,
        mapping=mapping,
        origin=origin,
        kind=kind,
        permission=RUN,
        mode=mode,
        allow_removals=allow_removals,
    )


@action(RUN)
def register_source(session: Session, actor: Actor, data: SourceCreate) -> SourceOut:
    resource, version = _published(session, data.resource)
    policies.check(actor, RUN, resource.department_id, "collection.register_source", resource.code or "")
    mapping = load_mapping(data.mapping)
    if mapping.source.path and mapping.source.kind != "push":
        raise InvalidInput.on(
            "mapping", "登记的数据源不能引用本机文件路径：文件请用 govshare ingest 归集，或推送"
        )
    build_plan(session, version, mapping)  # the mapping must fit the catalog now
    pushed = mapping.source.kind in (None, "push") and not mapping.source.connection
    kind = (
        "push"
        if pushed
        else kind_of(mapping, None, _connection_kind(session, mapping, None, resource.department_id))
    )
    if data.update_cycle is not None and data.update_cycle not in CYCLES:
        raise InvalidInput.on("update_cycle", f"更新周期须为：{'、'.join(CYCLES)}")
    repo = CollectionRepository(session)
    source = repo.source_by_name(resource.id, data.name)
    if source is None:
        source = Source(resource_id=resource.id, department_id=resource.department_id, name=data.name)
        source.created_by = actor.name
    source.kind, source.mapping, source.mode = kind, data.mapping, mapping.mode
    source.update_cycle, source.updated_at = data.update_cycle, utcnow()
    repo.add(source)
    audit.record(
        session,
        actor,
        "collection.register_source",
        target_type="source",
        target_id=str(source.id),
        detail={"resource": resource.code, "name": data.name, "kind": kind},
    )
    return SourceOut.model_validate(source)


def _connection_kind(session: Session, mapping: Mapping, path: Any, department_id: int) -> str | None:
    """The kind of the mapping's connection (its table or query checked against it), if it names one."""
    spec = mapping.source
    if path is not None or not spec.connection:
        return None
    return connections.check_mapping(session, spec.connection, department_id, spec.table, spec.query)


def _source(session: Session, source_id: int) -> tuple[Source, Resource, ResourceVersion]:
    source = CollectionRepository(session).source(source_id)
    if source is None:
        raise NotFound(f"数据源 {source_id} 不存在")
    resource = session.get_one(Resource, source.resource_id)
    found, version = _published(session, resource.code or "")
    return source, found, version


@action(RUN)
def start_source_run(
    session: Session,
    actor: Actor,
    source_id: int,
    *,
    mode: str | None = None,
    upload_name: str | None = None,
    allow_removals: bool = False,
) -> Started:
    """Run a registered source; `upload_name` names the file a person uploaded for a file source (kept in
    the batch's origin for provenance, never a path on the node)."""
    source, resource, version = _source(session, source_id)
    if source.kind == "push":
        raise InvalidInput.on("source", "推送型数据源由对方系统推送数据，不能在此运行")
    mapping = load_mapping(source.mapping)
    return _start(
        session,
        actor,
        resource=resource,
        version=version,
        mapping=mapping,
        origin=f"{source.name}（{_upload_label(upload_name) if upload_name else source.kind}）",
        kind=source.kind,
        permission=RUN,
        source=source,
        mode=mode,
        allow_removals=allow_removals,
    )


def _upload_label(name: str) -> str:
    # a browser sends the bare file name; keep its last part only, printable, and short
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(ch for ch in base if ch.isprintable())[:120]
    return f"上传文件 {printable}"


@action(PUSH)
def start_push(
    session: Session, actor: Actor, source_id: int, count: int, *, mode: str | None = None
) -> Started:
    source, resource, version = _source(session, source_id)
    if source.kind != "push":
        raise InvalidInput.on("source", f"数据源“{source.name}”不是推送型（{source.kind}）")
    return _start(
        session,
        actor,
        resource=resource,
        version=version,
        mapping=load_mapping(source.mapping),
        origin=f"推送：{source.name}（{count} 条，{actor.name}）",
        kind="push",
        permission=PUSH,
        source=source,
        mode=mode or "incremental",
        batch_kind="push",
    )


def _batch_outs(session: Session, batches: list[Batch]) -> list[BatchOut]:
    """The batches with their resource's code and newest name, read in one query for the whole list."""
    labels = CollectionRepository(session).resource_labels({b.resource_id for b in batches})
    outs = []
    for batch in batches:
        out = BatchOut.model_validate(batch)
        out.resource_code, out.resource_name = labels.get(batch.resource_id, (None, None))
        outs.append(out)
    return outs


def _batch_out(session: Session, batch: Batch) -> BatchOut:
    return _batch_outs(session, [batch])[0]


def _visible_batch(session: Session, actor: Actor, batch_id: int, permission: Any = READ) -> Batch:
    batch = CollectionRepository(session).batch(batch_id)
    if batch is None:
        raise NotFound(f"归集批次 {batch_id} 不存在")
    policies.check(actor, permission, batch.department_id, "collection.batch", str(batch_id))
    return batch


@action(READ)
def list_batches(
    session: Session,
    actor: Actor,
    *,
    resource: str | None = None,
    status: str | None = None,
    department_id: int | None = None,
    source_id: int | None = None,
    limit: int = 50,
) -> list[BatchOut]:
    """The newest batches the actor may see, optionally of one department (refused unless the actor may
    see that department's) or one source; every filter is applied in SQL before the limit."""
    resource_id = _published(session, resource)[0].id if resource else None
    scope = policies.row_scope(actor)
    if department_id is not None:
        scope = policies.department_scope(actor, department_id, "collection.list_batches")
    batches = CollectionRepository(session).batches(
        scope,
        resource_id=resource_id,
        source_id=source_id,
        status=status,
        limit=max(1, min(limit, node_config(session).page_max)),
    )
    return _batch_outs(session, batches)


@action(READ, PUSH)
def get_batch(session: Session, actor: Actor, batch_id: int) -> BatchOut:
    """A batch's status and counts; a pushing system follows the batches of its own department."""
    permission = READ if actor.scope_of(READ) else PUSH
    return _batch_out(session, _visible_batch(session, actor, batch_id, permission))


@action(RUN)
def quarantine(
    session: Session, actor: Actor, batch_id: int, *, severity: str = "error", unresolved: bool = False
) -> tuple[BatchOut, list[QuarantineOut]]:
    """The batch's quarantined records (verbatim) with their reasons; audited, they hold personal data."""
    batch = _visible_batch(session, actor, batch_id, RUN)
    if severity not in ("error", "warning"):
        raise InvalidInput.on("severity", "须为 error 或 warning")
    rows = CollectionRepository(session).quarantine(batch_id, severity=severity, unresolved=unresolved)
    audit.record(
        session,
        actor,
        "collection.quarantine_read",
        target_type="batch",
        target_id=str(batch_id),
        detail={"severity": severity, "rows": len(rows)},
    )
    return _batch_out(session, batch), [QuarantineOut.model_validate(r) for r in rows]


@action(RUN)
def start_reprocess(session: Session, actor: Actor, batch_id: int, *, origin: str | None = None) -> Started:
    """A new batch that runs the parent's mapping again over corrected (or the stored) quarantined rows.
    It upserts (never a full replace: the rows are a part of the source)."""
    parent = _visible_batch(session, actor, batch_id, RUN)
    resource = session.get_one(Resource, parent.resource_id)
    found, version = _published(session, resource.code or "")
    mapping = load_mapping(parent.mapping)
    source = CollectionRepository(session).source(parent.source_id) if parent.source_id else None
    return _start(
        session,
        actor,
        resource=found,
        version=version,
        mapping=mapping,
        origin=origin or f"重新处理批次 {parent.id} 的隔离数据",
        kind="push",
        permission=RUN,
        source=source,
        parent_id=parent.id,
        mode="incremental",
        batch_kind="reprocess",
    )


@action(READ)
def list_sources(session: Session, actor: Actor, *, department_id: int | None = None) -> list[SourceOut]:
    """The sources the actor may see, or only one department's (refused unless the actor may see it)."""
    scope = policies.row_scope(actor)
    if department_id is not None:
        scope = policies.department_scope(actor, department_id, "collection.list_sources")
    return [SourceOut.model_validate(s) for s in CollectionRepository(session).sources(scope)]


@action(READ)
def get_source(session: Session, actor: Actor, source_id: int) -> SourceOut:
    """One source the actor may see; another department's reads as missing, as in `source_mapping`."""
    source = CollectionRepository(session).source(source_id)
    if source is None or not policies.row_scope(actor).allows(source.department_id):
        raise NotFound(f"数据源 {source_id} 不存在")
    return SourceOut.model_validate(source)


@action(READ)
def source_mapping(session: Session, actor: Actor, source_id: int) -> Mapping:
    """A visible source's stored mapping, parsed (read only: for showing what the mapping does). It is as
    stored: a database URL may still name its ${VARIABLE}s, so whoever shows it masks the password part."""
    source = CollectionRepository(session).source(source_id)
    if source is None or not policies.row_scope(actor).allows(source.department_id):
        raise NotFound(f"数据源 {source_id} 不存在")
    return load_mapping(source.mapping)


@action(READ)
def due_sources(session: Session, actor: Actor, *, now: datetime | None = None) -> list[DueSource]:
    """Enabled pull sources whose update cycle has passed since their last successful batch."""
    now = now or utcnow()
    due: list[DueSource] = []
    for source in CollectionRepository(session).sources(policies.row_scope(actor)):
        if not source.enabled or source.kind == "push":
            continue
        cycle = source.update_cycle
        if cycle is None:
            resource = catalog_readers.resource_by_id(session, source.resource_id)
            published = [v for v in (resource.versions if resource else []) if v.state == "published"]
            cycle = published[0].update_cycle if published else None
        interval = CYCLES.get(cycle or "")
        if interval is None:
            continue
        if source.last_success_at is None or now - source.last_success_at >= interval:
            since = source.last_success_at + interval if source.last_success_at else None
            due.append(DueSource(source=SourceOut.model_validate(source), cycle=cycle or "", due_since=since))
    return due


@action(RUN)
def records(
    session: Session,
    actor: Actor,
    resource: str,
    *,
    where: dict[str, Any] | None = None,
    as_of: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Stored records of the department's own resource (current, or as of a time): for the provider to
    check what was loaded. Sharing to other departments goes through the sharing service's grants."""
    found, _version = _published(session, resource)
    policies.check(actor, RUN, found.department_id, "collection.records", found.code or "")
    table = store.existing_table(session, found.id)
    if table is None:
        return []
    for name in where or {}:
        if name not in table.c:
            raise InvalidInput.on("where", f"没有信息项 {name}")
    if where:  # as stored: through each item's validator (a 15-digit ID finds its 18-digit record)
        where = lookup_values(_version, {k: str(v) for k, v in where.items()})
    rows = store.records(session, table, where=where, as_of=as_of, limit=limit)
    audit.record(
        session,
        actor,
        "collection.records_read",
        target_type="resource",
        target_id=found.code,
        detail={"where": sorted((where or {}).keys()), "as_of": as_of.isoformat() if as_of else None},
    )
    return rows
