"""The live demo page: `/` and its files under `/static/`, served from the package and nothing
else: unknown names and every path-traversal form are 404 problem documents."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from api_testkit import assert_problem
from litestar import Litestar
from litestar.testing import AsyncTestClient

from asfmatch.api.demo_page import DEMO_PAGE_HANDLERS, static_dir
from asfmatch.api.errors import EXCEPTION_HANDLERS


def page_app() -> Litestar:
    """The page's handlers with the API's error handling, as api.app registers them."""
    return Litestar(
        route_handlers=DEMO_PAGE_HANDLERS,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        debug=False,
    )


@pytest.fixture
async def page() -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=page_app()) as test_client:
        yield test_client


async def raw_get(app: Litestar, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET with `path` exactly as an ASGI server would hand it over (already percent-decoded,
    dot segments kept): no client-side URL normalisation in between."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    async with AsyncTestClient(app=app):  # runs the app's startup
        await app(scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {bytes(k).decode().lower(): bytes(v).decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers, body


# --- the page --------------------------------------------------------------------------------


async def test_root_serves_the_page_with_its_title_and_a_strict_policy(page):
    response = await page.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert (
        "<title>asf-match — sociala upphandlingar möter arbetsintegrerande sociala företag</title>"
        in html
    )
    assert 'src="/static/app.js"' in html
    assert 'href="/static/style.css"' in html
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/static/app.js", "text/javascript; charset=utf-8"),
        ("/static/style.css", "text/css; charset=utf-8"),
        ("/static/index.html", "text/html; charset=utf-8"),
        ("/static/favicon.svg", "image/svg+xml"),
        ("/static/sweden_lan.geojson", "application/geo+json"),
    ],
)
async def test_static_files_are_served_with_their_media_type(page, path, media_type):
    response = await page.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    name = path.rsplit("/", 1)[1]
    assert response.content == static_dir().joinpath(name).read_bytes()


async def test_the_map_has_all_21_lan_by_code(page):
    geo = (await page.get("/static/sweden_lan.geojson")).json()
    codes = {feature["properties"]["l_id"] for feature in geo["features"]}
    assert len(geo["features"]) == 21
    assert codes == {1, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 17, 18, 19, 20, 21, 22, 23, 24, 25}


@pytest.mark.parametrize(
    "path",
    [
        "/static/nothing.js",
        "/static/app.JS",
        "/static/App.js",
        "/static/app.js.bak",
        "/static/.hidden",
        "/static/README",
        "/static/",
        "/static/sub/app.js",
        "/static/__init__.py",
    ],
)
async def test_unknown_static_paths_are_404_problems(page, path):
    assert_problem(await page.get(path), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/static/%2e%2e/app.py",
        "/static/%2E%2E/app.py",
        "/static/..%2fapp.py",
        "/static/..%2Fdemo_page.py",
        "/static/%2e%2e%2fapp.py",
        "/static/..%5capp.py",
        "/static/.%2e/.%2e/pyproject.toml",
        "/static/%2fetc%2fpasswd",
    ],
)
async def test_encoded_path_traversal_is_refused(page, path):
    response = await page.get(path)
    assert_problem(response, 404)
    assert b"create_app" not in response.content
    assert b"import" not in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/../demo_page.py",
        "/static/../../api/app.py",
        "/static/./../app.py",
        "/static/..\\app.py",
        "/static//etc/passwd",
        "/static/sub/../../app.py",
        "/static/../static/app.js/../../app.py",
        "/static/..",
        "/static/%2e%2e/app.py",
    ],
)
async def test_raw_dot_segments_are_refused(path):
    """What a server hands over for `/static/%2e%2e/app.py`, or a client that sends `..` as is
    (curl --path-as-is), never leaves the static folder."""
    status, headers, body = await raw_get(page_app(), path)
    assert status == 404, body
    assert headers["content-type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["status"] == 404
    assert b"create_app" not in body


async def test_the_page_accepts_only_get(page):
    response = await page.post("/static/app.js", json={})
    assert_problem(response, 405)


# --- what the page is made of ----------------------------------------------------------------


def _page_files() -> dict[str, str]:
    return {
        name: static_dir().joinpath(name).read_text(encoding="utf-8")
        for name in ("index.html", "app.js", "style.css")
    }


def test_the_page_loads_nothing_from_other_origins():
    """The conference network may be down: no CDN, no web fonts, no remote anything."""
    for name, text in _page_files().items():
        urls = set(re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s'\")]*", text))
        assert urls <= {"http://www.w3.org/2000/svg"}, (name, urls)


def test_the_script_never_parses_html_from_strings():
    """API text reaches the page through textContent and text nodes only."""
    script = _page_files()["app.js"]
    for pattern in (r"\.innerHTML\b", r"\.outerHTML\b", r"insertAdjacentHTML", r"document\.write"):
        assert not re.search(pattern, script), pattern
    assert "eval(" not in script
    assert "new Function" not in script


def test_the_key_is_read_from_the_fragment_and_removed_from_the_url():
    script = _page_files()["app.js"]
    assert "location.hash" in script
    assert "sessionStorage" in script
    assert "history.replaceState" in script
    assert "localStorage" not in script


# --- registered in the real app --------------------------------------------------------------


async def test_the_api_serves_the_page_at_the_root(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert "<title>asf-match" in response.text
    assert (
        (await client.get("/static/app.js")).headers["content-type"].startswith("text/javascript")
    )
    assert_problem(await client.get("/static/%2e%2e/app.py"), 404)
    assert_problem(await client.get("/static/missing.css"), 404)
    # The JSON API is untouched by the page's routes.
    health = await client.get("/health")
    assert health.status_code == 200
    assert health.json()["postgres"] == "ok"
