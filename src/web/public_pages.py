"""Pages anyone may open: start page with the map, open needs, the ASF directory, profiles."""

from __future__ import annotations

from typing import Annotated, Any, get_args
from urllib.parse import quote

from litestar import Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from asfmatch.api.schemas import PathId
from asfmatch.api.state import Db
from asfmatch.reference.cpv import search_cpv
from asfmatch.reference.regions import kommuner, lan
from asfmatch.services.needs import NeedSource
from asfmatch.storage import needs as needs_repo
from asfmatch.storage import overview
from asfmatch.storage import suppliers as suppliers_repo
from asfmatch.storage.needs import NeedFilter
from asfmatch.storage.suppliers import SupplierFilter
from asfmatch.web.errors import PageError
from asfmatch.web.i18n import LANGUAGES
from asfmatch.web.rendering import kommun_name, page
from asfmatch.web.sweden_map import kommun_marker
from asfmatch.web.visitor import LANGUAGE_COOKIE, VisitorDep

PAGE_SIZE = 20
NEED_SOURCES: tuple[str, ...] = get_args(NeedSource)
CPV_INPUTS = ("q", "cpv_1", "cpv_2", "cpv_3")
Text = Annotated[str | None, QueryParameter(max_length=200, required=False)]


def _area_filters(lan_code: str | None, kommun_code: str | None) -> tuple[str | None, str | None]:
    """Unknown codes in a link are ignored rather than answered with an error page."""
    return (
        lan_code if lan_code in lan() else None,
        kommun_code if kommun_code in kommuner() else None,
    )


@get("/", name="web:start", include_in_schema=False)
async def start_page(visitor: VisitorDep, db: Db) -> Template:
    """Counts, the map and the newest open needs."""
    counts = await overview.public_counts(db)
    per_lan = await overview.suppliers_per_lan(db)
    newest = await needs_repo.list_needs(db, NeedFilter(status="open"), page=1, page_size=6)
    return page(
        visitor, "start.html", counts=counts, per_lan=per_lan, needs=newest.items, selected=None
    )


@get("/asf", name="web:directory", include_in_schema=False)
async def directory_page(
    visitor: VisitorDep,
    db: Db,
    lan_code: Annotated[
        str | None, QueryParameter(name="lan", max_length=2, required=False)
    ] = None,
    kommun_code: Annotated[
        str | None, QueryParameter(name="kommun", max_length=4, required=False)
    ] = None,
    q: Text = None,
    page_no: Annotated[int, QueryParameter(name="sida", ge=1, le=10_000)] = 1,
) -> Template:
    """ASFs filtered by län (the map's links), kommun and a word of their services."""
    lan_code, kommun_code = _area_filters(lan_code, kommun_code)
    found = await suppliers_repo.list_suppliers(
        db,
        SupplierFilter(lan=lan_code, kommun=kommun_code, active=True, query=q or None),
        page=page_no,
        page_size=PAGE_SIZE,
    )
    per_lan = await overview.suppliers_per_lan(db)
    # The ASFs of this result page as markers at their home kommun, each a link to its profile.
    markers = [
        marker
        for supplier in found.items
        if supplier.home_kommun
        and (
            marker := kommun_marker(
                supplier.home_kommun,
                visitor.t(
                    "map.supplier_at", name=supplier.name, kommun=kommun_name(supplier.home_kommun)
                ),
                f"/asf/{supplier.id}",
                str(supplier.id),
            )
        )
        is not None
    ]
    return page(
        visitor,
        "directory.html",
        suppliers=found,
        per_lan=per_lan,
        markers=markers,
        selected=lan_code,
        kommun=kommun_code,
        q=q or "",
    )


@get("/asf/{supplier_id:int}", name="web:supplier", include_in_schema=False)
async def supplier_page(visitor: VisitorDep, db: Db, supplier_id: PathId) -> Template:
    """One ASF's public profile."""
    supplier = await suppliers_repo.get_supplier(db, supplier_id)
    if supplier is None or (not supplier.active and not visitor.sees_everything):
        raise PageError(404, "error.not_found")
    home = (
        kommun_marker(supplier.home_kommun, supplier.name, f"/asf/{supplier.id}", "home")
        if supplier.home_kommun
        else None
    )
    # The map fills the whole län of the area and dots the single kommuner in it.
    dots = [
        marker
        for code in supplier.service_area
        if len(code) == 4 and (marker := kommun_marker(code, kommun_name(code), "", code))
    ]
    return page(
        visitor,
        "supplier.html",
        supplier=supplier,
        area_lan=[code for code in supplier.service_area if len(code) == 2],
        dots=dots,
        markers=[home] if home else [],
    )


@get("/behov", name="web:needs", include_in_schema=False)
async def needs_page(
    visitor: VisitorDep,
    db: Db,
    lan_code: Annotated[
        str | None, QueryParameter(name="lan", max_length=2, required=False)
    ] = None,
    q: Text = None,
    source: Annotated[
        str | None, QueryParameter(name="kalla", max_length=20, required=False)
    ] = None,
    only_reserved: Annotated[bool, QueryParameter(name="reserverad")] = False,
    only_social: Annotated[bool, QueryParameter(name="socialt")] = False,
    page_no: Annotated[int, QueryParameter(name="sida", ge=1, le=10_000)] = 1,
) -> Template:
    """Open needs, newest first, narrowed by län, words, source and the social flags."""
    lan_code, _ = _area_filters(lan_code, None)
    # An unknown source from a hand-edited link lists every source instead of failing.
    source = source if source in NEED_SOURCES else None
    found = await needs_repo.list_needs(
        db,
        NeedFilter(
            status="open",
            lan=lan_code,
            query=q or None,
            source=source,
            reserved=True if only_reserved else None,
            social_objective=True if only_social else None,
        ),
        page=page_no,
        page_size=PAGE_SIZE,
    )
    per_lan = await overview.open_needs_per_lan(db)
    kept = {
        "lan": lan_code,
        "q": q or None,
        "kalla": source,
        "reserverad": "true" if only_reserved else None,
        "socialt": "true" if only_social else None,
    }
    pager_base = "/behov?" + "".join(
        f"{name}={quote(value)}&" for name, value in kept.items() if value
    )
    return page(
        visitor,
        "needs.html",
        needs=found,
        per_lan=per_lan,
        selected=lan_code,
        q=q or "",
        source=source,
        sources=NEED_SOURCES,
        only_reserved=only_reserved,
        only_social=only_social,
        pager_base=pager_base,
    )


@get("/sprak/{language:str}", name="web:language", include_in_schema=False)
async def switch_language(
    visitor: VisitorDep,
    language: FromPath[str],
    next_path: Annotated[str, QueryParameter(name="next", max_length=500, required=False)] = "/",
) -> Redirect:
    """Remember the chosen language and go back to the page it was chosen on."""
    if language not in LANGUAGES:
        raise PageError(404, "error.not_found")
    target = next_path if next_path.startswith("/") and not next_path.startswith("//") else "/"
    return Redirect(
        path=target,
        status_code=303,
        cookies=[visitor.cookie(LANGUAGE_COOKIE, language, 365 * 24 * 3600)],
    )


@get("/hjalp/kpv", name="web:cpv_options", include_in_schema=False)
async def cpv_options(visitor: VisitorDep, request: Request[Any, Any, Any]) -> Template:
    """Typeahead: CPV codes for a few typed letters, as the <option>s of the form's datalist.
    htmx sends the typing input under its own name (cpv_1, cpv_2, …), so any of them counts."""
    typed = next(
        (value for key, value in request.query_params.items() if key in CPV_INPUTS and value), ""
    )[:100]
    found = search_cpv(typed, limit=12) if len(typed.strip()) >= 2 else []
    return page(visitor, "partials/cpv_options.html", found=found)


@get("/favicon.ico", include_in_schema=False, name="web:favicon")
async def favicon() -> Redirect:
    """Browsers ask for this path on their own."""
    return Redirect(path="/static/web/favicon.svg", status_code=301)


HANDLERS = [
    start_page,
    directory_page,
    supplier_page,
    needs_page,
    switch_language,
    cpv_options,
    favicon,
]
