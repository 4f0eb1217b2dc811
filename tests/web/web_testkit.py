"""Helpers of the page tests: sign in through the form as a person would, read CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient

_CSRF = re.compile(r'name="_csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found, "page has no form with a CSRF token"
    return found.group(1)


async def sign_in(client: AsyncTestClient[Any], api_key: str, next_path: str = "/") -> str:
    """Sign in with an API key through the form; return the session's CSRF token."""
    form = await client.get("/logga-in")
    response = await client.post(
        "/logga-in",
        data={"_csrf": csrf_of(form.text), "api_key": api_key, "next": next_path},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = await client.get("/")
    return csrf_of(page.text)
