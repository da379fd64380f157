"""Portal page: the home page (首页): the node's public figures and charts for everyone, and a logged-in
user's work waiting, each only for who may do it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from govshare.auth.actor import Actor
from govshare.overview import service as overview
from govshare.web import charts
from govshare.web.deps import DB_SESSION, public_actor
from govshare.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    session: Session = DB_SESSION,
    actor: Actor = public_actor("the portal home page shows the node's public figures"),
) -> HTMLResponse:
    figures = overview.node_figures(session)
    return render(
        request,
        "home.html",
        actor,
        figures={
            **vars(figures),
            "records_text": charts.format_number(figures.records),
            "calls_text": charts.format_number(figures.calls),
        },
        todo=[(t.label, t.count, t.page) for t in overview.todos(session, actor)],
        growth_chart=charts.catalog_growth_chart(figures.growth),
        mix_chart=charts.share_mix_chart(figures.unconditional, figures.conditional, figures.not_shared),
    )
