"""Text Practice Mode in a real browser (Chromium driven by Playwright): a player pastes
a 3,300-character passage from a word processor into the page, gets it back typeable,
practises it and types it to the end (key presses, text as a phone's keyboard inserts
it, Enter at paragraph breaks) while the passage scrolls with the caret; a text over the
limit is refused, saying the limit."""

from __future__ import annotations

import pytest

from client_demo.client import Client
from protocol.messages import BODY_MAX
from tests.passages import PARAGRAPHS, TYPOGRAPHIC
from tests.test_web_client import chromium_pages, expect, goto_section, results_rows, wait_racing

# The caret, or once the passage is all typed (no caret then) the end of what was typed.
CARET_IN_VIEW = """() => {
  const box = document.getElementById("passage").getBoundingClientRect();
  const caretSpan = document.querySelector("#passage .caret");
  const rects = caretSpan.textContent ? caretSpan.getClientRects()
    : document.querySelector("#passage .done").getClientRects();
  const caret = rects[rects.length - 1];
  return !!caret && caret.height > 0 && caret.top >= box.top && caret.bottom <= box.bottom;
}"""


@pytest.fixture
async def long_web(make_server):
    return await make_server(practice_countdown_s=1, max_wpm=100_000)


@pytest.fixture
async def pages(long_web):
    async with chromium_pages(long_web) as browser:
        yield browser


async def newest_text(server) -> dict:
    client = await Client.connect(f"ws://127.0.0.1:{server.port}/ws")
    try:
        await client.hello("Reader")
        return (await client.request({"type": "list_texts", "limit": 1}))["texts"][0]
    finally:
        await client.close()


async def submit(page, title: str, body: str) -> None:
    await goto_section(page, "texts")
    await page.fill("#text-title-input", title)
    await page.fill("#text-body-input", body)
    await page.click("#submit-text-btn")


async def test_a_pasted_chapter_is_stored_typeable_and_typed_to_the_end(pages, long_web):
    ann = await pages.page("Ann")
    await submit(ann, "Mara\u2019s library", TYPOGRAPHIC)
    await expect(ann.locator("#submit-text-msg")).to_contain_text("597 words")
    text = await newest_text(long_web)
    body = text["body"]
    assert len(body) > 3000 and "\u2014" not in body and "\u2019" not in body
    assert body.count("\n") == len(PARAGRAPHS) - 1

    await expect(ann.locator("#texts-list li.text").first).to_contain_text("Mara's library")
    await ann.locator(f'#texts-list li.text[data-text-id="{text["text_id"]}"] '
                      ".practice-text-btn").click()
    await expect(ann.locator("#race-title")).to_have_text("Mara's library")
    assert await ann.locator("#passage").text_content() == body     # paragraphs and all
    # The passage box shows a window of the text, not all 3,300 characters at once.
    box = await ann.locator("#passage").evaluate("p => [p.scrollHeight, p.clientHeight]")
    assert box[0] > 2 * box[1]

    await wait_racing(ann)
    typing = ann.locator("#typing-input")
    paragraphs = body.split("\n")
    typed = 0
    for number, paragraph in enumerate(paragraphs):
        if number == 0:     # real key presses, then whole words as a phone's keyboard sends
            await typing.press_sequentially(paragraph[:40], delay=0)
            await ann.keyboard.insert_text(paragraph[40:])
        else:
            await ann.keyboard.insert_text(paragraph)
        typed += len(paragraph)
        if number + 1 < len(paragraphs):
            await typing.press("Enter")                # a paragraph break's key
            typed += 1
        if number % 4 == 3:
            await expect(ann.locator("#passage .done")).to_have_text(body[:typed])
            await ann.wait_for_function(CARET_IN_VIEW)
            assert await ann.locator("#passage").evaluate("p => p.scrollTop") > 0
    await expect(ann.locator("#results")).to_be_visible()
    (row,) = await results_rows(ann)
    assert row[1] == "Ann" and row[5] == "finished"


async def test_a_text_over_the_limit_is_refused_in_the_page_saying_the_limit(pages):
    ann = await pages.page("Ann")
    await submit(ann, "Too long", "y" * (BODY_MAX + 1))
    await expect(ann.locator("#submit-text-msg")).to_contain_text(
        f"must be 20-{BODY_MAX} characters after whitespace is normalized "
        f"(it has {BODY_MAX + 1})")
