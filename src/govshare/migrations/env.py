"""Alembic environment. Run through `govshare init` / `govshare db upgrade`; `alembic` itself works too
with `-x url=...`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from govshare.core.migrations import include_object
from govshare.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: pass -x url=... or use `govshare db upgrade`")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
