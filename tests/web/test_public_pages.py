"""Pages a visitor sees signed out: start, directory with the map filter, profiles, needs,
the language switch, and the documentation that renders offline."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from asfmatch.importing import ImportResult
from asfmatch.notices.importing import import_documents
from asfmatch.notices.reading import read_documents


async def test_start_page_shows_public_counts_and_a_link_per_lan(
    client: AsyncTestClient[Any], demo_world: ImportResult
) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="sv"' in html
    assert "öppna behov" in html
    # One keyboard-reachable link per län on the map, each naming the count it stands for.
    assert len(re.findall(r'<a href="/asf\?lan=\d\d"', html)) == 21
    assert "Norrbottens län:" in html


async def test_a_lan_link_filters_the_directory(
    client: AsyncTestClient[Any], demo_world: ImportResult
) -> None:
    everyone = await client.get("/asf")
    in_norrbotten = await client.get("/asf?lan=25")
    assert in_norrbotten.status_code == 200
    total = re.search(r'data-testid="result-heading">\s*(\d+) ASF\s', everyone.text)
    assert total is not None, everyone.text
    count_all = int(total.group(1))
    heading = re.search(
        r'data-testid="result-heading">\s*(\d+) ASF i Norrbottens län', in_norrbotten.text
    )
    assert heading is not None
    assert 0 < int(heading.group(1)) < count_all
    assert 'aria-current="true"' in in_norrbotten.text


async def test_unknown_lan_in_a_link_shows_everyone_instead_of_an_error(
    client: AsyncTestClient[Any], demo_world: ImportResult
) -> None:
    response = await client.get("/asf?lan=99")
    assert response.status_code == 200
    assert "ASF i" not in response.text


async def test_supplier_profile_and_need_pages_show_public_facts(
    client: AsyncTestClient[Any], demo_world: ImportResult
) -> None:
    profile = await client.get(f"/asf/{next(iter(demo_world.suppliers.values()))}")
    assert profile.status_code == 200
    assert "Andel i målgruppen" in profile.text
    needs = await client.get("/behov")
    assert needs.status_code == 200
    assert 'data-testid="need-card"' in needs.text


async def test_unknown_profile_is_a_404_page_in_the_visitors_language(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.get("/asf/999999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Sidan finns inte" in response.text


async def test_language_switch_remembers_english_and_returns_to_the_page(
    client: AsyncTestClient[Any], demo_world: ImportResult
) -> None:
    switch = await client.get("/sprak/en?next=/asf%3Flan%3D25", follow_redirects=False)
    assert switch.status_code == 303
    assert switch.headers["location"] == "/asf?lan=25"
    page = await client.get("/asf?lan=25")
    assert '<html lang="en"' in page.text
    assert "ASFs in Norrbottens län" in page.text


async def test_language_switch_never_redirects_to_another_site(
    client: AsyncTestClient[Any],
) -> None:
    switch = await client.get("/sprak/en?next=//evil.example/", follow_redirects=False)
    assert switch.headers["location"] == "/"


async def test_cpv_typeahead_offers_swedish_labels(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/hjalp/kpv?cpv_1=städ")
    assert response.status_code == 200
    assert "Städ" in response.text
    assert "<option" in response.text


async def test_api_docs_load_their_renderer_from_this_server(client: AsyncTestClient[Any]) -> None:
    docs = await client.get("/schema")
    assert docs.status_code == 200
    assert 'src="/static/web/rapidoc-min.js"' in docs.text
    assert "https://" not in docs.text
    script = await client.get("/static/web/rapidoc-min.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")


async def test_static_files_outside_the_folder_are_not_served(
    client: AsyncTestClient[Any],
) -> None:
    for path in ("/static/web/..%2Fsite.py", "/static/web/.hidden.css", "/static/web/nope.css"):
        response = await client.get(path)
        assert response.status_code == 404, path


async def test_an_unknown_path_is_a_page_but_an_unknown_api_path_stays_json(
    client: AsyncTestClient[Any],
) -> None:
    page = await client.get("/finns-inte")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    api = await client.get("/api/v1/finns-inte")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")


async def test_imported_notices_show_their_source_link_and_buyer_without_an_account(
    client: AsyncTestClient[Any], demo_world: ImportResult, db: asyncpg.Connection
) -> None:
    fixtures = Path(__file__).parents[1] / "notices" / "fixtures"
    paths = [
        str(fixtures / "se_cn_reserved_lulea.xml"),
        str(fixtures / "se_cn_two_lots_norrbotten.xml"),
    ]
    report = await import_documents(
        db, read_documents(paths), datetime(2026, 12, 2, 12, tzinfo=UTC)
    )
    assert report.created
    from_ted = await client.get("/behov?kalla=ted")
    assert from_ted.status_code == 200
    cards = from_ted.text.count('data-testid="need-card"')
    assert cards == len(report.created)
    assert from_ted.text.count('data-testid="need-source">Från TED') == cards
    assert "Region Norrbotten" in from_ted.text  # a buyer that has no account here
    typed_here = await client.get("/behov?kalla=asfmatch")
    assert 'data-testid="need-source"' not in typed_here.text
    assert typed_here.text.count('data-testid="need-card"') > 0

    need_id = re.search(r'<a href="/behov/(\d+)">', from_ted.text)
    assert need_id is not None
    need_page = await client.get(f"/behov/{need_id.group(1)}")
    link = re.search(
        r'<a href="([^"]+)" rel="external noopener" data-testid="notice-link">', need_page.text
    )
    assert link is not None and link.group(1).startswith("https://")


async def test_the_needs_list_narrows_to_reserved_contracts(
    client: AsyncTestClient[Any], demo_world: ImportResult
) -> None:
    everything = await client.get("/behov")
    reserved = await client.get("/behov?reserverad=true")
    count = reserved.text.count('data-testid="need-card"')
    assert 0 < count < everything.text.count('data-testid="need-card"')
    assert reserved.text.count("Reserverad upphandling</li>") == count
    assert 'id="n-reserved" name="reserverad" type="checkbox" value="true" checked' in reserved.text
