"""Reference data (regions, CPV search), health and the OpenAPI document."""

from __future__ import annotations

import dataclasses

import asyncpg
import pytest
from api_testkit import API, assert_problem, need_body


async def test_regions_list_21_lan_with_290_kommuner(client):
    response = await client.get(f"{API}/regions")
    assert response.status_code == 200
    regions = response.json()
    assert len(regions) == 21
    codes = [region["code"] for region in regions]
    assert len(set(codes)) == 21
    assert {"01", "03", "09", "14", "20", "25"} <= set(codes)
    kommuner = [kommun for region in regions for kommun in region["kommuner"]]
    assert len(kommuner) == 290
    assert len({kommun["code"] for kommun in kommuner}) == 290
    for region in regions:
        for kommun in region["kommuner"]:
            assert kommun["code"][:2] == region["code"] == kommun["lan_code"]


async def test_region_25_is_norrbotten_with_lulea(client):
    response = await client.get(f"{API}/regions/25")
    assert response.status_code == 200
    region = response.json()
    assert region["code"] == "25"
    assert "Norrbotten" in region["name"]
    by_code = {kommun["code"]: kommun["name"] for kommun in region["kommuner"]}
    assert by_code["2580"] == "Luleå"
    assert by_code["2581"] == "Piteå"
    assert len(by_code) == 14


@pytest.mark.parametrize("code", ["99", "2", "025", "SE", "2580"])
async def test_unknown_region_is_404(client, code):
    assert_problem(await client.get(f"{API}/regions/{code}"), 404)


async def test_cpv_search_by_code_prefix(client):
    response = await client.get(f"{API}/cpv", params={"q": "5552"})
    assert response.status_code == 200
    codes = [entry["code"] for entry in response.json()]
    assert codes[0] == "55520000"
    assert {"55521000", "55524000"} <= set(codes)
    assert all(code.startswith("5552") for code in codes)
    catering = response.json()[0]
    assert catering["code_with_check"] == "55520000-1"
    assert catering["label_sv"] == "Catering"
    assert catering["parent"] == "55500000"


async def test_cpv_search_with_check_digit(client):
    codes = [e["code"] for e in (await client.get(f"{API}/cpv?q=55520000-1")).json()]
    assert codes[0] == "55520000"


@pytest.mark.parametrize(
    ("query", "expected"),
    [("catering", "55520000"), ("Catering", "55520000"), ("städning", "90910000")],
)
async def test_cpv_search_by_word_finds_the_general_code(client, query, expected):
    response = await client.get(f"{API}/cpv", params={"q": query})
    assert response.status_code == 200
    entries = response.json()
    assert entries, query
    assert expected in [entry["code"] for entry in entries]
    word = query.casefold()
    for entry in entries:
        assert word in entry["label_sv"].casefold() or word in entry["label_en"].casefold()
    # General codes first.
    levels = [entry["level"] for entry in entries]
    assert levels == sorted(levels)


async def test_cpv_search_limit(client):
    response = await client.get(f"{API}/cpv", params={"q": "55", "limit": 3})
    assert len(response.json()) == 3
    assert (await client.get(f"{API}/cpv", params={"q": "zzzyyyxxx"})).json() == []


async def test_health_is_liveness_and_ready_reports_postgres_and_redis_ok(client):
    response = await client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] is True and body["status"] == "ok"
    assert body["postgres"] == "ok" and body["redis"] == "ok"
    assert isinstance(body["jobs"], dict)


async def test_ready_counts_queued_jobs(client, keys):
    _, buyer = await keys.make("buyer")
    await client.post(f"{API}/needs", json=need_body(), headers=buyer)
    assert (await client.get("/ready")).json()["jobs"].get("queued") == 1


async def test_health_asks_no_database_so_it_answers_while_postgres_is_unreachable(
    app_client, database_url
):
    closed = await asyncpg.create_pool(database_url, min_size=0, max_size=1)
    await closed.close()
    async with app_client() as client:
        resources = client.app.state["resources"]
        client.app.state["resources"] = dataclasses.replace(resources, pool=closed)
        try:
            assert (await client.get("/health")).json() == {"status": "ok"}
            ready = await client.get("/ready")
            assert ready.status_code == 503 and ready.json()["postgres"].startswith("down")
        finally:
            client.app.state["resources"] = resources


async def test_without_redis_ready_is_degraded_but_the_api_serves(app_client, keys, db):
    _, buyer = await keys.make("buyer")
    async with app_client(redis_url="redis://127.0.0.1:1/0", redis_timeout=0.1) as client:
        health = await client.get("/ready")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["redis"] == "down"
        assert health.json()["postgres"] == "ok"
        # Rate limiting fails open, writes still work.
        created = await client.post(f"{API}/needs", json=need_body(), headers=buyer)
        assert created.status_code == 201, created.text
        assert (await client.get(f"{API}/needs/{created.json()['id']}")).status_code == 200


@pytest.mark.filterwarnings("ignore:RequestLimits.exclude_path_pattern:DeprecationWarning")
async def test_openapi_lists_the_needs_paths(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["info"]["title"] == "asf-match"
    paths = document["paths"]
    for path in (
        "/api/v1/needs",
        "/api/v1/needs/{need_id}",
        "/api/v1/needs/{need_id}/close",
        "/api/v1/needs/{need_id}/withdraw",
        "/api/v1/suppliers",
        "/api/v1/organisations/{organisation_id}/keys",
    ):
        assert path in paths, sorted(paths)
    assert {"get", "post"} <= set(paths["/api/v1/needs"])
    assert {"get", "patch"} <= set(paths["/api/v1/needs/{need_id}"])


async def test_openapi_is_served_without_deprecation_warnings(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
