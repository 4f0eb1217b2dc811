"""Authentication before validation: every write route answers 401 to a request without a valid
key whatever its body holds, and only a caller with a key learns which field was wrong."""

from __future__ import annotations

import re

import pytest
from api_testkit import API, assert_problem
from litestar import Litestar
from litestar.routes import HTTPRoute

from asfmatch.api.app import create_app
from asfmatch.storage.settings import Settings

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Breaks every body's rules: the bodies forbid unknown fields.
INVALID_BODY = {"zzz_unknown": 1}


def _write_routes(app: Litestar) -> list[tuple[str, str, bool]]:
    """(method, path with ids filled in, whether it takes a body) of every API write route."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API):
            continue
        path = re.sub(r"\{[^}:]+:int\}", "1", route.path)
        path = re.sub(r"\{[^}:]+:str\}", "x", path)
        for handler in route.route_handlers:
            for method in sorted(set(handler.http_methods) & WRITE_METHODS):
                takes_body = "data" in handler.parsed_fn_signature.parameters
                found.append((method, path, takes_body))
    return sorted(found)


# Collected from the app itself, so a write route added later is covered without editing this.
ROUTES = _write_routes(create_app(Settings()))
BODY_ROUTES = [(method, path) for method, path, takes_body in ROUTES if takes_body]


def test_the_api_has_write_routes_to_check():
    assert len(ROUTES) >= 15 and ("POST", f"{API}/needs") in {(m, p) for m, p, _ in ROUTES}


@pytest.mark.parametrize(("method", "path", "takes_body"), ROUTES)
async def test_no_key_and_an_invalid_body_is_401(client, method, path, takes_body):
    response = await client.request(method, path, json=INVALID_BODY)
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "zzz_unknown" not in response.text and not body.get("errors")


@pytest.mark.parametrize(("method", "path", "takes_body"), ROUTES)
@pytest.mark.parametrize("authorization", ["Bearer asfm_unknown_key", "Basic dXNlcjpwdw=="])
async def test_a_bad_key_and_an_invalid_body_is_401(
    client, method, path, takes_body, authorization
):
    headers = {"Authorization": authorization}
    response = await client.request(method, path, json=INVALID_BODY, headers=headers)
    assert_problem(response, 401)


async def test_a_revoked_key_and_an_invalid_body_is_401(client, keys, db):
    org_id, headers = await keys.make("buyer")
    await db.execute("UPDATE api_keys SET revoked_at = now() WHERE organisation_id = $1", org_id)
    response = await client.post(f"{API}/needs", json=INVALID_BODY, headers=headers)
    assert_problem(response, 401)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_a_valid_key_and_an_invalid_body_is_422_naming_the_field(client, admin, method, path):
    response = await client.request(method, path, json=INVALID_BODY, headers=admin)
    body = assert_problem(response, 422, "zzz_unknown")
    assert body["errors"][0]["reason"] == "unknown field"


async def test_a_protected_read_with_a_bad_query_and_no_key_is_401(client):
    response = await client.get(f"{API}/organisations", params={"page": "0"})
    assert_problem(response, 401)


async def test_public_routes_still_validate_anonymous_queries(client):
    """Reads that need no key keep answering 422 to anyone: there is nothing to hide."""
    response = await client.get(f"{API}/needs", params={"kommun": "9999"})
    assert_problem(response, 422, "kommun")
