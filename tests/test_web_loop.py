"""The player's loop in Chromium, on a desktop (1280x900) and a phone (390x844): finish
a quick race, a practice and a private-room race, see the results at once with the
primary action focused, and press Enter to race again; solo rooms look solo; a new
personal best is announced with its margin; home's sections have addresses the back
button follows; the theme follows the system and the toggle. (Issue 25.)

These are page flows: the transport plays no part (tests/test_web_client.py runs the
page on both), so they run on the default one."""

from __future__ import annotations

import asyncio

import pytest

from tests.test_web_client import (PASSAGE, browser, chromium_pages, expect,  # noqa: F401
                                   save_screenshot,
                                   goto_section, say_hello, type_keys, wait_racing, web)
from tests.test_web_pages import to_fixed_1

pytestmark = pytest.mark.default_transport

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])

# Nothing on the page is wider than the window (a phone must never scroll sideways),
# and no table is cut inside its box.
NO_SIDEWAYS = """() => {
  const wide = [];
  if (document.documentElement.scrollWidth > window.innerWidth) wide.push("page");
  for (const box of document.querySelectorAll(".scroll, .lane, #lanes")) {
    const cut = box.scrollWidth > box.clientWidth + 1;
    if (box.offsetParent && cut) wide.push(box.id || box.className);
  }
  return wide;
}"""


async def open_page(browser, name: str, size: dict):
    page = await browser.page(None, size=size, phone=size is PHONE)
    await say_hello(page, name)
    return page


async def results_at_once(page, primary: str | None) -> None:
    """The results are inside the viewport with the primary action focused (or, for a
    guest, its state); nothing is cut or scrolls sideways."""
    results = page.locator("#results")
    await expect(results).to_be_visible()
    await expect(results).to_be_in_viewport()
    box = await results.bounding_box()
    assert box["y"] >= 0, box
    if primary is not None:
        button = page.locator("#again-btn")
        await expect(button).to_have_text(primary)
        await expect(button).to_be_focused()
        await expect(button).to_be_in_viewport(ratio=1)
    await expect(page.locator("#results-table tbody tr").first).to_be_in_viewport()
    assert await page.evaluate(NO_SIDEWAYS) == []


async def no_codes_shown(page) -> None:
    for hidden in ("#private-info", "#room-settings", "#spectators-note", "#host-controls"):
        await expect(page.locator(hidden)).to_be_hidden()
    await expect(page.locator("#players-list .host-marker")).to_have_count(0)
    shown = await page.locator("main").inner_text()
    for words in ("Join code", "Watch code", "Invite link", "Spectator link", "players", "host",
                  "watching"):
        assert words not in shown, words


@SIZES
async def test_a_quick_race_ends_in_view_and_enter_races_again(browser, size):
    ann, eve = await open_page(browser, "Ann", size), await open_page(browser, "Eve", size)
    for page in (ann, eve):
        await page.click("#quick-race-btn")
    for page in (ann, eve):
        await wait_racing(page)
    await asyncio.gather(type_keys(ann, PASSAGE), type_keys(eve, PASSAGE))
    for page in (ann, eve):
        await results_at_once(page, "Race again")
        await expect(page.locator("#live-acc")).to_have_text("100.0%")

    # Enter: a new quick race at once (a new room, waiting for opponents).
    await ann.keyboard.press("Enter")
    await expect(ann.locator("#results")).to_be_hidden()
    await expect(ann.locator("#room-state")).to_have_text("waiting")
    await expect(ann.locator("#room-title")).to_have_text("Quick race")
    # Esc leaves.
    await ann.keyboard.press("Escape")
    await expect(ann.locator("#home-view")).to_be_visible()


@SIZES
async def test_practice_looks_solo_then_enter_brings_the_next_text(browser, size):
    ann = await open_page(browser, "Ann", size)
    await ann.click("#practice-btn")
    await expect(ann.locator("#room-title")).to_have_text("Practice")
    await no_codes_shown(ann)
    await wait_racing(ann)
    await expect(ann.locator("#typing-input")).to_have_attribute("placeholder", "")
    await type_keys(ann, PASSAGE[:10])
    await expect(ann.locator("#typing-input")).to_have_value("")    # a word just ended
    await expect(ann.locator("#live-acc")).to_have_text("100.0%")
    await type_keys(ann, PASSAGE[10:])
    await results_at_once(ann, "Next text")
    await expect(ann.locator("#same-text-btn")).to_be_visible()
    await no_codes_shown(ann)

    # Enter works wherever the focus went (not only on the focused button).
    await ann.evaluate("document.activeElement.blur()")
    await ann.keyboard.press("Enter")                 # a new race (this server has one text)
    await expect(ann.locator("#results")).to_be_hidden()
    await wait_racing(ann)
    await expect(ann.locator("#passage .done")).to_have_text("")
    await no_codes_shown(ann)
    # Tab then Enter restarts at any moment, mid-race too, as on Monkeytype.
    await type_keys(ann, PASSAGE[:5])
    await expect(ann.locator("#passage .done")).to_have_text(PASSAGE[:5])
    await ann.keyboard.press("Tab")
    await ann.keyboard.press("Enter")
    await expect(ann.locator("#passage .done")).to_have_text("")
    await wait_racing(ann)
    await type_keys(ann, PASSAGE)
    await results_at_once(ann, "Next text")


@SIZES
async def test_a_private_room_ends_in_view_and_the_hosts_enter_starts_the_rematch(browser, size):
    ann = await open_page(browser, "Ann", size)
    await ann.fill("#create-countdown", "1")
    await ann.click("#create-room-btn")
    await expect(ann.locator("#room-code")).not_to_be_empty()
    await expect(ann.locator("#join-link")).to_be_visible()          # waiting: invite
    code = await ann.locator("#room-code").inner_text()
    bob = await open_page(browser, "Bob", size)
    await bob.fill("#join-code-input", code)
    await bob.click("#join-btn")
    await expect(ann.locator("#players-list li.player")).to_have_count(2)
    await expect(ann.locator("#players-list .host-marker")).to_have_count(1)
    await ann.click("#start-btn")
    for page in (ann, bob):
        await wait_racing(page)
        await expect(page.locator("#private-info")).to_be_hidden()   # nothing above the race
    await asyncio.gather(type_keys(ann, PASSAGE), type_keys(bob, PASSAGE))

    await results_at_once(ann, "Rematch")
    await results_at_once(bob, None)
    await expect(bob.locator("#results-wait")).to_have_text(
        "Waiting for the host to start a rematch.")
    for page in (ann, bob):
        await expect(page.locator("#private-info")).to_be_hidden()   # nothing above the results
    await bob.keyboard.press("Enter")                                # a guest's Enter: nothing
    await expect(bob.locator("#results")).to_be_visible()
    await ann.keyboard.press("Enter")
    for page in (ann, bob):
        await expect(page.locator("#results")).to_be_hidden()
        await wait_racing(page)


async def test_a_new_personal_best_is_announced_with_its_margin(browser, web):
    ann = await browser.page("Ann", size=DESKTOP)
    player_id = (await ann.evaluate("localStorage.getItem('typerace.token')")).split(".")[1]

    async def practise(delay_ms: int) -> None:
        """A practice race typed at `delay_ms` a key: the first from home, then "Again"
        (the same text)."""
        if await ann.locator("#home-view").is_visible():
            await ann.click("#practice-btn")
        else:
            await ann.click("#same-text-btn")
            await expect(ann.locator("#results")).to_be_hidden()
        await wait_racing(ann)
        await ann.locator("#typing-input").press_sequentially(PASSAGE, delay=delay_ms)
        await expect(ann.locator("#results")).to_be_visible()

    async def best() -> float:
        href = await ann.locator("#results-text a.text-link").get_attribute("href")
        text_id = int(href.removeprefix("#text="))
        return (await web.store.bests_of([player_id], text_id))[player_id].text_wpm

    await practise(150)                   # the first finish on the text: a best to beat
    await expect(ann.locator("#results-best")).to_have_text(
        "Your first finish on this text is your best on any text!")
    slow = await best()
    await practise(25)                    # much faster: a new best, by the margin
    fast = await best()
    assert fast > slow
    await expect(ann.locator("#results-best")).to_have_text(
        f"New personal best on this text: +{to_fixed_1(fast - slow)} WPM "
        f"(was {to_fixed_1(slow)}), and your best on any text!")
    await expect(ann.locator("#results-table tr.mine td.pb")).to_have_count(1)
    await practise(150)                   # slower again: nothing to announce
    await expect(ann.locator("#results-best")).to_be_hidden()
    await expect(ann.locator("#results-table tr.mine td.pb")).to_have_count(0)
    assert await best() == fast


async def test_home_sections_have_addresses_and_the_back_button_follows_them(browser):
    ann = await browser.page("Ann", size=PHONE, phone=True)
    await expect(ann.locator('#home-nav a[data-section="race"]')).to_have_attribute(
        "aria-current", "page")
    await expect(ann.locator("#quick-race-btn")).to_be_visible()
    await expect(ann.locator("#texts-list")).to_be_hidden()
    for section in ("texts", "stats", "leaderboards"):
        await goto_section(ann, section)
        assert ann.url.endswith(f"#{section}")
    await expect(ann.locator("#leaderboard-view")).to_be_visible()
    await expect(ann.locator("#stats-view")).to_be_hidden()
    await ann.go_back()
    await expect(ann.locator("#stats-view")).to_be_visible()
    # A new player has no numbers yet: a dash, not 0.0.
    best = ann.locator("#stats-summary div", has_text="Best WPM").locator("dd")
    await expect(best).to_have_text("–")
    await ann.go_back()
    await expect(ann.locator("#texts-list")).to_be_visible()
    # "Top scores" opens the text's page.
    await ann.locator("#texts-list .leaderboard-text-btn").first.click()
    await expect(ann.locator("#text-view")).to_be_visible()
    await expect(ann.locator("#text-top-table")).to_be_visible()
    await ann.go_back()
    await expect(ann.locator("#texts-list")).to_be_visible()
    assert await ann.evaluate(NO_SIDEWAYS) == []


async def test_the_theme_follows_the_system_and_the_toggle_is_remembered(browser):
    dark = await browser.page("Ann", color_scheme="dark")
    await expect(dark.locator("html")).to_have_attribute("data-theme", "dark")
    light = await browser.page("Bob", color_scheme="light")
    await expect(light.locator("html")).to_have_attribute("data-theme", "light")
    background = await light.evaluate("getComputedStyle(document.body).backgroundColor")
    await light.click("#theme-btn")
    await expect(light.locator("html")).to_have_attribute("data-theme", "dark")
    assert await light.evaluate("getComputedStyle(document.body).backgroundColor") != background
    await light.reload()
    await expect(light.locator("html")).to_have_attribute("data-theme", "dark")
    await expect(light.locator("#theme-btn")).to_have_text("Light")


VIEWS = ("home", "race", "results", "text", "player", "today")


@SIZES
async def test_every_view_in_both_themes_fits_and_is_photographed(browser, size, tmp_path):
    """Home, a race, its results, a text's page, a player's page and Today (the race
    was on the text of the day), light and dark:
    none scrolls sideways. Each is photographed (tmp_path; docs/screenshots/ with
    TYPERACE_SCREENSHOTS=1, as docs/clients.md shows them)."""
    where = "desktop" if size is DESKTOP else "phone"
    ann, eve = await open_page(browser, "Ann", size), await open_page(browser, "Eve", size)

    async def shoot(view: str) -> None:
        for theme in ("light", "dark"):
            # Set as the toggle sets it (a click would move the focus and the scroll).
            await ann.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
            assert await ann.evaluate(NO_SIDEWAYS) == [], (view, theme)
            save_screenshot(await ann.screenshot(), tmp_path, f"{view}-{theme}-{where}.png")

    await shoot("home")
    for page in (ann, eve):
        await page.click("#quick-race-btn")
    for page in (ann, eve):
        await wait_racing(page)
    await asyncio.gather(type_keys(ann, PASSAGE[:21] + "x"), type_keys(eve, PASSAGE[:30]))
    await expect(ann.locator("#passage .wrong")).to_have_text(PASSAGE[21])
    await ann.locator("#race-area").scroll_into_view_if_needed()
    await shoot("race")
    await ann.locator("#typing-input").press("Backspace")
    await asyncio.gather(type_keys(ann, PASSAGE[21:]), type_keys(eve, PASSAGE[30:]))
    await results_at_once(ann, "Race again")
    await shoot("results")
    await ann.click("#results-text a.text-link")
    await expect(ann.locator("#text-top-table tbody tr")).to_have_count(2)
    await shoot("text")
    await ann.locator("#text-top-table a.player-link").first.click()
    await expect(ann.locator("#player-chart circle.point")).to_have_count(1)
    await shoot("player")
    await ann.click("#home-link")
    await goto_section(ann, "today")
    await expect(ann.locator("#daily-table tbody tr")).to_have_count(2)
    await expect(ann.locator("#points-table tbody tr")).to_have_count(2)
    await shoot("today")
    for view in VIEWS:
        for theme in ("light", "dark"):
            assert (tmp_path / f"{view}-{theme}-{where}.png").stat().st_size > 10_000


LONG = " ".join(f"Sentence number {i} of a passage long enough to need scrolling."
                for i in range(20))

# The passage box: its height, the lines it shows (line height 1.7em, padding 0.75rem
# each side, 1px borders) and whether it scrolls.
PASSAGE_BOX = """() => {
  const p = document.getElementById("passage"), style = getComputedStyle(p);
  const line = parseFloat(style.lineHeight);
  const inner = p.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  return {lines: inner / line, scrolls: p.scrollHeight > p.clientHeight};
}"""


@SIZES
async def test_the_passage_box_fits_each_text_and_shows_whole_lines(browser, web, connect, size):
    bob = await connect("Bob", target=web)
    long_id = (await bob.request({"type": "submit_text", "title": "Long one",
                                  "body": LONG}))["text"]["text_id"]
    ann = await open_page(browser, "Ann", size)
    await ann.evaluate(f"location.hash = '#text={long_id}'")
    await ann.click("#text-practice-btn")
    await expect(ann.locator("#race-title")).to_have_text("Long one")
    await wait_racing(ann)
    box = await ann.evaluate(PASSAGE_BOX)
    assert box["scrolls"] and abs(box["lines"] - 7) < 0.05, box     # 7 whole lines, none cut
    await ann.keyboard.press("Escape")
    await expect(ann.locator("#home-view")).to_be_visible()

    # A short text after it: the box is as tall as the text, not the long one's.
    await ann.click("#practice-btn")                   # (this server's library: one text)
    await expect(ann.locator("#race-title")).to_have_text("Foxes")
    await wait_racing(ann)
    box = await ann.evaluate(PASSAGE_BOX)
    assert not box["scrolls"] and box["lines"] < 3.05, box


async def test_a_race_left_midway_shows_no_speed_in_recent_races(browser, web, connect):
    ann = await browser.page("Ann", size=DESKTOP)
    await ann.fill("#create-countdown", "1")
    await ann.click("#create-room-btn")
    await expect(ann.locator("#room-code")).not_to_be_empty()
    bob = await connect("Bob", target=web)
    await bob.request({"type": "join_room", "code": await ann.locator("#room-code").inner_text()})
    await expect(ann.locator("#players-list li.player")).to_have_count(2)
    await ann.click("#start-btn")
    await wait_racing(ann)
    await type_keys(ann, PASSAGE[:12])
    await ann.keyboard.press("Escape")                 # Ann leaves mid-race
    await expect(ann.locator("#home-view")).to_be_visible()
    await bob.send({"type": "input", "keys": PASSAGE})
    await bob.expect("results", timeout=30)

    await goto_section(ann, "stats")
    row = ann.locator("#recent-table tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_have_attribute("data-status", "left")
    cells = [c.strip() for c in await row.locator("td").all_inner_texts()]
    assert cells[2:5] == ["–", "–", "left"], cells          # WPM, accuracy, place


async def test_a_connection_notice_clears_itself_when_the_connection_is_back(browser):
    """The banner is for the connection: it says the page is offline, and goes by itself
    once the page is connected again. (The page's WebSocket runs through a route the
    test can cut and refuse while "the network is down".)"""
    down = False
    sockets = []

    async def through(ws):
        if down:
            await ws.close(code=3001, reason="network down")
            return
        ws.connect_to_server()
        sockets.append(ws)

    ann = await browser.page(None, size=DESKTOP)
    await ann.route_web_socket("**/ws", through)
    await say_hello(ann, "Ann")
    await expect(ann.locator("#status")).to_have_text("connected as Ann")
    down = True
    await sockets[-1].close(code=3001, reason="network down")
    await expect(ann.locator("#status")).to_contain_text("reconnecting")
    await ann.click("#quick-race-btn")                 # nothing to send it on
    banner = ann.locator("#error-banner")
    await expect(banner).to_be_visible()
    await expect(banner).to_have_attribute("data-code", "offline")
    down = False
    await expect(ann.locator("#status")).to_have_text("connected as Ann")
    await expect(banner).to_be_hidden()
