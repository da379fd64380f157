"""Public API shapes of the open datasets (`/api/open/v1`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from govshare.opendata.service import FORMATS, Facet, OpenDataset, OpenPage, RecordsPage, Stats


class ItemOut(BaseModel):
    field: str = Field(description="字段名（下载文件与记录接口中的列名）")
    name: str = Field(description="信息项名称")
    data_type: str = Field(description="数据类型代码（C 字符、N 数值、D 日期……）")


class DatasetOut(BaseModel):
    code: str = Field(description="信息资源代码")
    name: str
    summary: str
    provider: str = Field(description="提供方名称")
    provider_code: str
    classification: str = Field(description="分类")
    update_cycle: str = Field(description="更新周期")
    open_condition: str = Field(description="开放条件")
    items: list[ItemOut] = Field(description="开放的信息项（不含个人信息、不予共享和较高安全级别的信息项）")
    withheld_items: int = Field(description="未开放的信息项个数")
    record_count: int = Field(description="当前记录数")
    last_updated: datetime | None = Field(description="数据最近更新时间")
    downloads: dict[str, str] = Field(description="各格式的下载地址（相对路径）")

    @classmethod
    def of(cls, dataset: OpenDataset) -> DatasetOut:
        return cls(
            code=dataset.code,
            name=dataset.name,
            summary=dataset.summary,
            provider=dataset.provider_name,
            provider_code=dataset.provider_code,
            classification=dataset.classification_label,
            update_cycle=dataset.update_cycle,
            open_condition=dataset.open_condition,
            items=[ItemOut(field=i.field, name=i.name, data_type=i.data_type) for i in dataset.items],
            withheld_items=len(dataset.withheld),
            record_count=dataset.record_count,
            last_updated=dataset.last_updated,
            downloads={f: dataset.download_path(f) for f in FORMATS} if dataset.has_data else {},
        )


class FacetOut(BaseModel):
    value: str
    label: str
    count: int

    @classmethod
    def of(cls, facet: Facet) -> FacetOut:
        return cls(value=facet.value, label=facet.label, count=facet.count)


class DatasetPageOut(BaseModel):
    total: int
    page: int
    page_size: int
    pages: int
    datasets: list[DatasetOut]
    providers: list[FacetOut]
    classifications: list[FacetOut]

    @classmethod
    def of(cls, page: OpenPage) -> DatasetPageOut:
        return cls(
            total=page.total,
            page=page.page,
            page_size=page.page_size,
            pages=page.pages,
            datasets=[DatasetOut.of(d) for d in page.datasets],
            providers=[FacetOut.of(f) for f in page.providers],
            classifications=[FacetOut.of(f) for f in page.classifications],
        )


class RecordsOut(BaseModel):
    dataset: str
    page: int
    page_size: int
    total: int = Field(description="当前记录总数")
    fields: list[str]
    records: list[dict[str, Any]]

    @classmethod
    def of(cls, page: RecordsPage) -> RecordsOut:
        return cls(
            dataset=page.dataset.code,
            page=page.page,
            page_size=page.page_size,
            total=page.total,
            fields=page.dataset.fields,
            records=page.records,
        )


class StatsOut(BaseModel):
    datasets: int = Field(description="开放数据集个数")
    totals: dict[str, int] = Field(description="累计：页面浏览、各格式下载、接口调用")
    top: list[dict[str, Any]] = Field(description="下载最多的数据集")
    months: list[dict[str, Any]] = Field(description="近 12 个月每月的下载与调用")

    @classmethod
    def of(cls, stats: Stats) -> StatsOut:
        return cls(datasets=stats.datasets, totals=stats.totals, top=stats.top, months=stats.months)
