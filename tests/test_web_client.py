"""The web client in a real browser: Debian's Chromium driven by Playwright.

Every test starts the real server on port 0 and opens the page it serves at `/`; each
browser page is its own context (own localStorage, so its own player). Tests wait on
DOM state, never on fixed sleeps.

Screenshots of a race go to the test's tmp_path; with TYPERACE_SCREENSHOTS=1 they are
also written to docs/screenshots/ for the README:
    TYPERACE_SCREENSHOTS=1 ./scripts/test -q tests/test_web_client.py
"""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager
import re
import shutil
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.async_api")
from playwright.async_api import expect  # noqa: E402

from tests.chromium import CHROMIUM, browser_server  # noqa: E402
from tests.helpers import unavailable  # noqa: E402

DOCS_SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSAGE = "The quick brown fox jumps over the lazy dog."
WAIT_MS = 20_000        # generous: the box is shared and noisy
# Fast for the suite; a human-like ~100 WPM when making the README's screenshots.
KEY_DELAY_MS = 100 if os.environ.get("TYPERACE_SCREENSHOTS") else 15

expect.set_options(timeout=WAIT_MS)

if not os.path.exists(CHROMIUM):
    unavailable(f"no Chromium at {CHROMIUM} (scripts/test installs it as root)", module_level=True)


def save_screenshot(png: bytes, tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(png)
    if os.environ.get("TYPERACE_SCREENSHOTS"):
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / name, DOCS_SCREENSHOTS / name)


@pytest.fixture
async def web(make_server, tmp_path):
    """A server with one short passage and a 1 s countdown, for practice too; quick races
    wait for a second player (a lone player would only start after lobby_wait_s). Test
    typists are faster than people, so the too-fast flag is out of the way (results
    count for boards)."""
    texts = tmp_path / "texts.txt"
    texts.write_text(f"# Foxes\n{PASSAGE}\n", encoding="utf-8")
    return await make_server(texts=str(texts), countdown_s=1, practice_countdown_s=1,
                             lobby_wait_s=60, max_wpm=10_000)


class Browser:
    """Pages that are separate players: each has its own context (own localStorage)."""

    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.errors: list[str] = []
        self.contexts = []

    async def page(self, name: str | None = None, path: str = "/", phone: bool = False,
                   size: dict | None = None, color_scheme: str = "light"):
        # bypass_csp: Playwright's wait_for_function evaluates strings, which the server's
        # strict CSP forbids. It also makes the markup test stricter: injected inline
        # handlers WOULD run here, so only escaping keeps them inert.
        size = size or ({"width": 360, "height": 740} if phone else {"width": 1000, "height": 900})
        context = await self.browser.new_context(bypass_csp=True, viewport=size,
                                                 is_mobile=phone, has_touch=phone,
                                                 color_scheme=color_scheme)
        context.set_default_timeout(WAIT_MS)
        self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{name}: {exc}"))
        await page.goto(self.base_url + path)
        if name is not None:
            await say_hello(page, name)
        return page


async def goto_section(page, section: str) -> None:
    """Home's section (race, texts, stats, leaderboards, account) by its link in the nav."""
    await page.click(f'#home-nav a[data-section="{section}"]')
    await expect(page.locator(f'#home-view .card[data-section="{section}"]').first).to_be_visible()


async def say_hello(page, name: str) -> None:
    await page.fill("#name-input", name)
    await page.click("#hello-btn")
    await expect(page.locator("#me")).to_have_text(name)


@asynccontextmanager
async def chromium_pages(server):
    """Chromium (this process's, tests/chromium.py) on `server`'s page, in contexts of
    this test's own; at the end, no JavaScript error may have happened."""
    async with playwright_api.async_playwright() as pw:
        chromium = await pw.chromium.connect(browser_server())
        pages = Browser(chromium, f"http://127.0.0.1:{server.port}")
        try:
            yield pages
        finally:
            for context in pages.contexts:
                await context.close()
            await chromium.close()
        assert pages.errors == [], "JavaScript errors on the page"


@pytest.fixture
async def browser(web):
    async with chromium_pages(web) as pages:
        yield pages


async def wait_racing(page) -> None:
    """The typing box is enabled once the race started (on the server's clock)."""
    await expect(page.locator("#typing-input")).to_be_enabled()


async def type_keys(page, keys: str) -> None:
    """Real key presses into the typing box, like a person (a little delay per key)."""
    await page.locator("#typing-input").press_sequentially(keys, delay=KEY_DELAY_MS)


async def lane_pos(page, slot: str) -> int:
    return int(await page.locator(f'#lanes .lane[data-slot="{slot}"]').get_attribute("data-pos"))


async def results_rows(page) -> list[list[str]]:
    rows = page.locator("#results-table tbody tr")
    return [[c.strip() for c in await rows.nth(i).locator("td").all_inner_texts()]
            for i in range(await rows.count())]


async def test_two_pages_race_while_a_third_watches(browser, tmp_path):
    ann = await browser.page("Ann")
    eve = await browser.page("Eve")

    await ann.click("#quick-race-btn")
    await expect(ann.locator("#room-state")).to_have_text("waiting")

    # Eve finds the public race in the list and watches it.
    await eve.click("#refresh-races-btn")
    await expect(eve.locator("#races-list li.race")).to_have_count(1)
    save_screenshot(await eve.screenshot(), tmp_path, "home.png")
    await eve.locator("#races-list li.race .watch-race-btn").first.click()
    await expect(eve.locator("#watching-banner")).to_be_visible()
    await expect(ann.locator("#spectators-count")).to_have_text("1")

    bob = await browser.page("Bob")
    await bob.click("#quick-race-btn")
    for page in (ann, bob, eve):
        await expect(page.locator("#passage")).to_have_text(PASSAGE)
        await expect(page.locator("#lanes .lane")).to_have_count(2)
    await wait_racing(ann)
    await wait_racing(bob)
    await expect(eve.locator("#typing-input")).to_be_disabled()
    # A spectator types nothing: no typing box and no live WPM of their own.
    await expect(eve.locator("#typing-input")).to_be_hidden()
    await expect(eve.locator("#live-stats")).to_be_hidden()

    # Ann makes a typo, sees it marked, and corrects it; Bob is slower.
    half = len(PASSAGE) // 2
    await type_keys(ann, PASSAGE[:half] + "x")
    await expect(ann.locator("#passage .wrong")).to_have_text(PASSAGE[half])
    await type_keys(bob, PASSAGE[:10])
    ann_slot = await ann.locator("#lanes .lane.mine").get_attribute("data-slot")
    bob_slot = await bob.locator("#lanes .lane.mine").get_attribute("data-slot")
    await expect(eve.locator(f'#lanes .lane[data-slot="{ann_slot}"]')).to_have_attribute(
        "data-pos", str(half))
    await expect(eve.locator(f'#lanes .lane[data-slot="{bob_slot}"]')).to_have_attribute(
        "data-pos", "10")
    await expect(ann.locator(f'#lanes .lane[data-slot="{bob_slot}"]')).to_have_attribute(
        "data-pos", "10")
    assert int(await ann.locator("#live-wpm").inner_text()) > 0
    save_screenshot(await ann.screenshot(), tmp_path, "race.png")

    await ann.locator("#typing-input").press("Backspace")
    await expect(ann.locator("#passage .wrong")).to_have_text("")
    await type_keys(ann, PASSAGE[half:])
    await expect(ann.locator("#race-msg")).to_contain_text("Finished 1st")
    await type_keys(bob, PASSAGE[10:])

    for page in (ann, bob, eve):
        await expect(page.locator("#results")).to_be_visible()
        rows = await results_rows(page)
        assert [(r[0], r[1], r[5]) for r in rows] == [("1", "Ann", "finished"),
                                                      ("2", "Bob", "finished")]
        assert all(float(r[2]) > 0 and r[3] == "100.0%" for r in rows[1:])
    assert (await results_rows(ann))[0][3] == f"{100 * len(PASSAGE) / (len(PASSAGE) + 1):.1f}%"
    save_screenshot(await bob.screenshot(full_page=True), tmp_path, "results.png")
    assert (tmp_path / "race.png").stat().st_size > 10_000



async def create_private_room(page) -> tuple[str, str]:
    """The host creates a private room with a 1 s countdown: (join code, watch code)."""
    await page.fill("#create-countdown", "1")
    await page.click("#create-room-btn")
    await expect(page.locator("#room-code")).not_to_be_empty()
    return (await page.locator("#room-code").inner_text(),
            await page.locator("#watch-code").inner_text())


async def test_invite_links_seat_a_player_and_a_spectator(browser):
    ann = await browser.page("Ann")
    code, watch_code = await create_private_room(ann)
    join_link = await ann.locator("#join-link").input_value()
    assert join_link.endswith(f"/#join={code}")
    watch_link = await ann.locator("#watch-link").input_value()
    assert watch_link.endswith(f"/#watch={watch_code}")

    # A newcomer opens the invite link, says who they are, and is seated.
    bob = await browser.page(path=join_link[len(browser.base_url):])
    await say_hello(bob, "Bob")
    await expect(bob.locator("#room-view")).to_be_visible()
    await expect(bob.locator("#room-code")).to_have_text(code)
    for page in (ann, bob):
        await expect(page.locator("#players-list li.player")).to_have_count(2)
        await expect(page.locator("#players-list")).to_contain_text("Bob")
    await expect(bob.locator("#start-btn")).to_be_hidden()         # Bob is not the host

    eve = await browser.page("Eve", path=watch_link[len(browser.base_url):])
    await expect(eve.locator("#watching-banner")).to_be_visible()
    await expect(eve.locator("#players-list li.player")).to_have_count(2)
    await expect(ann.locator("#spectators-count")).to_have_text("1")

    await ann.click("#start-btn")
    for page in (ann, bob, eve):
        await expect(page.locator("#passage")).to_have_text(PASSAGE)
    await wait_racing(bob)


async def server_has(server, name: str, pos: int, wrong: str, timeout: float = 20) -> None:
    """Wait until the server's own typing state of `name` is (pos, wrong): keys the page
    typed are batched, so this is how a test knows they arrived."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        states = [(room.race.racers[seat.slot].typing.pos,
                   room.race.racers[seat.slot].typing.wrong_text)
                  for room in server.lobby.all_rooms() if room.race
                  for seat in room.seats.values()
                  if seat.name == name and seat.slot in room.race.racers]
        if states == [(pos, wrong)]:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"server state of {name}: {states}, wanted {(pos, wrong)}")
        await asyncio.sleep(0.02)


async def test_a_reload_mid_race_restores_the_race(browser, web):
    ann = await browser.page("Ann")
    code, _ = await create_private_room(ann)
    bob = await browser.page("Bob")
    await bob.fill("#join-code-input", code.lower())      # codes are forgiving about case
    await bob.click("#join-btn")
    await expect(ann.locator("#players-list li.player")).to_have_count(2)
    await ann.click("#start-btn")
    await wait_racing(bob)

    # (PASSAGE[13] is "w": not a space, which text matching would not tell from "".)
    await type_keys(bob, PASSAGE[:13] + "#")
    await expect(bob.locator("#passage .wrong")).to_have_text("w")
    bob_slot = await bob.locator("#lanes .lane.mine").get_attribute("data-slot")
    await expect(ann.locator(f'#lanes .lane[data-slot="{bob_slot}"]')).to_have_attribute(
        "data-pos", "13")
    await server_has(web, "Bob", 13, "#")

    await bob.reload()
    # Same player (token in localStorage), same seat, same progress, wrong key included.
    await expect(bob.locator("#room-view")).to_be_visible()
    await expect(bob.locator("#passage .done")).to_have_text(PASSAGE[:13])
    await expect(bob.locator("#passage .wrong")).to_have_text("w")
    await expect(bob.locator("#lanes .lane.mine")).to_have_attribute("data-slot", bob_slot)
    await wait_racing(bob)

    await bob.locator("#typing-input").press("Backspace")
    await expect(bob.locator("#passage .wrong")).to_have_text("")
    await server_has(web, "Bob", 13, "")
    await type_keys(bob, PASSAGE[13:])
    await expect(bob.locator("#race-msg")).to_contain_text("Finished 1st")
    await type_keys(ann, PASSAGE)
    for page in (ann, bob):
        await expect(page.locator("#results")).to_be_visible()
        rows = await results_rows(page)
        assert [(r[1], r[5]) for r in rows] == [("Bob", "finished"), ("Ann", "finished")]

    # Only the host gets the rematch button; a rematch races the same room again.
    await expect(bob.locator("#again-btn")).to_be_hidden()
    await expect(bob.locator("#results-wait")).to_have_text("Waiting for the host to start a rematch.")
    await expect(ann.locator("#again-btn")).to_have_text("Rematch")
    await ann.click("#again-btn")
    for page in (ann, bob):
        await expect(page.locator("#results")).to_be_hidden()
        await expect(page.locator("#passage .done")).to_have_text("")
    await wait_racing(bob)


async def test_player_text_is_never_markup(browser):
    """Names, titles and passages with markup show as text, and none of it runs. The
    context bypasses CSP, so an injected handler WOULD run: only escaping stops it."""
    img_name = "<img src=x onerror=PW=1>"
    script_name = "<script>PW=2</script>"
    title = "<script>PW=3</script>Title"
    body = 'Look <img src=x onerror="PW=4"> at <b>this</b> <script>PW=5</script> now.'

    mallory = await browser.page(img_name)
    await goto_section(mallory, "texts")
    await mallory.fill("#text-title-input", title)
    await mallory.fill("#text-body-input", body)
    await mallory.click("#submit-text-btn")
    await expect(mallory.locator("#submit-text-msg")).to_contain_text("was added as text #")
    text_id = re.search(r"#(\d+)", await mallory.locator("#submit-text-msg").inner_text())[1]
    await expect(mallory.locator(f'#texts-list li.text[data-text-id="{text_id}"]')
                 ).to_contain_text(title)

    await goto_section(mallory, "race")
    await mallory.fill("#create-text-id", text_id)
    code, _ = await create_private_room(mallory)
    scripty = await browser.page(script_name)
    await scripty.fill("#join-code-input", code)
    await scripty.click("#join-btn")
    for page in (mallory, scripty):
        await expect(page.locator("#players-list")).to_contain_text(img_name)
        await expect(page.locator("#players-list")).to_contain_text(script_name)
    await mallory.click("#start-btn")
    for page in (mallory, scripty):
        await expect(page.locator("#race-title")).to_have_text(title)
        await expect(page.locator("#passage")).to_have_text(body)
        await expect(page.locator("#lanes")).to_contain_text(img_name)
    await wait_racing(scripty)
    await type_keys(scripty, body)
    await wait_racing(mallory)
    await type_keys(mallory, body)
    for page in (mallory, scripty):
        await expect(page.locator("#results-table tbody tr")).to_have_count(2)
        names = [r[1] for r in await results_rows(page)]
        assert names == [script_name, img_name]

    await mallory.click("#leave-btn")
    await expect(mallory.locator("#leaderboard-table")).to_contain_text(script_name)
    await expect(mallory.locator("#recent-table")).to_contain_text(title)
    await expect(mallory.locator("#wpm-chart circle.point")).to_have_count(1)
    for page in (mallory, scripty):
        assert await page.evaluate("typeof window.PW") == "undefined", "injected code ran"
        assert await page.locator("body img, body script, body b").count() == 0


async def test_a_second_tab_takes_over_and_the_first_does_not_fight_back(browser):
    first = await browser.page("Ann")
    token = await first.evaluate("localStorage.getItem('typerace.token')")
    # Same context = same localStorage = the same player in a second tab.
    second = await first.context.new_page()
    await second.goto(browser.base_url + "/")
    await expect(second.locator("#me")).to_have_text("Ann")
    await expect(first.locator("#error-banner")).to_have_attribute("data-code", "replaced")
    # No retry is scheduled, so the tabs don't take the connection from each other forever.
    await expect(first.locator("#status")).to_have_text("playing in another tab or window")
    await expect(second.locator("#status")).to_have_text("connected as Ann")
    assert await second.evaluate("localStorage.getItem('typerace.token')") == token


async def test_a_token_the_server_never_issued_is_replaced_by_a_fresh_identity(browser):
    page = await browser.page()
    await page.evaluate("localStorage.setItem('typerace.name', 'Zed');"
                        "localStorage.setItem('typerace.token', 'forged.token')")
    await page.reload()
    await expect(page.locator("#home-view")).to_be_visible()
    await expect(page.locator("#me")).to_have_text("Zed")
    token = await page.evaluate("localStorage.getItem('typerace.token')")
    assert token and token != "forged.token"


async def test_a_dropped_connection_reconnects_by_itself_into_the_same_seat(browser, web):
    ann = await browser.page("Ann")
    code, _ = await create_private_room(ann)
    bob = await browser.page("Bob")
    await bob.fill("#join-code-input", code)
    await bob.click("#join-btn")
    await expect(ann.locator("#players-list li.player")).to_have_count(2)
    await ann.click("#start-btn")
    await wait_racing(bob)
    await type_keys(bob, PASSAGE[:10])
    bob_slot = await bob.locator("#lanes .lane.mine").get_attribute("data-slot")
    await expect(ann.locator(f'#lanes .lane[data-slot="{bob_slot}"]')).to_have_attribute(
        "data-pos", "10")

    (conn,) = [c for c in web.conns.values() if c.name == "Bob"]
    conn.link.close(1011, "test: the connection drops")
    # Bob's page reconnects by itself with its token and is seated again; only a new
    # connection can carry the keys that finish his race below.
    await expect(ann.locator(f'#players-list li.player[data-slot="{bob_slot}"]')
                 ).to_have_attribute("data-connected", "true")
    await expect(bob.locator("#status")).to_have_text("connected as Bob")
    await expect(bob.locator("#passage .done")).to_have_text(PASSAGE[:10])
    await wait_racing(bob)
    await type_keys(bob, PASSAGE[10:])
    await expect(bob.locator("#race-msg")).to_contain_text("Finished 1st")
    await type_keys(ann, PASSAGE)
    await expect(ann.locator("#results")).to_be_visible()
    assert [(r[1], r[5]) for r in await results_rows(ann)] == [("Bob", "finished"),
                                                               ("Ann", "finished")]


async def no_sideways_scroll(page) -> None:
    assert await page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"), "page wider than screen"


async def test_a_phone_sized_screen_and_the_keyboard_alone_are_enough(browser):
    page = await browser.page(phone=True)
    await expect(page.locator("#name-input")).to_be_focused()
    await page.keyboard.type("Kim")
    await page.keyboard.press("Enter")
    await expect(page.locator("#home-view")).to_be_visible()
    await no_sideways_scroll(page)
    for _ in range(10):                      # Tab to the Practice button, then press it
        if await page.evaluate("document.activeElement.id") == "practice-btn":
            break
        await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.locator("#passage")).to_have_text(PASSAGE)
    await expect(page.locator("#typing-input")).to_be_focused()
    await no_sideways_scroll(page)
    await page.keyboard.type(PASSAGE, delay=KEY_DELAY_MS)
    await expect(page.locator("#results")).to_be_visible()
    rows = await results_rows(page)
    assert [(r[1], r[3], r[5]) for r in rows] == [("Kim", "100.0%", "finished")]
    await no_sideways_scroll(page)


async def test_the_page_works_under_its_own_content_security_policy(browser):
    """The other tests bypass the policy (see Browser.page); here the browser enforces it,
    so a module the policy, or its content type, kept from loading would leave a dead page."""
    context = await browser.browser.new_context()
    context.set_default_timeout(WAIT_MS)
    browser.contexts.append(context)
    page = await context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda exc: browser.errors.append(f"strict page: {exc}"))
    await page.goto(browser.base_url + "/")
    await say_hello(page, "Cy")
    await page.click("#practice-btn")
    await expect(page.locator("#passage")).to_have_text(PASSAGE)
    await wait_racing(page)
    await type_keys(page, PASSAGE)
    await expect(page.locator("#results")).to_be_visible()
    assert refused == []


async def test_once_welcomed_the_page_times_pings_to_learn_the_servers_clock(browser, web):
    """clock.js's estimate needs round trips (tests/test_clocksync.py runs it against a
    300 ms path): the page sends its five pings, one after another, once welcomed."""
    from protocol.clocksync import SYNC_PINGS
    from tests.rooms import eventually
    pings = web.metrics.messages_in["ping"]
    before = pings.value
    await browser.page("Ann")
    await eventually(lambda: pings.value - before >= SYNC_PINGS, timeout=20,
                     what=f"{SYNC_PINGS} pings from the page")
