"""The need form's potential panel in a real browser: a buyer types a draft and the numbers and
the advice follow, on a wide screen and on a 375 px phone, in Swedish and English; axe-core
checks the page with the panel filled."""

from __future__ import annotations

from typing import Any

from test_browser import SCREENSHOTS, _buyer_key, _check, _page, _sign_in, browser, pytestmark
from web_testkit import RunningDemo

__all__ = ["browser", "pytestmark"]

STOCKHOLM = "212000-0142"


async def _full_page(page: Any, name: str) -> None:
    """A full-page PNG next to the others when screenshots are asked for (to look at)."""
    if SCREENSHOTS:
        await page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


async def _type_draft(page: Any, kommun: str, value: str) -> None:
    await page.get_by_label("Rubrik").fill("Lokalvård av skolor och förskolor i Järva")
    await page.get_by_label("Beskrivning", exact=True).fill(
        "Daglig lokalvård och fönsterputs i tolv skolor och förskolor."
    )
    await page.get_by_label("CPV-kod 1").fill("90919300")
    await page.get_by_label("Uppskattat värde (kr)").fill(value)
    # Typed key by key, as a person does: the panel waits for a pause, then asks once.
    await page.get_by_label("Kommun").press_sequentially(kommun, delay=40)


async def test_a_buyer_types_a_draft_and_the_advice_follows(
    demo: RunningDemo, browser: Any
) -> None:
    page = await _page(browser, viewport={"width": 1440, "height": 1000})
    await _sign_in(page, demo, await _buyer_key(demo, STOCKHOLM))
    await page.goto(f"{demo.url}/behov/nytt")
    await page.get_by_test_id("potential-empty").wait_for()
    await _type_draft(page, "Stockholm", "4000000")
    advice = page.get_by_test_id("advice")
    await page.locator("[data-testid=advice][data-code=reserve_lots]").wait_for(timeout=15_000)
    assert "Dela upp i delkontrakt" in await advice.inner_text()
    serving = await page.get_by_test_id("potential-serving").inner_text()
    await _check(page, "need-form-potential-1440")
    await _full_page(page, "need-form-potential-1440")

    # Another kommun: one cleaning ASF there meets the rule, so no reservation; 4 MSEK takes
    # an employment requirement.
    await page.get_by_label("Kommun").fill("")
    await page.get_by_label("Kommun").press_sequentially("Luleå", delay=40)
    await page.locator("[data-testid=advice][data-code=employment_requirement]").wait_for(
        timeout=15_000
    )
    assert await page.get_by_test_id("potential-serving").inner_text() != serving
    assert "sysselsättningskrav" in await advice.inner_text()

    phone = await _page(browser, viewport={"width": 375, "height": 800}, is_mobile=True)
    await _sign_in(phone, demo, await _buyer_key(demo, STOCKHOLM))
    await phone.goto(f"{demo.url}/behov/nytt?lang=en")
    await phone.get_by_label("Title").fill("Cleaning of schools in Järva")
    await phone.get_by_label("CPV code 1").fill("90919300")
    await phone.get_by_label("Estimated value (SEK)").fill("4 000 000")
    await phone.get_by_label("Municipality").press_sequentially("Stockholm", delay=40)
    await phone.locator("[data-testid=advice][data-code=reserve_lots]").wait_for(timeout=15_000)
    assert "Split into lots" in await phone.get_by_test_id("advice").inner_text()
    await phone.get_by_test_id("potential").scroll_into_view_if_needed()
    await _check(phone, "need-form-potential-375-en")
    await _full_page(phone, "need-form-potential-375-en")


async def test_a_buyer_follows_the_advice_and_posts_the_need_in_lots(
    demo: RunningDemo, browser: Any
) -> None:
    page = await _page(browser, viewport={"width": 1440, "height": 1000})
    await _sign_in(page, demo, await _buyer_key(demo, STOCKHOLM))
    await page.goto(f"{demo.url}/behov/nytt")
    await _type_draft(page, "Stockholm", "4000000")
    button = page.get_by_test_id("apply-split")
    await button.wait_for(timeout=15_000)
    lots, reserved = (int(n) for n in (await button.get_attribute("value") or "").split(":"))
    await _full_page(page, "need-form-split-1440")
    await button.click()
    await page.wait_for_url(f"{demo.url}/behov/*")
    listed = page.get_by_test_id("lots").locator("li")
    assert await listed.count() == lots
    assert await page.locator(".lot-list li:has-text('Reserverad upphandling')").count() == reserved
    await _check(page, "need-lots-1440")
