"""The demo city's collection: three departments' files loaded through the real pipeline (公安 population
in GBK with sex coded 0/1, 民政 subsistence recipients in an Excel sheet with 男/女, 市场监管 enterprises in
UTF-8 with BOM), each with a few rows in quarantine to show. Idempotent: a resource that already has a
successful batch is not loaded again."""

from __future__ import annotations

from pathlib import Path

from govshare.auth.actor import Actor
from govshare.collection import jobs, service
from govshare.collection.mapping import read_mapping
from govshare.collection.schemas import BatchOut
from govshare.core.db import Database
from govshare.demo.sources import demo_sources


def load_sources(db: Database, actor: Actor, directory: Path) -> list[BatchOut]:
    loaded: list[BatchOut] = []
    for source in demo_sources(directory):
        mapping = read_mapping(source.mapping_file)
        with db.transaction() as session:
            if service.list_batches(session, actor, resource=source.resource, status="succeeded", limit=1):
                continue
            started = service.start_ingest(
                session, actor, source.resource, mapping, source_path=str(source.data_file), node_file=True
            )
        batch = jobs.run_started(db, actor, started, path=str(source.data_file))
        with db.transaction(readonly=True) as session:
            loaded.append(service.get_batch(session, actor, batch.id))
    return loaded
