"""How long the web page takes to handle one key on the longest passage, in Chromium.

    .venv/bin/python -m bench.web_keys [--chromium /usr/bin/chromium-headless-shell] [--chars 10000]

Starts the real server (port 0, a temporary database), submits a passage of --chars
characters in 12 paragraphs, opens the page in headless Chromium (Playwright), practises
that text and, once the race runs, types the whole passage with keydown events
dispatched at the focused typing box (what a key press delivers to the page's handler). For each key
it times the handler (the typing model, the passage's spans, the input box, the lane)
plus the style and layout the browser then needs to place the caret (a forced
getBoundingClientRect): the work a key costs before the next frame is painted. Prints
the median, p95 and max per key for the first, middle and last thousand keys (wall
time, which a busy machine inflates), the CPU time per key from Chromium's trace, then
whether the caret was in the passage box's view at the end. Then, for comparison, the
passage view alone against the page's old way (every key rewrote the whole passage),
in turn at the same positions so that both see the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile

from playwright.async_api import async_playwright

from client_demo.client import Client
from protocol.messages import BODY_MAX
from server.config import load_config
from server.net.app import TyperaceServer

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WORDS = ("the keeper climbed the stairs of the lighthouse every evening while the sea "
         "turned grey and the gulls settled on the rocks below the old stone wall").split()

TYPE_ALL = """async (body) => {
  const keys = Array.from(body), times = [];
  const caret = () => document.querySelector("#passage .caret");
  const input = document.getElementById("typing-input");     // focused, as when typing
  for (const ch of keys) {
    const t = performance.now();
    input.dispatchEvent(new KeyboardEvent("keydown", {
      key: ch === "\\n" ? "Enter" : ch, bubbles: true, cancelable: true }));
    caret().getBoundingClientRect();          // style + layout for the next frame
    times.push(performance.now() - t);
    if (times.length % 200 === 0) await new Promise(requestAnimationFrame);  // frames go on
  }
  return times;
}"""

# The passage alone, this page's way against its old way, key by key in turn so that
# both see the same load: markPassage (passage.js) on #passage, and a copy of the box
# whose four spans are rewritten with the whole passage on every key, as the page did.
PASSAGE_AB = """async (body) => {
  const { markPassage, showPassage } = await import("/passage.js");   // the page's module
  const chars = Array.from(body), ours = [], old = [];
  const passage = document.getElementById("passage");
  const copy = passage.cloneNode(true);
  copy.id = "passage-old";
  const style = getComputedStyle(passage);
  for (const name of ["font", "width", "height", "padding", "white-space", "overflow-wrap",
                      "overflow-y", "contain", "position", "border"]) {
    copy.style.setProperty(name, style.getPropertyValue(name));
  }
  passage.after(copy);
  const [done, wrong, caret, rest] = copy.children;
  showPassage(chars);
  for (let pos = 0; pos < chars.length; pos += 3) {
    let t = performance.now();
    markPassage(pos, 0);
    passage.querySelector(".caret").getBoundingClientRect();
    ours.push(performance.now() - t);
    t = performance.now();
    done.textContent = chars.slice(0, pos).join("");
    wrong.textContent = "";
    caret.textContent = chars.slice(pos, pos + 1).join("");
    rest.textContent = chars.slice(pos + 1).join("");
    caret.getBoundingClientRect();
    old.push(performance.now() - t);
    if (ours.length % 50 === 0) await new Promise(requestAnimationFrame);
  }
  copy.remove();
  return [ours, old];
}"""

CARET_IN_VIEW = """() => {
  const box = document.getElementById("passage").getBoundingClientRect();
  const done = document.querySelector("#passage .done").getBoundingClientRect();
  return done.bottom <= box.bottom + 1 && done.bottom >= box.top;
}"""


def passage(chars: int, rng: random.Random) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < chars + 50:
        words.append(rng.choice(WORDS))
    text = " ".join(words)[:chars]
    per = len(text) // 12
    paragraphs = [text[i:i + per].strip() for i in range(0, len(text), per)]
    body = "\n".join(p for p in paragraphs if p)
    return (body + " " + "x" * chars)[:chars].rstrip()


def cpu_per_key(trace, keys: int) -> dict[str, float]:
    """Thread (CPU) time per key from Chromium's trace, which a busy machine does not
    inflate as it does wall time: the keydown handlers, style, layout."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    total = {"handler": 0.0, "style": 0.0, "layout": 0.0}
    for e in events:
        if e.get("ph") != "X" or "tdur" not in e:
            continue
        if e["name"] == "EventDispatch" and e.get("args", {}).get("data", {}).get("type") == "keydown":
            total["handler"] += e["tdur"]
        elif e["name"] == "UpdateLayoutTree":
            total["style"] += e["tdur"]
        elif e["name"] == "Layout":
            total["layout"] += e["tdur"]
    return {name: us / 1000 / keys for name, us in total.items()}


def stats(times: list[float]) -> str:
    ordered = sorted(times)
    return (f"median {ordered[len(ordered) // 2]:.2f} ms, "
            f"p95 {ordered[int(len(ordered) * 0.95)]:.2f} ms, max {ordered[-1]:.2f} ms")


async def main(chromium_path: str, chars: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = TyperaceServer(load_config([], environ={}, db=f"{tmp}/bench.db", port=0,
                                            practice_countdown_s=1, max_wpm=1_000_000))
        await server.start()
        try:
            client = await Client.connect(f"ws://127.0.0.1:{server.port}/ws")
            await client.hello("Writer")
            text = (await client.request({"type": "submit_text", "title": "Longest",
                                          "body": passage(chars, random.Random(3))}))["text"]
            await client.close()
            body = text["body"]
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=chromium_path, args=ARGS)
                context = await browser.new_context(bypass_csp=True,
                                                    viewport={"width": 1000, "height": 900})
                page = await context.new_page()
                await page.goto(f"http://127.0.0.1:{server.port}/")
                await page.fill("#name-input", "Bench")
                await page.click("#hello-btn")
                await page.wait_for_selector("#home-view:not([hidden])")
                await page.wait_for_selector(f'li.text[data-text-id="{text["text_id"]}"]')
                await page.click(f'li.text[data-text-id="{text["text_id"]}"] .practice-text-btn')
                await page.wait_for_selector("#typing-input:not([disabled])")
                await browser.start_tracing(page=page, categories=["devtools.timeline"])
                times = await page.evaluate(TYPE_ALL, body)
                cpu = cpu_per_key(json.loads(await browser.stop_tracing()), len(times))
                await page.wait_for_selector("#results:not([hidden])")
                in_view = await page.evaluate(CARET_IN_VIEW)
                ours, old = await page.evaluate(PASSAGE_AB, body)
                await browser.close()
        finally:
            await server.stop()
    print(f"passage: {len(body)} characters, {body.count(chr(10)) + 1} paragraphs; "
          f"Chromium at {chromium_path}")
    for label, part in [("first 1,000 keys", times[:1000]),
                        ("middle 1,000 keys", times[len(times) // 2 - 500:len(times) // 2 + 500]),
                        ("last 1,000 keys", times[-1000:]), ("all keys", times)]:
        print(f"one key, {label}: {stats(part)}")
    print(f"CPU per key (trace thread time): handler {cpu['handler']:.2f} ms, style "
          f"{cpu['style']:.2f} ms, layout {cpu['layout']:.2f} ms, "
          f"total {sum(cpu.values()):.2f} ms")
    print(f"the end of the passage in the box's view after typing: {in_view}")
    print(f"the passage alone, in turn (every third position): passage.js {stats(ours)}; "
          f"rewriting the whole passage (the old way) {stats(old)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium-headless-shell")  # what scripts/test installs
    parser.add_argument("--chars", type=int, default=BODY_MAX)
    args = parser.parse_args()
    asyncio.run(main(args.chromium, args.chars))
