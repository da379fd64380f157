"""The record table on SQLite and PostgreSQL: typed columns, set-based merge, history and as-of reads."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from sqlalchemy import inspect

from govshare.collection import store
from govshare.core.db import Database
from govshare.errors import Conflict
from tests.collection.helpers import setup

FIELDS = [
    store.Field("gmsfhm", "C", 18),
    store.Field("xm", "C", 20),
    store.Field("csrq", "D"),
    store.Field("jtrs", "I"),
    store.Field("sfyx", "L"),
    store.Field("gxsj", "T"),
]
NAMES = [f.name for f in FIELDS]
T0 = datetime(2026, 1, 1, 8, 0, 0)


def rows(*records: tuple[str, str | None, int | None, bool, bool]) -> pl.DataFrame:
    """(id, name, household size, valid, tombstone) → a typed frame as the transform produces it."""
    return pl.DataFrame(
        {
            "gmsfhm": [r[0] for r in records],
            "xm": [r[1] for r in records],
            "csrq": [date(1990, 1, 1)] * len(records),
            "jtrs": [r[2] for r in records],
            "sfyx": [r[3] for r in records],
            "gxsj": [T0] * len(records),
            "_tomb": [r[4] for r in records],
        },
        schema={
            "gmsfhm": pl.String,
            "xm": pl.String,
            "csrq": pl.Date,
            "jtrs": pl.Int64,
            "sfyx": pl.Boolean,
            "gxsj": pl.Datetime("us"),
            "_tomb": pl.Boolean,
        },
    )


def apply(db: Database, frame: pl.DataFrame, *, batch: int, full: bool, at: datetime) -> store.MergeCounts:
    with db.transaction() as session:
        table = store.ensure_table(session, 1, FIELDS, ["gmsfhm"])
        return store.merge(
            session,
            table,
            NAMES,
            ["gmsfhm"],
            [frame],
            now=at,
            batch_id=batch,
            source_id=None,
            full=full,
            cursor=None,
        )


def read(db: Database, as_of: datetime | None = None, **where: object) -> list[dict[str, object]]:
    with db.transaction(readonly=True) as session:
        table = store.existing_table(session, 1)
        assert table is not None
        return store.records(session, table, where=where or None, as_of=as_of)


@pytest.fixture
def resource(db: Database) -> Database:
    setup(db)  # resource id 1 exists
    return db


def test_the_table_has_typed_columns_and_a_unique_current_key(resource: Database) -> None:
    apply(resource, rows(("A", "甲", 3, True, False)), batch=1, full=True, at=T0)
    inspector = inspect(resource.engine)
    columns = {c["name"]: str(c["type"]).upper() for c in inspector.get_columns("rs_1")}
    assert columns["jtrs"] in ("BIGINT", "INTEGER")
    assert columns["csrq"] == "DATE"
    assert "TIMESTAMP" in columns["gxsj"] or "DATETIME" in columns["gxsj"]
    assert "BOOL" in columns["sfyx"]
    unique = [i for i in inspector.get_indexes("rs_1") if i["unique"]]
    assert [i["column_names"] for i in unique] == [["gmsfhm"]]
    [row] = read(resource)
    assert (row["xm"], row["jtrs"], row["sfyx"], row["csrq"]) == ("甲", 3, True, date(1990, 1, 1))
    assert row["_batch_id"] == 1 and row["_valid_to"] is None


def test_merge_counts_inserts_updates_unchanged_deletes_and_full_removals(resource: Database) -> None:
    first = apply(
        resource,
        rows(("A", "甲", 3, True, False), ("B", "乙", None, False, False), ("C", "丙", 1, True, False)),
        batch=1,
        full=True,
        at=T0,
    )
    assert (first.inserted, first.updated, first.unchanged, first.removed) == (3, 0, 0, 0)
    later = T0 + timedelta(days=1)
    second = apply(
        resource,
        rows(("A", "甲", 3, True, False), ("B", "乙", 2, False, False), ("D", "丁", None, True, False)),
        batch=2,
        full=True,
        at=later,
    )
    # A same (incl. NULL-safe comparison), B changed (NULL → 2), D new, C gone from the full source
    assert (second.inserted, second.updated, second.unchanged, second.removed) == (1, 1, 1, 1)
    assert sorted(r["gmsfhm"] for r in read(resource)) == ["A", "B", "D"]
    # history: as of the first day, B had no household size and C existed
    before = {r["gmsfhm"]: r for r in read(resource, as_of=T0 + timedelta(hours=1))}
    assert sorted(before) == ["A", "B", "C"] and before["B"]["jtrs"] is None
    assert read(resource, as_of=later + timedelta(hours=1), gmsfhm="B")[0]["jtrs"] == 2
    third = apply(
        resource,
        rows(("D", None, None, False, True), ("Z", None, None, False, True)),
        batch=3,
        full=False,
        at=later + timedelta(days=1),
    )
    assert (third.deleted, third.unchanged, third.inserted, third.removed) == (1, 1, 0, 0)
    assert sorted(r["gmsfhm"] for r in read(resource)) == ["A", "B"]


def test_reapplying_the_same_batch_changes_nothing(resource: Database) -> None:
    frame = rows(("A", "甲", 3, True, False), ("B", None, None, False, False))
    apply(resource, frame, batch=1, full=True, at=T0)
    again = apply(resource, frame, batch=2, full=True, at=T0 + timedelta(hours=1))
    assert (again.inserted, again.updated, again.unchanged, again.removed) == (0, 0, 2, 0)
    assert {r["_batch_id"] for r in read(resource)} == {1}


def test_a_changed_data_type_or_key_is_refused_and_new_items_add_columns(resource: Database) -> None:
    apply(resource, rows(("A", "甲", 3, True, False)), batch=1, full=True, at=T0)
    with resource.transaction() as session, pytest.raises(Conflict, match="数据类型"):
        store.ensure_table(
            session, 1, [store.Field("gmsfhm", "C", 18), store.Field("jtrs", "C", 5)], ["gmsfhm"]
        )
    with resource.transaction() as session, pytest.raises(Conflict, match="主键"):
        store.ensure_table(session, 1, FIELDS, ["xm"])
    with resource.transaction() as session:
        table = store.ensure_table(session, 1, [*FIELDS, store.Field("bz", "C", 50)], ["gmsfhm"])
        assert "bz" in table.c
    assert "bz" in {c["name"] for c in inspect(resource.engine).get_columns("rs_1")}
    assert read(resource)[0]["bz"] is None


def test_a_composite_key_matches_on_every_part(resource: Database) -> None:
    fields = [store.Field("djzh", "C", 20), store.Field("nd", "I"), store.Field("je", "Y")]
    names = [f.name for f in fields]

    def frame(*records: tuple[str, int, float]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "djzh": [r[0] for r in records],
                "nd": [r[1] for r in records],
                "je": [r[2] for r in records],
                "_tomb": [False] * len(records),
            },
            schema={"djzh": pl.String, "nd": pl.Int64, "je": pl.Float64, "_tomb": pl.Boolean},
        )

    def apply_at(data: pl.DataFrame, batch: int, at: datetime) -> store.MergeCounts:
        with resource.transaction() as session:
            table = store.ensure_table(session, 1, fields, ["djzh", "nd"])
            return store.merge(
                session,
                table,
                names,
                ["djzh", "nd"],
                [data],
                now=at,
                batch_id=batch,
                source_id=None,
                full=False,
                cursor=None,
            )

    apply_at(frame(("A", 2024, 1.0), ("A", 2025, 2.0)), 1, T0)
    second = apply_at(frame(("A", 2025, 2.5), ("B", 2025, 1.0), ("A", 2024, 1.0)), 2, T0 + timedelta(hours=1))
    assert (second.inserted, second.updated, second.unchanged) == (1, 1, 1)
    with resource.transaction(readonly=True) as session:
        table = store.existing_table(session, 1)
        assert table is not None
        rows = {(r["djzh"], r["nd"]): r["je"] for r in store.records(session, table)}
    assert rows == {("A", 2024): 1.0, ("A", 2025): 2.5, ("B", 2025): 1.0}


def test_money_columns_are_exact_and_a_float_for_them_is_taken_at_their_scale(resource: Database) -> None:
    """货币 (Y) is an exact decimal column: a float given for it (0.1 + 0.2) is the decimal 0.3, so a batch
    that repeats the stored amount changes nothing, and the stored value reads back as the same digits."""
    fields = [store.Field("djzh", "C", 20), store.Field("je", "Y")]

    def apply_amount(amount: object, dtype: pl.DataType, batch: int) -> store.MergeCounts:
        frame = pl.DataFrame(
            {"djzh": ["A"], "je": [amount], "_tomb": [False]},
            schema={"djzh": pl.String, "je": dtype, "_tomb": pl.Boolean},
        )
        with resource.transaction() as session:
            table = store.ensure_table(session, 1, fields, ["djzh"])
            return store.merge(
                session,
                table,
                ["djzh", "je"],
                ["djzh"],
                [frame],
                now=T0 + timedelta(hours=batch),
                batch_id=batch,
                source_id=None,
                full=False,
                cursor=None,
            )

    apply_amount(Decimal("0.3"), pl.Decimal(18, 6), 1)
    again = apply_amount(0.1 + 0.2, pl.Float64(), 2)  # 0.30000000000000004 as a float
    assert (again.updated, again.unchanged) == (0, 1)
    [row] = read(resource)
    assert row["je"] == Decimal("0.3") and str(row["je"]) == "0.300000"
    inspector = inspect(resource.engine)
    declared = {c["name"]: str(c["type"]).upper() for c in inspector.get_columns("rs_1")}
    assert declared["je"] in ("NUMERIC(18, 6)", "BIGINT")
