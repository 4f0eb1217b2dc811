"""POST /api/v1/potential: the numbers of a draft need by the worker's own ranking, the advice,
who may ask, and every refusal naming its field."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from api_testkit import API, assert_problem, need_body, supplier_body
from litestar.testing import AsyncTestClient

from asfmatch.storage.db import create_pool
from asfmatch.storage.settings import Settings
from asfmatch.workers.runner import Worker

CLEANING = "Städning av kontor, trapphus och förskolor samt fönsterputs. Lokalvård."
DRAFT = {
    "title": "Städning av tre förskolor",
    "description": "Lokalvård fem dagar i veckan och fönsterputs två gånger per år.",
    "cpv_codes": ["90910000-9"],
    "kommun": "2580",
    "estimated_value_sek": 600_000,
}


async def _supplier(
    client: AsyncTestClient[Any], keys: Any, db: asyncpg.Connection, name: str, **fields: Any
) -> int:
    org_id, headers = await keys.make("supplier", name)
    number = await db.fetchval("SELECT org_number FROM organisations WHERE id = $1", org_id)
    body = supplier_body(number, name=name, **fields)
    response = await client.post(f"{API}/suppliers/", json=body, headers=headers)
    assert response.status_code == 201, response.text
    supplier_id: int = response.json()["id"]
    return supplier_id


async def _luleå(client: AsyncTestClient[Any], keys: Any, db: asyncpg.Connection) -> dict[str, int]:
    """Cleaning ASFs around Luleå at the edges of the 30 % rule, and some that do not count."""
    cleaning = {"description": CLEANING, "cpv_codes": ["90910000"]}
    return {
        "a": await _supplier(
            client, keys, db, "Glansen", **cleaning, service_area=["2580"],
            target_group_share=0.6, max_contract_value_sek=1_500_000, training_places=4,
        ),
        "b": await _supplier(
            client, keys, db, "Skinande", **cleaning, service_area=["25"],
            target_group_share=0.30, max_contract_value_sek=800_000, training_places=2,
        ),
        "c": await _supplier(
            client, keys, db, "Rent AB", **cleaning, service_area=["SE"],
            target_group_share=0.2999, max_contract_value_sek=5_000_000, training_places=10,
        ),
        "catering": await _supplier(
            client, keys, db, "Matglädje", service_area=["2580"], target_group_share=0.7,
        ),
        "stockholm": await _supplier(
            client, keys, db, "Söderstäd", **cleaning, service_area=["0180"],
            target_group_share=0.7,
        ),
        "inactive": await _supplier(
            client, keys, db, "Vilande", **cleaning, service_area=["2580"],
            target_group_share=0.7, active=False,
        ),
    }  # fmt: skip


async def test_a_draft_counts_serving_relevant_and_eligible_asfs_and_advises_lots(
    app_client: Any, keys: Any, db: asyncpg.Connection
) -> None:
    _, buyer = await keys.make("buyer", "Luleå kommun")
    async with app_client() as client:
        ids = await _luleå(client, keys, db)
        response = await client.post(f"{API}/potential/", json=DRAFT, headers=buyer)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["place"] == {"kind": "kommun", "code": "2580"}
    assert report["min_score"] == 0.15
    # Serving Luleå: a, b (its län), c (the whole country), the caterer; not Stockholm's, not
    # the inactive one.
    assert report["serving"] == 4
    listed = {s["supplier_id"]: s for s in report["suppliers"]}
    assert set(listed) == {ids["a"], ids["b"], ids["c"]}
    assert report["relevant"] == 3
    # Exactly 30 % meets the rule; 29.99 % does not.
    assert report["meet_share"] == 2
    assert listed[ids["b"]]["meets_share"] is True
    assert listed[ids["c"]]["meets_share"] is False
    scores = [s["score"] for s in report["suppliers"]]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 0.15
    advice = report["advice"]
    capacities = advice["capacities"]
    assert capacities["can_carry_whole"] == 2
    assert capacities["largest_contract_values_sek"] == [1_500_000, 800_000]
    assert capacities["max_training_places"] == 4
    assert capacities["total_training_places"] == 6
    # Two can carry 600 000 SEK, three are needed to reserve it whole; each of the two can
    # carry a lot of 300 000, and reserving one lot leaves two possible bidders for it.
    assert advice["code"] == "reserve_lots"
    assert advice["lots"] == {
        "lots": 2,
        "lot_value_sek": 300_000,
        "lot_training_places": 0,
        "carriers": 2,
        "reserved_lots": 1,
    }
    assert [r["code"] for r in advice["reasons"]] == ["too_few_for_whole", "lots_carriers"]
    assert advice["reasons"][0]["params"]["carriers"] == 2
    assert "600 000 SEK" in advice["reasons"][0]["text"]


async def test_three_carriers_advise_reserving_and_a_lower_score_setting_counts_more(
    app_client: Any, keys: Any, db: asyncpg.Connection
) -> None:
    _, buyer = await keys.make("buyer", "Luleå kommun")
    async with app_client() as client:
        await _luleå(client, keys, db)
        await _supplier(
            client, keys, db, "Putsarna", description=CLEANING, cpv_codes=["90910000"],
            service_area=["2580"], target_group_share=0.5, max_contract_value_sek=600_000,
        )  # fmt: skip
        response = await client.post(f"{API}/potential/", json=DRAFT, headers=buyer)
    report = response.json()
    assert report["advice"]["code"] == "reserve_contract", report["advice"]
    assert report["advice"]["capacities"]["can_carry_whole"] == 3
    async with app_client(potential_min_score=0.0) as client:
        loose = (await client.post(f"{API}/potential/", json=DRAFT, headers=buyer)).json()
    # At 0 every supplier with any evidence is relevant: the caterer too (the same area).
    assert loose["min_score"] == 0.0
    assert loose["relevant"] >= report["relevant"]


async def test_a_whole_lan_draft_is_served_by_anyone_working_in_it(
    app_client: Any, keys: Any, db: asyncpg.Connection
) -> None:
    _, buyer = await keys.make("buyer", "Region Norrbotten")
    draft = {**DRAFT, "kommun": None, "lan": "25", "estimated_value_sek": None}
    async with app_client() as client:
        await _luleå(client, keys, db)
        report = (await client.post(f"{API}/potential/", json=draft, headers=buyer)).json()
    assert report["place"] == {"kind": "lan", "code": "25"}
    assert report["serving"] == 4
    assert report["relevant"] == 3
    assert "value_unknown" in [r["code"] for r in report["advice"]["reasons"]]


async def test_the_scores_are_those_the_worker_stores_for_the_same_need(
    app_client: Any, keys: Any, db: asyncpg.Connection, settings: Settings
) -> None:
    _, buyer = await keys.make("buyer", "Luleå kommun")
    posted = {**need_body(**DRAFT), "estimated_value_sek": None, "training_places": 0}
    async with app_client() as client:
        await _luleå(client, keys, db)
        created = await client.post(f"{API}/needs/", json=posted, headers=buyer)
        assert created.status_code == 201, created.text
        need_id = created.json()["id"]
        assert settings.database_url is not None
        pool = await create_pool(settings.database_url, settings)
        try:
            await Worker(settings, settings.database_url).drain(pool)
        finally:
            await pool.close()
        report = (await client.post(f"{API}/potential/", json=DRAFT, headers=buyer)).json()
    rows = await db.fetch(
        "SELECT supplier_id, score, model_version FROM matches WHERE need_id = $1", need_id
    )
    worker = {row["supplier_id"]: row["score"] for row in rows if row["score"] >= 0.15}
    api = {s["supplier_id"]: s["score"] for s in report["suppliers"]}
    # Fitted on the same corpus (the six profiles and the need), the two processes' models
    # are the same model, and every pair scores the same to the last stored digit.
    assert {row["model_version"] for row in rows} == {report["model_version"]}
    assert worker and api == worker


async def test_a_new_profile_counts_within_the_sync_interval(
    app_client: Any, keys: Any, db: asyncpg.Connection
) -> None:
    _, buyer = await keys.make("buyer", "Luleå kommun")
    async with app_client() as client:
        await _luleå(client, keys, db)
        before = (await client.post(f"{API}/potential/", json=DRAFT, headers=buyer)).json()
        await _supplier(
            client, keys, db, "Nystädat", description=CLEANING, cpv_codes=["90910000"],
            service_area=["2580"], target_group_share=0.5, max_contract_value_sek=700_000,
        )  # fmt: skip
        # The index syncs at most once a second; poll past that rather than sleep a guess.
        for _ in range(100):
            after = (await client.post(f"{API}/potential/", json=DRAFT, headers=buyer)).json()
            if after["relevant"] > before["relevant"]:
                break
            await asyncio.sleep(0.05)
    assert after["relevant"] == before["relevant"] + 1
    assert after["serving"] == before["serving"] + 1


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 401), ("supplier", 403), ("buyer", 200), ("admin", 200)],
)
async def test_buyers_and_admins_may_ask_others_may_not(
    app_client: Any, keys: Any, role: str, status: int
) -> None:
    headers = {} if role == "anonymous" else (await keys.make(role))[1]
    # An app of its own: its index has seen this test's database only.
    async with app_client() as client:
        response = await client.post(f"{API}/potential/", json=DRAFT, headers=headers)
    if status == 200:
        assert response.status_code == 200, response.text
        assert response.json()["serving"] == 0
        assert response.json()["advice"]["reasons"][0]["code"] == "no_supplier_serves_place"
    else:
        assert_problem(response, status)


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"kommun": None}, ["kommun"]),
        ({"lan": "25"}, ["lan"]),
        ({"kommun": "9999"}, ["kommun"]),
        ({"kommun": None, "lan": "99"}, ["lan"]),
        ({"kommun": "25"}, ["kommun"]),
        ({"cpv_codes": ["12345678", "nonsense"]}, ["cpv_codes[0]", "cpv_codes[1]"]),
        ({"estimated_value_sek": -1}, ["estimated_value_sek"]),
        ({"training_places": "many"}, ["training_places"]),
        ({"colour": "red"}, ["colour"]),
        ({"title": "x" * 201}, ["title"]),
    ],
)
async def test_a_bad_draft_is_refused_naming_the_field(
    client: AsyncTestClient[Any], keys: Any, change: dict[str, Any], fields: list[str]
) -> None:
    _, buyer = await keys.make("buyer")
    draft = {**DRAFT, **change}
    response = await client.post(f"{API}/potential/", json=draft, headers=buyer)
    assert_problem(response, 422, *fields)
