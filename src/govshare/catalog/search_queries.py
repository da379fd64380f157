"""The SQL of catalog search (catalog/search_service.py): the search index's documents and tokens, the
token match, and one statement each for the facet counts and the page, over a CTE read once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, cast, delete, func, insert, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import util as sql_util

from govshare.catalog import tokens as tk
from govshare.models import Department, SearchDocument, SearchToken

FACET_COLUMNS = {
    "provider": "department_id",
    "classification": "classification",
    "share_type": "share_type",
    "open": "open_to_public",
    "update_cycle": "update_cycle",
    "grade": "security_grade",
}
DOC_COLUMNS = (
    "resource_id",
    "code",
    "name",
    "department_id",
    "classification",
    "share_type",
    "open_to_public",
    "update_cycle",
    "security_grade",
    "published_at",
)


def remove_document(session: Session, resource_id: int) -> None:
    session.execute(delete(SearchToken).where(SearchToken.resource_id == resource_id))
    session.execute(delete(SearchDocument).where(SearchDocument.resource_id == resource_id))


def replace_document(session: Session, document: SearchDocument, weights: dict[str, float]) -> None:
    """The resource's search document and its weighted tokens, replacing what was indexed before."""
    remove_document(session, document.resource_id)
    session.add(document)
    if weights:
        session.execute(
            insert(SearchToken),
            [
                {"resource_id": document.resource_id, "token": token, "weight": weight}
                for token, weight in weights.items()
            ],
        )
    session.flush()


def department_ids(session: Session, codes: list[str]) -> list[int]:
    return list(session.scalars(select(Department.id).where(Department.code.in_(codes))))


def departments_by_id(session: Session) -> dict[int, Department]:
    return {d.id: d for d in session.scalars(select(Department))}


def _text_filter(q: str, max_tokens: int) -> tuple[Any, ColumnElement[bool] | None]:
    """A scored subquery over the token index, or (for one-character words) a substring condition."""
    runs = tk.runs(q)
    if not runs:
        return None, None
    if any(tk.is_cjk(run) and len(run) == 1 for run in runs):
        # A single character is not in the bigram index; scan the (small) document text instead.
        condition = None
        for run in runs:
            like = SearchDocument.text.contains(run, autoescape=True)
            condition = like if condition is None else condition & like
        return None, condition
    query_tokens = sorted(tk.tokens(q))[:max_tokens]
    scored = (
        select(SearchToken.resource_id, func.sum(SearchToken.weight).label("score"))
        .where(SearchToken.token.in_(query_tokens))
        .group_by(SearchToken.resource_id)
        .having(func.count() == len(query_tokens))
    )
    return scored, None


def _rebind(condition: ColumnElement[bool], matched: Any) -> ColumnElement[bool]:
    """The same condition on the CTE's columns instead of the document table's."""
    return sql_util.ClauseAdapter(matched).traverse(condition)


def search(
    session: Session,
    q: str,
    conditions: dict[str, ColumnElement[bool]],
    max_tokens: int,
    *,
    page_size: int,
    offset: int,
) -> tuple[list[Any], list[Any]]:
    """(facet counts as (facet, value, n) with the total as facet "__total__", the page's rows). Each
    facet counts under every filter but its own."""
    scored, text_condition = _text_filter(q, max_tokens)
    # The text match is evaluated once, as a CTE that the total, the facets and the page all read
    # (PostgreSQL and SQLite both materialise a CTE that is referenced more than once).
    columns = [SearchDocument.__table__.c[name] for name in DOC_COLUMNS]
    if scored is not None:
        scored_sq = scored.subquery()
        matched_stmt = select(*columns, scored_sq.c.score.label("score")).join(
            scored_sq, scored_sq.c.resource_id == SearchDocument.resource_id
        )
    else:
        matched_stmt = select(*columns, literal(0.0).label("score"))
    if text_condition is not None:
        matched_stmt = matched_stmt.where(text_condition)
    matched = matched_stmt.cte("matched")
    on_matched = {name: _rebind(condition, matched) for name, condition in conditions.items()}

    def where_all_but(exclude: str | None) -> list[ColumnElement[bool]]:
        return [c for name, c in on_matched.items() if name != exclude]

    counts = [
        select(literal("__total__").label("facet"), literal("").label("value"), func.count().label("n"))
        .select_from(matched)
        .where(*where_all_but(None))
    ]
    for name, column_name in FACET_COLUMNS.items():
        column = matched.c[column_name]
        counts.append(
            select(literal(name), cast(column, String), func.count())
            .select_from(matched)
            .where(*where_all_but(name))
            .group_by(column)
        )
    page_stmt = (
        select(matched)
        .where(*where_all_but(None))
        .order_by(matched.c.score.desc(), matched.c.published_at.desc(), matched.c.resource_id)
        .limit(page_size)
        .offset(offset)
    )
    counted = list(session.execute(union_all(*counts)).all())
    rows = list(session.execute(page_stmt).mappings().all())
    return counted, rows
