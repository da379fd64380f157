"""A data-API filter value has the type of the column its item is stored in, for every catalog data type
(one item-type map: `collection/itemtypes.py` `column_type` for the column, `sharing/records.py` `coerce`
for the value). A mismatch is a database error: PostgreSQL refuses `text = double precision`."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select

from govshare.catalog.vocabulary import DataType
from govshare.collection.itemtypes import column_type
from govshare.core.db import Database
from govshare.sharing.access import ItemMeta
from govshare.sharing.records import coerce

SAMPLES = {
    "C": "北京市",
    "N": "3977.5968",
    "Y": "-0.5",
    "D": "2024-02-29",
    "T": "2024-02-29T08:30:00",
    "L": "true",
    "M": "备注文字",
    "G": "通用",
    "B": "116.397128",
    "I": "42",
    "F": "1.5",
}


def _item(data_type: str) -> ItemMeta:
    return ItemMeta(
        field=f"v_{data_type.lower()}",
        name=f"类型 {data_type}",
        data_type=data_type,
        mask_rule="",
        share_type="无条件",
        is_key=False,
        subject=None,
    )


def test_every_data_type_has_a_sample() -> None:
    assert set(SAMPLES) == {t.value for t in DataType}


@pytest.mark.parametrize("data_type", sorted(SAMPLES))
def test_a_filter_value_binds_to_its_stored_column(db: Database, data_type: str) -> None:
    item = _item(data_type)
    metadata = MetaData()
    table = Table(
        f"filter_types_{data_type.lower()}",
        metadata,
        Column("id", Integer, primary_key=True),
        Column(item.field, column_type(data_type, 40)),
    )
    metadata.create_all(db.engine)
    try:
        value: Any = coerce(item, SAMPLES[data_type], "filter")
        with db.transaction() as session:
            session.execute(insert(table).values(id=1, **{item.field: value}))
            found = session.execute(
                select(func.count()).select_from(table).where(table.c[item.field] == value)
            ).scalar_one()
        assert found == 1
    finally:
        metadata.drop_all(db.engine)
