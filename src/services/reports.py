"""Yearly reports of social procurement: nationally and per län for everyone, per buyer for the
buyer itself and admins.

Why a buyer's report is not public: it counts the ASFs that answered interested to that
buyer's needs, and for a buyer with a handful of needs that reveals answers the platform shows
only to the buyer (GET /needs/{id}/interest). National and län figures pool many buyers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from asfmatch.reference.regions import lan
from asfmatch.services.access import may_manage, require
from asfmatch.services.errors import NotFound
from asfmatch.services.validation import Checker
from asfmatch.storage import reports as repo
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Principal, get_organisation

SWEDEN = ZoneInfo("Europe/Stockholm")
# The range a report may span; more years make a page nobody reads and a longer scan.
MAX_YEARS = 20
FIRST_YEAR = 2000
DEFAULT_YEARS = 5


class ReportYear(msgspec.Struct, frozen=True, kw_only=True):
    """One year's figures; shares and averages are None for a year without needs."""

    year: int
    needs_posted: int
    reserved: int
    reserved_share: float | None
    interested_answers: int
    interested_per_need: float | None
    awarded: int
    won_by_asf: int
    value_awarded_sek: int
    value_won_by_asf_sek: int
    jobs: int
    training_places: int


class ReportLan(msgspec.Struct, frozen=True, kw_only=True):
    """One län's figures over the report's years (national reports only)."""

    lan: str
    name: str
    needs_posted: int
    reserved: int
    won_by_asf: int
    value_won_by_asf_sek: int


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """A report: its scope, one row per year (every year of the range, empty ones too) and,
    nationally, one row per län."""

    scope: str
    lan: str | None
    buyer_id: int | None
    name: str
    from_year: int
    to_year: int
    years: list[ReportYear]
    by_lan: list[ReportLan]


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _year(figures: repo.YearFigures | None, year: int) -> ReportYear:
    f = figures or repo.YearFigures(
        year=year,
        needs_posted=0,
        reserved=0,
        interested_answers=0,
        awarded=0,
        won_by_asf=0,
        value_awarded_sek=0,
        value_won_by_asf_sek=0,
        jobs=0,
        training_places=0,
    )
    return ReportYear(
        year=year,
        needs_posted=f.needs_posted,
        reserved=f.reserved,
        reserved_share=_share(f.reserved, f.needs_posted),
        interested_answers=f.interested_answers,
        interested_per_need=_share(f.interested_answers, f.needs_posted),
        awarded=f.awarded,
        won_by_asf=f.won_by_asf,
        value_awarded_sek=f.value_awarded_sek,
        value_won_by_asf_sek=f.value_won_by_asf_sek,
        jobs=f.jobs,
        training_places=f.training_places,
    )


def year_range(from_year: int | None, to_year: int | None, now: datetime) -> tuple[int, int]:
    """The years a report covers: the last DEFAULT_YEARS up to this year unless given; every
    bad bound is reported at once."""
    this_year = now.astimezone(SWEDEN).year
    last = this_year if to_year is None else to_year
    first = last - DEFAULT_YEARS + 1 if from_year is None else from_year
    check = Checker()
    for field, value in (("from_year", first), ("to_year", last)):
        if not FIRST_YEAR <= value <= this_year + 1:
            check.fail(field, f"must lie between {FIRST_YEAR} and {this_year + 1}")
    if not check.errors and first > last:
        check.fail("from_year", "lies after to_year")
    elif not check.errors and last - first + 1 > MAX_YEARS:
        check.fail("from_year", f"a report spans at most {MAX_YEARS} years")
    check.raise_if_failed()
    return first, last


async def report(
    db: Connection,
    principal: Principal | None,
    *,
    lan_code: str | None = None,
    buyer_id: int | None = None,
    from_year: int | None = None,
    to_year: int | None = None,
    now: datetime,
) -> Report:
    """The report of a scope: a buyer's (`buyer_id`, for the buyer and admins), a län's
    (`lan_code`) or the nation's (neither)."""
    check = Checker()
    if lan_code is not None and buyer_id is not None:
        check.fail("lan", "a report is for a län or for a buyer, not both")
    if lan_code is not None:
        check.lan("lan", lan_code)
    check.raise_if_failed()
    first, last = year_range(from_year, to_year, now)
    since = datetime(first, 1, 1, tzinfo=SWEDEN)
    until = datetime(last + 1, 1, 1, tzinfo=SWEDEN)
    if buyer_id is not None:
        caller = require(principal, "admin", "buyer")
        may_manage(caller, buyer_id)
        buyer = await get_organisation(db, buyer_id)
        if buyer is None or buyer.kind != "buyer":
            raise NotFound("buyer", buyer_id)
        scope, name = "buyer", buyer.name
    elif lan_code is not None:
        scope, name = "lan", lan()[lan_code].name
    else:
        scope, name = "national", "Sverige"
    rows = await repo.yearly_figures(db, since, until, lan=lan_code, buyer_id=buyer_id)
    by_year = {row.year: row for row in rows}
    by_lan: list[ReportLan] = []
    if scope == "national":
        counties = lan()
        by_lan = [
            ReportLan(
                lan=row.lan,
                name=counties[row.lan].name if row.lan in counties else row.lan,
                needs_posted=row.needs_posted,
                reserved=row.reserved,
                won_by_asf=row.won_by_asf,
                value_won_by_asf_sek=row.value_won_by_asf_sek,
            )
            for row in await repo.lan_figures(db, since, until)
        ]
    return Report(
        scope=scope,
        lan=lan_code,
        buyer_id=buyer_id,
        name=name,
        from_year=first,
        to_year=last,
        years=[_year(by_year.get(year), year) for year in range(first, last + 1)],
        by_lan=by_lan,
    )
