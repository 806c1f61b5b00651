"""The web page sends keys the server refused again (race.js with resend.js), in a real
browser: between the page and the real server, a WebSocket route answers a stretch of
the page's inputs as a process of a cluster does when Redis has been away too long
(`unavailable` with the input's id, the input not passed on). The page says its keys
wait, sends them again in order, and the practice ends finished at 100 % accuracy."""

from __future__ import annotations

import re

from tests.refusing import REFUSALS, Refuser
from tests.test_web_client import (PASSAGE, WAIT_MS, chromium_pages, expect, results_rows,
                                   say_hello, type_keys, wait_racing, web)  # noqa: F401


def route(refuser: Refuser):
    def handle(ws) -> None:
        server = ws.connect_to_server()

        def from_page(frame) -> None:
            answer = refuser.refusal(frame)
            if answer is not None:
                ws.send(answer)
            else:
                server.send(frame)

        ws.on_message(from_page)
    return handle


async def test_the_page_sends_refused_keys_again_and_finishes_at_full_accuracy(web):  # noqa: F811
    refuser = Refuser()
    async with chromium_pages(web) as pages:
        context = await pages.browser.new_context(bypass_csp=True)
        context.set_default_timeout(WAIT_MS)
        pages.contexts.append(context)
        await context.route_web_socket(re.compile(r"/ws"), route(refuser))
        page = await context.new_page()
        page.on("pageerror", lambda exc: pages.errors.append(str(exc)))
        await page.goto(pages.base_url + "/")
        await say_hello(page, "Ann")
        await page.click("#practice-btn")
        await expect(page.locator("#passage")).to_have_text(PASSAGE)
        await wait_racing(page)
        await type_keys(page, PASSAGE)
        await expect(page.locator("#race-msg")).to_contain_text("out of reach")
        await expect(page.locator("#results")).to_be_visible()
        rows = await results_rows(page)
        assert [(r[1], r[3], r[5]) for r in rows] == [("Ann", "100.0%", "finished")]
        assert "dropped" not in await page.locator("#race-msg").inner_text()
    assert len(refuser.refused) >= REFUSALS
