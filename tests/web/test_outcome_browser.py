"""Recording an outcome and seeing it in the report, in a real browser (Debian's chromium via
Playwright) at 1440 and 375 px, with axe-core on every page visited. Skips like
test_browser.py when chromium or axe-core is missing."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from web_testkit import RunningDemo, key_for

from asfmatch.storage.db import connect

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = os.environ.get("ASFMATCH_SCREENSHOT_DIR")

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is not installed (dev extra)"
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="browser tests need Debian's chromium"),
    pytest.mark.skipif(not AXE.exists(), reason="browser tests need axe-core: npm ci"),
]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        await launched.close()


async def _check(page: Any, name: str) -> None:
    """No serious or critical axe-core violation, no sideways scroll, a screenshot if asked."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    found = await page.evaluate("async () => (await axe.run()).violations")
    serious = [v for v in found if v["impact"] in {"serious", "critical"}]
    assert not serious, [(v["id"], v["help"], len(v["nodes"])) for v in serious]
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{name}: {width} px wide"
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


async def _demo_facts(demo: RunningDemo) -> dict[str, Any]:
    """A demo buyer's key, one of its open needs, and an ASF's organisation number."""
    connection = await connect(demo.database_url)
    try:
        buyer_id = await connection.fetchval(
            "SELECT id FROM organisations WHERE org_number = '212000-2742'"
        )
        need = await connection.fetchrow(
            "SELECT id, title FROM needs WHERE buyer_id = $1 AND status = 'open' ORDER BY id LIMIT 1",
            buyer_id,
        )
        asf = await connection.fetchrow(
            "SELECT o.org_number, o.name FROM supplier_profiles s "
            "JOIN organisations o ON o.id = s.organisation_id ORDER BY s.id LIMIT 1"
        )
        return {
            "key": await key_for(connection, buyer_id),
            "need_id": need["id"],
            "asf_number": asf["org_number"],
            "asf_name": asf["name"],
        }
    finally:
        await connection.close()


async def _sign_in(page: Any, demo: RunningDemo, api_key: str) -> None:
    await page.goto(f"{demo.url}/logga-in")
    await page.get_by_label("API-nyckel").fill(api_key)
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_selector("[data-testid=signed-in]")


@pytest.mark.parametrize("width", [1440, 375])
async def test_a_buyer_records_an_award_and_sees_it_in_its_report(
    demo: RunningDemo, browser: Any, width: int
) -> None:
    facts = await _demo_facts(demo)
    context = await browser.new_context(
        bypass_csp=True, viewport={"width": width, "height": 900}, is_mobile=width < 500
    )
    page = await context.new_page()
    await _sign_in(page, demo, facts["key"])
    before = await page.goto(f"{demo.url}/rapporter?omrade=mina")
    assert before is not None and before.ok
    year = str(date.today().year)
    won = page.get_by_test_id(f"won_by_asf-{year}")
    won_before = int((await won.inner_text()).replace("\u00a0", ""))
    await page.goto(f"{demo.url}/behov/{facts['need_id']}")
    await page.get_by_test_id("record-outcome").click()
    await page.wait_for_selector("[data-testid=outcome-form]")
    # A first try with a mistyped number shows the error at its field.
    await page.get_by_label("Organisationsnummer 1").fill("556677-8890")
    await page.get_by_test_id("outcome-save").click()
    await page.wait_for_selector("[data-testid=error-summary]")
    assert await page.locator("#winner_org_1[aria-invalid=true]").count() == 1
    await _check(page, f"outcome-form-errors-{width}")
    await page.get_by_label("Organisationsnummer 1").fill(facts["asf_number"])
    await page.get_by_label("Kontraktets värde (kr)").fill("450 000")
    await page.get_by_label("Avtalet börjar").fill(f"{int(year) + 1}-01-01")
    await page.get_by_label("Avtalet slutar").fill(f"{int(year) + 2}-12-31")
    await page.get_by_label("Jobb som kontraktet skapar").fill("2")
    await page.get_by_label("Praktik- och arbetsträningsplatser").fill("3")
    await _check(page, f"outcome-form-{width}")
    await page.get_by_test_id("outcome-save").click()
    result = page.get_by_test_id("outcome-result")
    await result.wait_for()
    assert facts["asf_name"] in await result.inner_text()
    await _check(page, f"need-with-outcome-{width}")
    await page.goto(f"{demo.url}/rapporter?omrade=mina")
    won_after = int((await won.inner_text()).replace("\u00a0", ""))
    assert won_after == won_before + 1
    assert await page.locator("svg#chart-awards > title").first.text_content()
    await _check(page, f"report-mine-{width}")
    await page.goto(f"{demo.url}/rapporter")
    await page.get_by_test_id("report-lan-table").wait_for()
    await _check(page, f"report-national-{width}")
    await context.close()
