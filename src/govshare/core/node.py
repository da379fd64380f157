"""The node's runtime policy, derived from settings once at the edge and carried on every session.

Services read policy from here (`node_config(session)`) rather than from settings, so tests and the
CLI can run nodes with different policies in one process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from govshare.jurisdiction import Jurisdiction, load_jurisdiction
from govshare.settings import Settings


@dataclass(frozen=True)
class NodeConfig:
    audit_key: bytes
    secret_key: str
    node_name: str
    division_code: str
    password_min_length: int
    login_max_failures: int
    login_lockout_minutes: int
    session_ttl_minutes: int
    api_key_default_days: int
    api_key_max_days: int
    page_max: int
    jurisdiction: Jurisdiction
    work_dir: Path = Path("data/work")
    audit_checkpoint_dir: Path = Path("data/audit-checkpoints")
    collection_memory_mb: int = 1024
    collection_chunk_rows: int = 100_000
    collection_dead_after_minutes: int = 10
    collection_quote_span_lines: int = 5
    collection_quote_span_bytes: int = 4096
    collection_max_removal_share: float = 0.5
    data_dir: Path = Path("data")
    source_dirs: tuple[Path, ...] = ()
    source_connect_timeout_seconds: int = 10
    source_read_timeout_seconds: int = 300
    data_rate_per_second: int = 200
    data_page_max: int = 1000
    data_query_timeout_ms: int = 3000
    subscription_requests_per_day: int = 100_000
    subscription_rows_per_day: int = 1_000_000
    password_min_score: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> NodeConfig:
        return cls(
            audit_key=settings.audit_key.get_secret_value().encode(),
            secret_key=settings.secret_key.get_secret_value(),
            node_name=settings.node_name,
            division_code=settings.node_division_code,
            password_min_length=settings.password_min_length,
            login_max_failures=settings.login_max_failures,
            login_lockout_minutes=settings.login_lockout_minutes,
            session_ttl_minutes=settings.session_ttl_minutes,
            api_key_default_days=settings.api_key_default_days,
            api_key_max_days=settings.api_key_max_days,
            page_max=settings.api_page_max,
            jurisdiction=load_jurisdiction(settings.jurisdiction_file),
            work_dir=settings.work_dir,
            audit_checkpoint_dir=settings.resolved_audit_checkpoint_dir,
            collection_memory_mb=settings.collection_memory_mb,
            collection_chunk_rows=settings.collection_chunk_rows,
            collection_dead_after_minutes=settings.collection_dead_after_minutes,
            collection_quote_span_lines=settings.collection_quote_span_lines,
            collection_quote_span_bytes=settings.collection_quote_span_bytes,
            collection_max_removal_share=settings.collection_max_removal_share,
            data_dir=settings.data_dir,
            source_dirs=settings.source_directories,
            source_connect_timeout_seconds=settings.source_connect_timeout_seconds,
            source_read_timeout_seconds=settings.source_read_timeout_seconds,
            data_rate_per_second=settings.data_rate_per_second,
            data_page_max=settings.data_page_max,
            data_query_timeout_ms=settings.data_query_timeout_ms,
            subscription_requests_per_day=settings.subscription_requests_per_day,
            subscription_rows_per_day=settings.subscription_rows_per_day,
            password_min_score=settings.password_min_score,
        )


def node_config(session: Session) -> NodeConfig:
    config = session.info.get("node")
    if not isinstance(config, NodeConfig):
        raise RuntimeError("session was not opened through Database with a NodeConfig")
    return config
