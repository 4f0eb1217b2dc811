"""The yearly report as a page with server-drawn charts and a data table, and as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from litestar import Response, get
from litestar.params import FromQuery
from litestar.response import Template
from markupsafe import Markup

from asfmatch.api.state import Db
from asfmatch.services import reports as reports_service
from asfmatch.services.reports import Report, ReportYear
from asfmatch.web.charts import Series, bar_chart, horizontal_bars
from asfmatch.web.errors import PageError
from asfmatch.web.i18n import Translator
from asfmatch.web.rendering import page
from asfmatch.web.visitor import Visitor, VisitorDep

# The "area" choice that means the signed-in buyer's own organisation.
MINE = "mina"
CSV_COLUMNS = (
    "year",
    "needs_posted",
    "reserved",
    "reserved_share",
    "interested_per_need",
    "awarded",
    "won_by_asf",
    "value_awarded_sek",
    "value_won_by_asf_sek",
    "jobs",
    "training_places",
)


def _year(raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    if not raw.strip().isdigit() or len(raw.strip()) != 4:
        raise PageError(422, "report.bad_year")
    return int(raw)


async def _report(
    db: Db, visitor: Visitor, area: str | None, fran: str | None, till: str | None
) -> Report:
    buyer_id = None
    lan_code = None
    if area == MINE:
        visitor.require("buyer")
        effective = visitor.effective
        assert effective is not None
        buyer_id = effective.id
    elif area:
        lan_code = area
    return await reports_service.report(
        db,
        visitor.reader(),
        lan_code=lan_code,
        buyer_id=buyer_id,
        from_year=_year(fran),
        to_year=_year(till),
        now=datetime.now(UTC),
    )


def _year_chart(
    report: Report,
    t: Translator,
    key: str,
    series: Sequence[tuple[str, Callable[[ReportYear], float]]],
    number: Callable[[float], str] | None = None,
) -> Markup:
    """One of the yearly bar charts: `chart-{key}` with its catalogue title and description,
    a series per (catalogue label, value of a year); amounts shown as whole numbers unless
    `number` is given."""
    return bar_chart(
        f"chart-{key}",
        t(f"report.chart_{key}"),
        t(f"report.chart_{key}_desc", name=report.name),
        [str(row.year) for row in report.years],
        [
            Series(t(f"report.{label}"), [value(row) for row in report.years])
            for label, value in series
        ],
        number or t.number,
        whole=number is None,
    )


def _charts(report: Report, t: Translator) -> list[object]:
    charts: list[object] = [
        _year_chart(
            report,
            t,
            "needs",
            [
                ("needs_posted", lambda row: row.needs_posted),
                ("reserved", lambda row: row.reserved),
            ],
        ),
        _year_chart(
            report,
            t,
            "awards",
            [("awarded", lambda row: row.awarded), ("won_by_asf", lambda row: row.won_by_asf)],
        ),
        _year_chart(
            report,
            t,
            "value",
            [
                ("value_awarded_msek", lambda row: row.value_awarded_sek / 1e6),
                ("value_won_by_asf_msek", lambda row: row.value_won_by_asf_sek / 1e6),
            ],
            lambda value: t.number(value, 1),
        ),
        _year_chart(
            report,
            t,
            "places",
            [("jobs", lambda row: row.jobs), ("training_places", lambda row: row.training_places)],
        ),
    ]
    if report.by_lan:
        charts.append(
            horizontal_bars(
                "chart-lan",
                t("report.chart_lan"),
                t("report.chart_lan_desc", first=report.from_year, last=report.to_year),
                [row.name for row in report.by_lan],
                [row.needs_posted for row in report.by_lan],
                t.number,
            )
        )
    return charts


@get("/rapporter", name="web:reports", include_in_schema=False)
async def reports_page(
    visitor: VisitorDep,
    db: Db,
    omrade: FromQuery[str | None] = None,
    fran: FromQuery[str | None] = None,
    till: FromQuery[str | None] = None,
) -> Template:
    """The report of the nation, a län or (for a buyer) its own organisation."""
    report = await _report(db, visitor, omrade, fran, till)
    this_year = datetime.now(UTC).year
    return page(
        visitor,
        "reports.html",
        report=report,
        charts=_charts(report, visitor.t),
        area=omrade or "",
        mine=MINE,
        year_choices=list(range(this_year, this_year - reports_service.MAX_YEARS, -1)),
        query=f"omrade={omrade or ''}&fran={report.from_year}&till={report.to_year}",
    )


@get("/rapporter.csv", name="web:reports_csv", include_in_schema=False)
async def reports_csv(
    visitor: VisitorDep,
    db: Db,
    omrade: FromQuery[str | None] = None,
    fran: FromQuery[str | None] = None,
    till: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The report's yearly rows as CSV (semicolons, UTF-8 with BOM, for Swedish Excel)."""
    report = await _report(db, visitor, omrade, fran, till)
    t = visitor.t
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([t(f"report.{column}") for column in CSV_COLUMNS])
    for row in report.years:
        writer.writerow(
            [
                row.year,
                row.needs_posted,
                row.reserved,
                "" if row.reserved_share is None else f"{row.reserved_share:.4f}",
                "" if row.interested_per_need is None else f"{row.interested_per_need:.2f}",
                row.awarded,
                row.won_by_asf,
                row.value_awarded_sek,
                row.value_won_by_asf_sek,
                row.jobs,
                row.training_places,
            ]
        )
    name = report.scope if report.scope != "lan" else f"lan-{report.lan}"
    return Response(
        ("\ufeff" + out.getvalue()).encode(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="rapport-{name}-{report.from_year}-{report.to_year}.csv"'
            ),
            "Cache-Control": "no-store",
        },
    )


HANDLERS = [reports_page, reports_csv]
