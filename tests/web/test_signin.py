"""Sign-in with a key or a one-time link, sessions in HttpOnly cookies, CSRF on every form."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient
from web_testkit import csrf_of, sign_in

from asfmatch.storage import web_sessions
from testkit import Keys


async def test_signing_in_with_a_key_sets_an_httponly_samesite_cookie(
    client: AsyncTestClient[Any], keys: Keys
) -> None:
    _, headers = await keys.make("buyer", "Luleå kommun")
    form = await client.get("/logga-in")
    response = await client.post(
        "/logga-in",
        data={"_csrf": csrf_of(form.text), "api_key": headers["Authorization"][7:], "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/mina-behov"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("asfm_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    page = await client.get("/")
    assert "Inloggad som Luleå kommun" in page.text


async def test_a_wrong_key_is_shown_next_to_its_field(
    client: AsyncTestClient[Any],
) -> None:
    form = await client.get("/logga-in")
    response = await client.post(
        "/logga-in", data={"_csrf": csrf_of(form.text), "api_key": "asfm_nope", "next": "/"}
    )
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert "Nyckeln är okänd eller återkallad." in response.text


async def test_a_form_without_its_csrf_token_is_refused(
    client: AsyncTestClient[Any], keys: Keys
) -> None:
    _, headers = await keys.make("buyer")
    await sign_in(client, headers["Authorization"][7:])
    response = await client.post("/logga-ut", data={"_csrf": "forged"})
    assert response.status_code == 403
    assert "Formuläret hade gått ut" in response.text
    still = await client.get("/")
    assert 'data-testid="signed-in"' in still.text


async def test_sign_in_form_needs_its_double_submit_token(
    client: AsyncTestClient[Any], keys: Keys
) -> None:
    _, headers = await keys.make("buyer")
    response = await client.post(
        "/logga-in", data={"_csrf": "x", "api_key": headers["Authorization"][7:]}
    )
    assert response.status_code == 403


async def test_signing_out_ends_the_session(client: AsyncTestClient[Any], keys: Keys) -> None:
    _, headers = await keys.make("supplier")
    csrf = await sign_in(client, headers["Authorization"][7:])
    response = await client.post("/logga-ut", data={"_csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    page = await client.get("/")
    assert 'data-testid="signed-in"' not in page.text


async def test_a_one_time_link_signs_in_once(
    client: AsyncTestClient[Any], keys: Keys, db: asyncpg.Connection
) -> None:
    organisation_id, _ = await keys.make("supplier", "Björkfjärden")
    _, token = await web_sessions.create_link(
        db, "signin", organisation_id, lifetime=web_sessions.SIGNIN_LINK_LIFETIME
    )
    first = await client.get(f"/logga-in/lank/{token}", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/inkorg"
    client.cookies.clear()
    second = await client.get(f"/logga-in/lank/{token}", follow_redirects=False)
    assert second.status_code == 410


async def test_sign_in_returns_to_a_local_page_only(
    client: AsyncTestClient[Any], keys: Keys
) -> None:
    _, headers = await keys.make("buyer")
    form = await client.get("/logga-in")
    response = await client.post(
        "/logga-in",
        data={
            "_csrf": csrf_of(form.text),
            "api_key": headers["Authorization"][7:],
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/mina-behov"
