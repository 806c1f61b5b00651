"""The web client's pages in Chromium: a text's page opened straight from its link,
racing ghosts from it, a player's page, and saved races played back."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from protocol.typing_model import TypingState
from tests.test_web_client import (browser, chromium_pages, goto_section, say_hello,  # noqa: F401
                                   type_keys, wait_racing, web)
from tests.typist import practise

playwright_api = pytest.importorskip("playwright.async_api")
from playwright.async_api import expect  # noqa: E402

BOB_TEXT = "Records are made to be broken, ghosts to be raced."


def to_fixed_1(x: float) -> str:
    """What the page shows for a number: JavaScript's x.toFixed(1), which rounds the
    exact binary value half up (920.25 -> "920.3"), where Python's format rounds half
    to even ("920.2")."""
    return str(Decimal(x).quantize(Decimal("0.1"), ROUND_HALF_UP))


async def bob_sets_a_record(connect, web):
    """Bob writes a text and sets its record in a practice race; (bob, text_id, results)."""
    bob = await connect("Bob", target=web)
    text_id = (await bob.request({"type": "submit_text", "title": "Bob's record",
                                  "body": BOB_TEXT}))["text"]["text_id"]
    _, results = await practise(bob, text_id, chunk=3, pause_s=0.04)
    return bob, text_id, results


async def test_a_text_page_opened_from_its_link_races_the_record_and_then_your_best(
        browser, web, connect):  # noqa: F811
    bob, text_id, record = await bob_sets_a_record(connect, web)
    page = await browser.page(None, path=f"/#text={text_id}")
    await expect(page.locator("#name-view")).to_be_visible()
    await say_hello(page, "Ann")

    await expect(page.locator("#text-view")).to_be_visible()
    await expect(page.locator("#text-title")).to_have_text("Bob's record")
    author = page.locator("#text-byline a.player-link")
    await expect(author).to_have_text("Bob")
    assert await author.get_attribute("href") == f"#player={bob.player_id}"
    await expect(page.locator("#text-date")).to_contain_text("Added")
    facts = page.locator("#text-facts")
    await expect(facts.locator('dd[data-fact="words"]')).to_have_text(str(len(BOB_TEXT.split())))
    await expect(facts.locator('dd[data-fact="chars"]')).to_have_text(str(len(BOB_TEXT)))
    await expect(facts.locator('dd[data-fact="completions"]')).to_have_text("1")
    wpm = record["ranking"][0]["wpm"]
    await expect(facts.locator('dd[data-fact="avg_wpm"]')).to_have_text(to_fixed_1(wpm))
    await expect(page.locator("#text-top-table tbody tr")).to_have_count(1)
    await expect(page.locator("#text-top-table tbody tr a.player-link")).to_have_text("Bob")
    await expect(page.locator("#text-best")).to_have_text("You have not finished this text yet.")
    await expect(page.locator("#text-ghost-best-btn")).to_be_disabled()
    await expect(page.locator("#text-author-card")).to_be_visible()

    # Race the record: Bob's practice race, typed again by the server as a ghost.
    await page.click("#text-ghost-top-btn")
    await expect(page.locator("#room-view")).to_be_visible()
    await expect(page.locator("#players-list li.player")).to_have_count(2)
    await expect(page.locator("#players-list .ghost-marker")).to_have_count(1)
    ghost_lane = page.locator("#lanes .lane.ghost")
    await expect(ghost_lane).to_have_count(1)
    await expect(ghost_lane.locator(".lane-name")).to_have_text("Bob (ghost)")
    await wait_racing(page)
    await type_keys(page, BOB_TEXT)
    await expect(page.locator("#results-table tbody tr")).to_have_count(2)
    await expect(ghost_lane).to_have_attribute("data-pos", str(len(BOB_TEXT)))
    await expect(page.locator("#results-table tbody tr.ghost")).to_contain_text("Bob (ghost)")
    await expect(page.locator("#results-table tbody tr.ghost .replay-btn")).to_have_count(0)

    # Back to the text's page from the results: now Ann has a best to race.
    await page.click("#results-text a.text-link")
    await expect(page.locator("#text-view")).to_be_visible()
    await expect(page.locator('#text-facts dd[data-fact="completions"]')).to_have_text("2")
    await expect(page.locator("#text-best")).to_contain_text("WPM")
    await expect(page.locator("#text-top-table tbody tr")).to_have_count(2)
    await page.click("#text-ghost-best-btn")
    await expect(page.locator("#players-list .ghost-marker")).to_have_count(1)
    await expect(page.locator("#lanes .lane.ghost .lane-name")).to_have_text("Ann (ghost)")


async def test_a_player_page_and_a_saved_race_played_back(browser, web, connect):  # noqa: F811
    bob, text_id, record = await bob_sets_a_record(connect, web)
    page = await browser.page("Ann")
    await page.evaluate(f"location.hash = '#player={bob.player_id}'")
    await expect(page.locator("#player-view")).to_be_visible()
    await expect(page.locator("#player-name")).to_have_text("Bob")
    await expect(page.locator("#player-summary")).to_contain_text("Races")
    await expect(page.locator("#player-chart circle.point")).to_have_count(1)
    row = page.locator("#player-recent-table tbody tr")
    await expect(row).to_have_count(1)
    await expect(row.locator("a.text-link")).to_have_text("Bob's record")
    await expect(page.locator(f'#player-texts li.text[data-text-id="{text_id}"] a.text-link')
                 ).to_have_attribute("href", f"#text={text_id}")

    # Play Bob's race back; at any moment the lane and passage are where he was then.
    saved = (await bob.request({"type": "replay", "race_id": record["race_id"]}))["race"]
    log = saved["results"][0]["log"]
    await row.locator(".replay-btn").click()
    await expect(page.locator("#replay-view")).to_be_visible()
    await expect(page.locator("#replay-title")).to_have_text("Replay: Bob's record")
    lane = page.locator("#replay-lanes .lane")
    await expect(lane).to_have_count(1)
    await expect(lane).to_have_attribute("data-pos", str(len(BOB_TEXT)))   # it played on
    await expect(lane).to_have_attribute("data-place", "1")
    moment = log[len(log) // 2][0]
    typing = TypingState(BOB_TEXT)
    for race_ms, keys in log:
        if race_ms <= moment:
            typing.feed(keys)
    assert 0 < typing.pos < len(BOB_TEXT)
    await page.locator("#replay-seek").evaluate(
        f"(seek) => {{ seek.value = '{moment}'; seek.dispatchEvent(new Event('input')); }}")
    await expect(lane).to_have_attribute("data-pos", str(typing.pos))
    await expect(page.locator("#replay-passage .done")).to_have_text(BOB_TEXT[:typing.pos])
    await expect(lane).to_have_attribute("data-place", "0")
    await expect(page.locator("#replay-play-btn")).to_have_text("Play")

    # Home links every text, board entry and recent race to the text's page.
    await page.click("#replay-back-btn")
    await expect(page.locator("#home-view")).to_be_visible()
    assert not re.search(r"#(replay|player|text)=", page.url)
    await goto_section(page, "leaderboards")
    await expect(page.locator("#leaderboard-table a.text-link").first
                 ).to_have_attribute("href", f"#text={text_id}")
    await expect(page.locator("#leaderboard-table a.text-link").first).to_have_text("Bob's record")
    await goto_section(page, "texts")
    link = page.locator(f'#texts-list li.text[data-text-id="{text_id}"] a.text-link')
    await expect(link).to_have_attribute("href", f"#text={text_id}")
    await link.click()
    await expect(page.locator("#text-view")).to_be_visible()
    await expect(page.locator("#text-title")).to_have_text("Bob's record")


@pytest.fixture
async def strict_web(make_server, tmp_path):
    """As `web`, but a single report hides a player-written text."""
    texts = tmp_path / "texts.txt"
    texts.write_text("# Foxes\nThe quick brown fox jumps over the lazy dog.\n", encoding="utf-8")
    return await make_server(texts=str(texts), countdown_s=1, lobby_wait_s=60,
                             max_wpm=10_000, report_threshold=1)


async def test_a_text_reported_from_its_page_is_hidden(strict_web, connect):
    bob = await connect("Bob", target=strict_web)
    text_id = (await bob.request({"type": "submit_text", "title": "Rude words",
                                  "body": "Some words nobody should have to type at all."})
               )["text"]["text_id"]
    async with chromium_pages(strict_web) as browser:
        await report_from_the_page(browser, bob, text_id)


async def report_from_the_page(browser, bob, text_id):
    page = await browser.page(None, path=f"/#text={text_id}")
    await say_hello(page, "Ann")
    await expect(page.locator("#text-title")).to_have_text("Rude words")
    # Nobody finished it: no average to show (not a speed of 0).
    await expect(page.locator('#text-facts dd[data-fact="avg_wpm"]')).to_have_text("–")
    await expect(page.locator("#text-report-form")).to_be_hidden()

    await page.click("#text-report-btn")
    reason = page.locator("#text-report-reason")
    await expect(reason).to_be_focused()
    assert await reason.get_attribute("maxlength") == "200"     # REASON_MAX, from /protocol.js
    await page.click("#text-report-send")                       # empty: the browser holds it
    await expect(page.locator("#text-msg")).to_have_text("")
    await reason.fill("insults")
    await page.click("#text-report-send")
    await expect(page.locator("#text-msg")).to_contain_text("your report was sent")
    await expect(page.locator("#text-report-form")).to_be_hidden()
    await expect(page.locator("#text-report-btn")).to_be_disabled()

    # The report counted: it is gone from the library, and its link finds nothing now.
    listed = await bob.request({"type": "list_texts", "author": bob.player_id})
    assert [t["text_id"] for t in listed["texts"]] == []
    await page.evaluate("location.hash = '#'")
    await page.evaluate(f"location.hash = '#text={text_id}'")
    await expect(page.locator("#text-title")).to_have_text("No such text")
    await expect(page.locator("#text-report-btn")).to_be_disabled()
