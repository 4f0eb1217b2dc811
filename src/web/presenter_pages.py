"""Presenter mode for a conference screen: large type, the need being shown with its matches
arriving live on the map and in the list, the best-matched ASF's inbox as it receives the
notification, a QR code to the public start page (made here, not by a web service).

The presenter's session is read-only. Under `asfmatch demo` (and only there) it may do two
things more, both confined to the demo: start the guided run, which posts the one prepared
need for the demo buyer (once per reset), and reset the demo between talks. So the projector
can run the whole show from one keyboard, and a leaked presenter link can at worst post that
one fictional need to fictional ASFs, never anything of its own making."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

import segno
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from markupsafe import Markup

from asfmatch.api.state import Db, resources
from asfmatch.services import demo as demo_service
from asfmatch.services import needs as needs_service
from asfmatch.services import notifications as notifications_service
from asfmatch.services.needs import NeedCreate
from asfmatch.storage import overview
from asfmatch.storage import suppliers as suppliers_repo
from asfmatch.storage.organisations import Principal
from asfmatch.web.errors import PageError
from asfmatch.web.i18n import SWEDEN, Translator
from asfmatch.web.rendering import kommun_name, page
from asfmatch.web.sweden_map import Marker, kommun_marker
from asfmatch.web.visitor import Visitor, VisitorDep, checked_form

# Markers on the presenter's map: the need's best matches.
_MAP_MARKERS = 10
# The guided need's notification is looked for among the ASF's newest notifications.
_INBOX_LOOK = 20


@cache
def qr_svg(url: str) -> Markup:
    """The URL as an inline SVG QR code (dark on white, quiet zone included)."""
    svg: str = segno.make(url, error="m").svg_inline(
        scale=4, dark="#10223f", light="#ffffff", omitsize=True
    )
    return Markup(svg)  # noqa: S704 - segno writes the SVG itself; the URL is our own setting


def _presenter(visitor: Visitor) -> None:
    if not visitor.sees_everything:
        raise PageError(401 if not visitor.signed_in else 403, "error.not_for_you")


def _demo_action(visitor: Visitor, state: State) -> None:
    """The guided run and the reset: a presenter or admin, and only under `asfmatch demo`."""
    _presenter(visitor)
    if not resources(state).settings.demo_mode:
        raise PageError(404, "error.not_found")


def prepared_need() -> NeedCreate:
    """The guided run's need (Swedish whatever the page's language: the matching reads
    Swedish), closing in 30 days, in Luleå where the demo has ASFs."""
    swedish = Translator("sv")
    closes = datetime.now(SWEDEN).replace(hour=12, minute=0, second=0, microsecond=0)
    return NeedCreate(
        title=swedish("example.title"),
        description=swedish("example.description"),
        kommun="2580",
        cpv_codes=["90910000"],
        estimated_value_sek=600_000,
        reserved=True,
        training_places=2,
        closes_at=closes + timedelta(days=30),
    )


@get("/presentation", name="web:presenter", include_in_schema=False)
async def presenter_page(
    visitor: VisitorDep,
    db: Db,
    state: State,
    behov: FromQuery[int | None] = None,
    aterstallt: FromQuery[int | None] = None,
) -> Template:
    """The need on screen: the one asked for, else the newest open need that has matches."""
    _presenter(visitor)
    need_id = behov or await overview.newest_need_with_matches(db)
    need = None if need_id is None else await needs_service.read_need(db, visitor.reader(), need_id)
    counts = await overview.public_counts(db)
    public_url = resources(state).settings.public_url.rstrip("/") + "/"
    return page(
        visitor,
        "presenter.html",
        need=need,
        counts=counts,
        public_url=public_url,
        qr=qr_svg(public_url),
        demo=resources(state).settings.demo_mode,
        reset=aterstallt,
    )


@get("/presentation/karta", name="web:presenter_map", include_in_schema=False)
async def presenter_map(visitor: VisitorDep, db: Db, behov: FromQuery[int]) -> Template:
    """The map with the need's län marked and its best matches as markers (refreshed live)."""
    _presenter(visitor)
    need = await needs_service.read_need(db, visitor.reader(), behov)
    markers: list[Marker] = []
    for supplier_id in await overview.matched_suppliers(db, behov, _MAP_MARKERS):
        supplier = await suppliers_repo.get_supplier(db, supplier_id)
        if supplier is None or not supplier.home_kommun:
            continue
        label = visitor.t(
            "map.supplier_at", name=supplier.name, kommun=kommun_name(supplier.home_kommun)
        )
        marker = kommun_marker(supplier.home_kommun, label, f"/asf/{supplier.id}", str(supplier.id))
        if marker is not None:
            markers.append(marker)
    return page(
        visitor,
        "partials/presenter_map.html",
        per_lan=await overview.suppliers_per_lan(db),
        selected=need.lan,
        markers=markers,
    )


@get("/presentation/inkorg", name="web:presenter_inbox", include_in_schema=False)
async def presenter_inbox(visitor: VisitorDep, db: Db, behov: FromQuery[int]) -> Template:
    """The best-matched ASF's notification about the need, as its inbox shows it (no answer
    buttons here), or a wait message until the worker has told it."""
    _presenter(visitor)
    reader = visitor.reader()
    supplier_id = await overview.best_told_supplier(db, behov)
    supplier = None if supplier_id is None else await suppliers_repo.get_supplier(db, supplier_id)
    item: Any = None
    if supplier is not None:
        found = await notifications_service.inbox(
            db, reader, supplier.id, unread_only=False, page=1, page_size=_INBOX_LOOK
        )
        item = next(
            (n for n in found.items if any(told.need_id == behov for told in n.needs)), None
        )
    return page(
        visitor, "partials/presenter_inbox.html", supplier=supplier, item=item, readonly=True
    )


@post("/presentation/guidad", name="web:presenter_run", include_in_schema=False)
async def guided_run(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, state: State
) -> Redirect:
    """Step one of the guided run: post the prepared need, then show it as its matches and the
    ASF's notification arrive."""
    _demo_action(visitor, state)
    await checked_form(request, visitor)
    need_id = await demo_service.guided_run(db, prepared_need())
    return Redirect(path=f"/presentation?behov={need_id}", status_code=303)


@post("/presentation/aterstall", name="web:presenter_reset", include_in_schema=False)
async def presenter_reset(
    request: Request[Any, Any, Any], visitor: VisitorDep, db: Db, state: State
) -> Redirect:
    """Between talks: remove what was posted since the demo data was loaded."""
    _demo_action(visitor, state)
    await checked_form(request, visitor)
    removed = await demo_service.reset_demo(
        db, Principal(organisation_id=0, role="admin", key_id=0), resources(state).settings
    )
    return Redirect(path=f"/presentation?aterstallt={removed}", status_code=303)


HANDLERS = [presenter_page, presenter_map, presenter_inbox, guided_run, presenter_reset]
