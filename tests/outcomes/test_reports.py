"""The yearly reports: figures checked against a small world counted by hand, who may read
which report, every bad parameter a 4xx naming it, the page with its charts and table, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from outcome_testkit import API, Party, make_party, post_need

from asfmatch.reference.org_numbers import luhn_check_digit

THIS_YEAR = datetime.now(UTC).year


async def _post_in_year(
    client: Any, db: asyncpg.Connection, buyer: Party, year: int, **fields: Any
) -> int:
    need = await post_need(client, buyer, **fields)
    # Posting in another year is not something the API does; the report only reads created_at.
    await db.execute(
        "UPDATE needs SET created_at = make_timestamptz($2, 6, 15, 12, 0, 0, 'Europe/Stockholm') "
        "WHERE id = $1",
        need["id"],
        year,
    )
    return int(need["id"])


async def _award(client: Any, buyer: Party, need_id: int, **body: Any) -> None:
    response = await client.put(f"{API}/needs/{need_id}/outcome", json=body, headers=buyer.headers)
    assert response.status_code == 200, response.text


@pytest.fixture
async def world(client: Any, keys: Any, db: asyncpg.Connection) -> dict[str, Any]:
    """Luleå (län 25) posts three needs last year and two this year; Linköping (län 05) one."""
    lulea = await make_party(client, keys, "buyer", "Luleå kommun")
    linkoping = await make_party(client, keys, "buyer", "Linköpings kommun")
    asf = await make_party(client, keys, "supplier", "Städkooperativet Norr")
    last = THIS_YEAR - 1
    a = await _post_in_year(client, db, lulea, last, reserved=True)
    b = await _post_in_year(client, db, lulea, last, reserved=True)
    await _post_in_year(client, db, lulea, last, reserved=False)
    c = await _post_in_year(client, db, lulea, THIS_YEAR, reserved=False)
    await _post_in_year(client, db, lulea, THIS_YEAR, reserved=True, status="draft")
    d = await _post_in_year(client, db, linkoping, THIS_YEAR, kommun="0580", reserved=True)
    await _award(
        client,
        lulea,
        a,
        result="awarded",
        awarded_to=[{"org_number": asf.org_number}],
        value_sek=600_000,
        jobs=2,
        training_places=3,
    )
    outsider = f"556677-889{luhn_check_digit('556677889')}"
    await _award(
        client,
        lulea,
        b,
        result="awarded",
        awarded_to=[{"org_number": outsider, "name": "Stora Städ AB"}],
        value_sek=2_000_000,
    )
    await _award(client, lulea, c, result="cancelled")
    await _award(
        client,
        linkoping,
        d,
        result="awarded",
        awarded_to=[{"org_number": asf.org_number}],
        value_sek=100_000,
        training_places=1,
    )
    # The ASF answered interested to need a (written straight: the notification flow is
    # tested elsewhere and is not what is counted here).
    for supplier in (asf,):
        await db.execute(
            "INSERT INTO notifications (supplier_id, kind, channels) VALUES ($1, 'need.matched', '{inbox}')",
            supplier.supplier_id,
        )
        notification = await db.fetchval("SELECT max(id) FROM notifications")
        await db.execute(
            "INSERT INTO notified_needs VALUES ($1, $2, $3, 0.5)",
            supplier.supplier_id,
            a,
            notification,
        )
        await db.execute(
            "INSERT INTO need_interest (need_id, supplier_id, interested) VALUES ($1, $2, true)",
            a,
            supplier.supplier_id,
        )
    return {"lulea": lulea, "linkoping": linkoping, "asf": asf}


def _row(report: dict[str, Any], year: int) -> dict[str, Any]:
    return next(row for row in report["years"] if row["year"] == year)


async def test_the_national_report_counts_by_hand(client: Any, world: dict[str, Any]) -> None:
    response = await client.get(f"{API}/reports", params={"from_year": THIS_YEAR - 1})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["scope"] == "national" and [r["year"] for r in report["years"]] == [
        THIS_YEAR - 1,
        THIS_YEAR,
    ]
    last = _row(report, THIS_YEAR - 1)
    assert (last["needs_posted"], last["reserved"], last["reserved_share"]) == (3, 2, 0.6667)
    assert (last["awarded"], last["won_by_asf"]) == (2, 1)
    assert (last["value_awarded_sek"], last["value_won_by_asf_sek"]) == (2_600_000, 600_000)
    assert (last["jobs"], last["training_places"]) == (2, 3)
    assert (last["interested_answers"], last["interested_per_need"]) == (1, 0.3333)
    this = _row(report, THIS_YEAR)
    assert (this["needs_posted"], this["reserved"]) == (2, 1), "the draft is not counted"
    assert (this["awarded"], this["won_by_asf"], this["value_won_by_asf_sek"]) == (1, 1, 100_000)
    assert {(r["lan"], r["needs_posted"], r["won_by_asf"]) for r in report["by_lan"]} == {
        ("25", 4, 1),
        ("05", 1, 1),
    }


async def test_a_lan_report_counts_only_its_lan(client: Any, world: dict[str, Any]) -> None:
    report = (await client.get(f"{API}/reports", params={"lan": "05"})).json()
    assert report["scope"] == "lan" and report["name"] == "Östergötlands län"
    assert sum(r["needs_posted"] for r in report["years"]) == 1
    assert report["by_lan"] == []
    assert len(report["years"]) == 5 and report["years"][-1]["year"] == THIS_YEAR


async def test_a_buyers_report_is_for_the_buyer_and_admins_only(
    client: Any, world: dict[str, Any], admin: dict[str, str]
) -> None:
    lulea, linkoping = world["lulea"], world["linkoping"]
    params = {"buyer_id": lulea.org_id, "from_year": THIS_YEAR - 1}
    own = await client.get(f"{API}/reports", params=params, headers=lulea.headers)
    assert own.status_code == 200, own.text
    assert own.json()["name"] == "Luleå kommun"
    assert sum(r["needs_posted"] for r in own.json()["years"]) == 4
    assert (await client.get(f"{API}/reports", params=params)).status_code == 401
    assert (
        await client.get(f"{API}/reports", params=params, headers=linkoping.headers)
    ).status_code == 403
    assert (
        await client.get(f"{API}/reports", params=params, headers=world["asf"].headers)
    ).status_code == 403
    assert (await client.get(f"{API}/reports", params=params, headers=admin)).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lan": "99"}, "lan"),
        ({"from_year": THIS_YEAR, "to_year": THIS_YEAR - 1}, "from_year"),
        ({"from_year": THIS_YEAR - 30}, "from_year"),
        ({"to_year": THIS_YEAR + 5}, "to_year"),
        ({"from_year": "nästa"}, "from_year"),
        ({"lan": "25", "buyer_id": 1}, "lan"),
    ],
)
async def test_a_bad_report_parameter_is_a_4xx_naming_it(
    client: Any, admin: dict[str, str], params: dict[str, Any], field: str
) -> None:
    response = await client.get(f"{API}/reports", params=params, headers=admin)
    assert 400 <= response.status_code < 500, response.text
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_the_report_page_has_charts_with_titles_a_table_and_a_csv(
    client: Any, world: dict[str, Any]
) -> None:
    page = await client.get("/rapporter", params={"fran": THIS_YEAR - 1, "till": THIS_YEAR})
    assert page.status_code == 200, page.text
    html = page.text
    for chart in ("chart-needs", "chart-awards", "chart-value", "chart-lan"):
        assert f'id="{chart}"' in html and f'aria-labelledby="{chart}-title {chart}-desc"' in html
    assert 'data-testid="report-table"' in html and "<script" not in html.split("</head>")[1]
    response = await client.get("/rapporter.csv", params={"fran": THIS_YEAR - 1, "till": THIS_YEAR})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "År" and len(rows) == 3
    assert rows[1][:3] == [str(THIS_YEAR - 1), "3", "2"]


async def test_my_organisations_report_page_needs_a_buyer(
    client: Any, world: dict[str, Any]
) -> None:
    response = await client.get("/rapporter", params={"omrade": "mina"}, follow_redirects=False)
    assert response.status_code == 303 and "/logga-in" in response.headers["location"]
