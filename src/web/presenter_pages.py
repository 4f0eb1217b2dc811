"""Presenter mode for a conference screen: large type, the need being shown with its matches
arriving live, the map, a QR code to the public start page (made here, not by a web service)."""

from __future__ import annotations

from functools import cache

import segno
from litestar import get
from litestar.datastructures import State
from litestar.params import FromQuery
from litestar.response import Template
from markupsafe import Markup

from asfmatch.api.state import Db, resources
from asfmatch.services import needs as needs_service
from asfmatch.storage import overview
from asfmatch.web.errors import PageError
from asfmatch.web.rendering import page
from asfmatch.web.visitor import VisitorDep


@cache
def qr_svg(url: str) -> Markup:
    """The URL as an inline SVG QR code (dark on white, quiet zone included)."""
    svg: str = segno.make(url, error="m").svg_inline(
        scale=4, dark="#10223f", light="#ffffff", omitsize=True
    )
    return Markup(svg)  # noqa: S704 - segno writes the SVG itself; the URL is our own setting


@get("/presentation", name="web:presenter", include_in_schema=False)
async def presenter_page(
    visitor: VisitorDep, db: Db, state: State, behov: FromQuery[int | None] = None
) -> Template:
    """The need on screen: the one asked for, else the newest open need that has matches."""
    if not visitor.sees_everything:
        raise PageError(401 if not visitor.signed_in else 403, "error.not_for_you")
    need_id = behov or await overview.newest_need_with_matches(db)
    need = None if need_id is None else await needs_service.read_need(db, visitor.reader(), need_id)
    counts = await overview.public_counts(db)
    per_lan = await overview.suppliers_per_lan(db)
    public_url = resources(state).settings.public_url.rstrip("/") + "/"
    return page(
        visitor,
        "presenter.html",
        need=need,
        counts=counts,
        per_lan=per_lan,
        selected=None if need is None else need.lan,
        public_url=public_url,
        qr=qr_svg(public_url),
    )


HANDLERS = [presenter_page]
