"""The web page's Today section in Chromium: the text of the day raced from its button,
the day's board and your place afterwards, the points a race earned in its results and
on the points boards, and the window switch."""

from __future__ import annotations

import pytest

from tests.test_web_client import (PASSAGE, browser, chromium_pages,  # noqa: F401
                                   goto_section, save_screenshot, type_keys, wait_racing, web)

playwright_api = pytest.importorskip("playwright.async_api")
from playwright.async_api import expect  # noqa: E402


async def test_the_text_of_the_day_is_raced_from_today_and_its_points_are_shown(
        browser, web, connect, tmp_path):  # noqa: F811
    bob = await connect("Bob", target=web)
    board = await bob.request({"type": "points_board", "window": "day"})
    assert board["entries"] == []

    ann = await browser.page("Ann")
    await goto_section(ann, "today")
    today = ann.locator("#today-view")
    await expect(today.locator("#daily-title")).to_have_text("Foxes")
    await expect(today.locator("#daily-ends")).to_contain_text("left")
    await expect(today.locator("#daily-you")).to_have_text("You have not raced it today.")
    await expect(today.locator("#points-you")).to_contain_text("No points today")
    await expect(today.locator("#daily-empty")).to_be_visible()

    await ann.click("#daily-race-btn")
    await expect(ann.locator("#passage")).to_have_text(PASSAGE)
    await wait_racing(ann)
    await type_keys(ann, PASSAGE)
    await expect(ann.locator("#results")).to_be_visible()
    points = await ann.locator("#results-table tbody tr.mine td.points").inner_text()
    assert int(points) > 0

    await ann.click("#leave-btn")
    await expect(today.locator("#daily-table tbody tr")).to_have_count(1)
    await expect(today.locator("#daily-table tbody tr a.player-link")).to_have_text("Ann")
    await expect(today.locator("#daily-you")).to_contain_text("You: 1st,")
    await expect(today.locator("#points-table tbody tr")).to_have_count(1)
    await expect(today.locator("#points-table tbody tr td").nth(2)).to_have_text(points)
    await expect(today.locator("#points-you")).to_have_text(f"You: {points} points, 1st")

    # The window switch: all time shows the same race, and says which window is on.
    await today.locator('#points-windows button[data-window="all"]').click()
    await expect(today.locator('#points-windows button[data-window="all"]')).to_have_attribute(
        "aria-pressed", "true")
    await expect(today.locator('#points-windows button[data-window="day"]')).to_have_attribute(
        "aria-pressed", "false")
    await expect(today.locator("#points-you")).to_have_text(f"You: {points} points, 1st")
    save_screenshot(await today.screenshot(), tmp_path, "today.png")

    # Another player (over the protocol) sees the same board.
    seen = await bob.request({"type": "points_board", "window": "day"})
    assert [(e["name"], e["points"]) for e in seen["entries"]] == [("Ann", int(points))]


async def test_today_fits_a_phone(web, tmp_path):  # noqa: F811
    async with chromium_pages(web) as pages:
        page = await pages.page("Ann", phone=True)
        await goto_section(page, "today")
        await expect(page.locator("#daily-title")).to_have_text("Foxes")
        overflow = await page.evaluate(
            "document.getElementById('today-view').scrollWidth"
            " - document.getElementById('today-view').clientWidth")
        assert overflow <= 0
        save_screenshot(await page.locator("#today-view").screenshot(), tmp_path,
                        "today-phone.png")
