"""The pages in a real browser (Debian's chromium driven by Playwright), as people use them:
a visitor filters the directory on the map, a buyer posts a need and sees explained matches
arrive, an ASF on a 375 px phone sees the notification arrive and answers it, the presenter's
read-only link, the language switch; axe-core checks every page it visits.

Skips (with the reason) when /usr/bin/chromium, the playwright package or axe-core is missing;
`.ci/run` installs all three."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from web_testkit import RunningDemo, key_for

from asfmatch.storage.db import connect

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = os.environ.get("ASFMATCH_SCREENSHOT_DIR")

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is not installed (dev extra)"
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="browser tests need Debian's chromium: apt-get install -y chromium",
    ),
    pytest.mark.skipif(
        not AXE.exists(), reason="browser tests need axe-core: npm ci (package.json)"
    ),
]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        await launched.close()


async def _page(browser: Any, **options: Any) -> Any:
    """A page in its own context; CSP is bypassed only so the test can inject axe-core."""
    context = await browser.new_context(bypass_csp=True, **options)
    return await context.new_page()


async def _axe(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page as it is now."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("async () => (await axe.run()).violations")
    return [v for v in result if v["impact"] in {"serious", "critical"}]


async def _check(page: Any, name: str) -> None:
    """axe on this page (0 serious or critical), no sideways scroll, a screenshot if asked."""
    violations = await _axe(page)
    assert not violations, [(v["id"], v["help"], len(v["nodes"])) for v in violations]
    width = await page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"{name}: page is {width} px wide in a {viewport} px viewport"
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=f"{SCREENSHOTS}/{name}.jpg", type="jpeg", quality=70)


async def _buyer_key(demo: RunningDemo, buyer_key: str = "212000-2742") -> str:
    connection = await connect(demo.database_url)
    try:
        organisation_id = await connection.fetchval(
            "SELECT id FROM organisations WHERE org_number = $1", buyer_key
        )
        return await key_for(connection, organisation_id)
    finally:
        await connection.close()


async def _sign_in(page: Any, demo: RunningDemo, api_key: str) -> None:
    await page.goto(f"{demo.url}/logga-in")
    await page.get_by_label("API-nyckel").fill(api_key)
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_selector("[data-testid=signed-in]")


async def test_a_visitor_filters_the_directory_by_clicking_a_lan(
    demo: RunningDemo, browser: Any
) -> None:
    page = await _page(browser, viewport={"width": 1280, "height": 800})
    await page.goto(demo.url)
    await _check(page, "start-desktop")
    await page.locator("a[data-lan='25']").first.click()
    await page.wait_for_url(re.compile(r"/asf\?lan=25"))
    heading = await page.get_by_test_id("result-heading").inner_text()
    assert "Norrbottens län" in heading
    await _check(page, "directory-desktop")
    cards = await page.get_by_test_id("supplier-card").count()
    assert cards >= 1


async def test_a_buyer_posts_a_need_and_sees_explained_matches_arrive(
    demo: RunningDemo, browser: Any
) -> None:
    page = await _page(browser, viewport={"width": 1280, "height": 900})
    await _sign_in(page, demo, await _buyer_key(demo))
    await _check(page, "my-needs-desktop")
    await page.get_by_test_id("new-need").click()
    await page.get_by_label("Rubrik").fill("Lokalvård av skolor i Luleå")
    await page.get_by_label("Beskrivning", exact=True).fill(
        "Daglig städning av tre skolor och en förskola, fönsterputs två gånger per år."
    )
    await page.get_by_label("Kommun").fill("Luleå")
    await page.get_by_label("CPV-kod 1").fill("90910000-9 Rengöring")
    await page.get_by_label("Sista dag").fill((date.today() + timedelta(days=30)).isoformat())
    await _check(page, "need-form-desktop")
    await page.get_by_role("button", name="Publicera och hitta ASF").click()
    await page.wait_for_selector("[data-testid=match]", timeout=30_000)
    assert await page.get_attribute("html", "data-live") == "stream"
    first = await page.get_by_test_id("match").first.inner_text()
    assert "Verkar i" in first
    await _check(page, "need-matches-desktop")


async def test_a_bad_form_shows_field_errors_and_focuses_the_first(
    demo: RunningDemo, browser: Any
) -> None:
    page = await _page(browser, viewport={"width": 1280, "height": 900})
    await _sign_in(page, demo, await _buyer_key(demo))
    await page.goto(f"{demo.url}/behov/nytt")
    await page.get_by_label("Kommun").fill("Atlantis")
    await page.get_by_role("button", name="Publicera och hitta ASF").click()
    await page.wait_for_selector("[data-testid=error-summary]")
    focused = await page.evaluate("document.activeElement.id")
    assert focused == "title"
    assert await page.locator("#kommun[aria-invalid=true]").count() == 1
    await _check(page, "need-form-errors")
    await page.get_by_role("link", name="English").click()
    await page.get_by_label("Title").wait_for()
    await page.get_by_label("Municipality").fill("Atlantis")
    await page.get_by_role("button", name="Publish and find ASFs").click()
    await page.wait_for_selector("[data-testid=error-summary]")
    summary = await page.get_by_test_id("error-summary").inner_text()
    assert "is not a municipality we know" in summary and "Fill in this field" in summary
    await _check(page, "need-form-errors-english")


async def test_an_asf_on_a_phone_sees_a_new_need_arrive_and_answers_it(
    demo: RunningDemo, browser: Any
) -> None:
    connection: asyncpg.Connection = await connect(demo.database_url)
    try:
        organisation_id = await connection.fetchval(
            "SELECT organisation_id FROM supplier_profiles s JOIN organisations o "
            "ON o.id = s.organisation_id WHERE o.name LIKE 'Städkooperativet Björkfjärden%'"
        )
        supplier_key = await key_for(connection, organisation_id)
    finally:
        await connection.close()
    phone = await _page(browser, viewport={"width": 375, "height": 740}, is_mobile=True)
    await _sign_in(phone, demo, supplier_key)
    await phone.goto(f"{demo.url}/inkorg")
    # The inbox listens on the page's Server-Sent Events stream, not by polling.
    await phone.wait_for_selector("html[data-live=stream]")
    before = await phone.get_by_test_id("notification").count()
    await _check(phone, "inbox-phone")
    buyer = await _page(browser, viewport={"width": 1280, "height": 900})
    await _sign_in(buyer, demo, await _buyer_key(demo))
    await buyer.goto(f"{demo.url}/behov/nytt")
    await buyer.get_by_label("Rubrik").fill("Städning av förskolor i Luleå")
    await buyer.get_by_label("Beskrivning", exact=True).fill(
        "Städning av kontor, trapphus och förskolor samt fönsterputs."
    )
    await buyer.get_by_label("Kommun").fill("Luleå")
    await buyer.get_by_label("CPV-kod 1").fill("90910000-9")
    await buyer.get_by_role("button", name="Publicera och hitta ASF").click()
    await buyer.wait_for_url(re.compile(r"/behov/\d+$"))
    await phone.wait_for_function(
        f"document.querySelectorAll('[data-testid=notification]').length > {before}",
        timeout=30_000,
    )
    card = phone.get_by_test_id("notification").filter(has_text="Städning av förskolor i Luleå")
    await card.get_by_label("Motivering (krävs vid ”Annat”)").fill("Vi finns redan i Luleå.")
    await card.get_by_role("button", name="Intresserade", exact=True).click()
    await phone.get_by_test_id("answered").first.wait_for()
    await _check(phone, "inbox-answered-phone")
    # The buyer's open need page hears of the answer on its live stream, without a reload.
    interested = buyer.get_by_test_id("interested")
    await interested.first.wait_for(timeout=30_000)
    assert "Vi finns redan i Luleå." in await interested.first.inner_text()
    await _check(buyer, "need-interest-desktop")
    for path in ("/", "/asf", "/behov", "/profil", "/profil/notiser", "/webhooks"):
        await phone.goto(demo.url + path)
        await _check(phone, "phone" + path.replace("/", "-").rstrip("-"))


async def test_the_presenter_runs_the_guided_flow_and_resets_from_one_screen(
    demo: RunningDemo, browser: Any
) -> None:
    page = await _page(browser, viewport={"width": 1920, "height": 1080})
    await page.goto(demo.presenter_link)
    await page.wait_for_url(re.compile(r"/presentation"))
    await page.wait_for_selector("[data-testid=match]", timeout=30_000)
    await _check(page, "presenter-1920")
    # One keyboard step: focus the button and press Enter.
    await page.get_by_test_id("guided-run").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/presentation\?behov=\d+"))
    presented = await page.get_by_test_id("presented-need").inner_text()
    assert "förskolor i Luleå" in presented
    # The matches arrive in the list and on the map, the best ASF's notification in its
    # inbox view: all pushed by the page's live stream.
    await page.wait_for_selector("[data-testid=match]", timeout=30_000)
    await page.wait_for_selector("[data-testid=marker]", timeout=30_000)
    await page.wait_for_selector(
        "[data-testid=presenter-inbox] [data-testid=notification]", timeout=30_000
    )
    assert await page.get_attribute("html", "data-live") == "stream"
    await _check(page, "presenter-guided-1920")
    await page.get_by_test_id("presenter-reset").click()
    await page.get_by_test_id("presenter-reset-done").wait_for()
    assert "1" in await page.get_by_test_id("presenter-reset-done").inner_text()
    # Read-only otherwise: no need form, no admin page.
    await page.goto(f"{demo.url}/behov/nytt")
    assert await page.locator("[data-testid=need-form]").count() == 0
    await page.goto(f"{demo.url}/admin")
    assert await page.get_by_test_id("reset-demo").count() == 0


async def test_an_admin_resets_the_demo_between_talks(demo: RunningDemo, browser: Any) -> None:
    page = await _page(browser, viewport={"width": 1280, "height": 900})
    await _sign_in(page, demo, demo.admin_key)
    await _check(page, "admin-desktop")
    await page.get_by_test_id("reset-demo").click()
    await page.get_by_test_id("reset-done").wait_for()


def test_chromium_is_where_the_tests_expect_it() -> None:
    assert shutil.which("chromium") is not None


async def test_a_keyboard_user_reaches_the_map_and_every_public_page_passes_axe(
    demo: RunningDemo, browser: Any
) -> None:
    page = await _page(browser, viewport={"width": 1280, "height": 800})
    await page.goto(demo.url)
    # The län are links: focus one from the keyboard and press Enter.
    await page.locator("a[data-lan='01']").first.focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/asf\?lan=01"))
    await page.get_by_test_id("supplier-card").first.get_by_role("link").click()
    await page.wait_for_url(re.compile(r"/asf/\d+$"))
    await _check(page, "supplier-profile-desktop")
    await page.goto(f"{demo.url}/behov")
    await page.get_by_test_id("need-card").first.get_by_role("link").click()
    await page.wait_for_url(re.compile(r"/behov/\d+$"))
    await _check(page, "need-public-desktop")
    await page.goto(f"{demo.url}/logga-in")
    await _check(page, "signin-desktop")
    await page.get_by_role("link", name="English").click()
    await page.get_by_label("API key").wait_for()
    await _check(page, "signin-english")
    for path in ("/", "/asf", "/behov"):
        await page.goto(demo.url + path)
        await _check(page, "english" + path.replace("/", "-").rstrip("-"))


async def test_an_asf_signs_itself_up_on_a_phone_and_picks_its_area_on_the_map(
    demo: RunningDemo, browser: Any
) -> None:
    phone = await _page(browser, viewport={"width": 375, "height": 740}, is_mobile=True)
    await phone.goto(f"{demo.url}/logga-in")
    await phone.get_by_test_id("signup-link").click()
    await phone.wait_for_url(re.compile(r"/registrera$"))
    await _check(phone, "signup-phone")
    await phone.get_by_label("ett arbetsintegrerande socialt företag (ASF)").check()
    await phone.get_by_label("Organisationens namn").fill("Kooperativet Webbläsaren")
    await phone.get_by_label("Organisationsnummer").fill("769000-0018")
    await phone.get_by_label("E-post för kontakt").fill("hej@webblasaren.example")
    await phone.get_by_label("Företagsform").select_option("ekonomisk_forening")
    await phone.get_by_label("Beskrivning av verksamheten").fill("Vi städar trapphus i Luleå.")
    await phone.get_by_label("Hemkommun").fill("Luleå")
    await phone.locator("#area-25").check()
    await phone.get_by_label("Anställda", exact=True).fill("8")
    await phone.get_by_label("Andel anställda i målgruppen (%)").fill("50")
    await phone.get_by_role("button", name="Registrera", exact=True).click()
    key = await phone.get_by_test_id("new-key").input_value()
    assert key.startswith("asfm_")
    await _check(phone, "signed-up-phone")
    # The service area on the map: Västerbotten added from the keyboard, Norrbotten clicked off.
    await phone.goto(f"{demo.url}/profil")
    await phone.get_by_test_id("pending-note").wait_for()
    await phone.locator("[data-pick='24']").focus()
    await phone.keyboard.press("Enter")
    await phone.locator("[data-pick='25']").click()
    assert await phone.locator("#area-24").is_checked()
    assert not await phone.locator("#area-25").is_checked()
    assert await phone.locator("[data-pick='24']").get_attribute("aria-pressed") == "true"
    await _check(phone, "profile-map-phone")
