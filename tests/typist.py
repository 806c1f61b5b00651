"""Typing like a person in integration tests: small batches at a steady cadence, so
that results are not flagged as pasted (server/core/integrity.py) unless a test wants it.

Against a stepped server (tests/stepping.py) pass `server`: the pauses are then the
server's time, stepped before each input, instead of real sleeps."""

from __future__ import annotations

import asyncio

from tests.stepping import step, until_start


async def type_passage(client, body: str, chunk: int = 8, pause_s: float = 0.04,
                       server=None) -> None:
    """Send `body` in `chunk`-character inputs, `pause_s` apart (pacing, not waiting).

    The default pace, 200 characters a second, is 25 inputs a second: within the
    server's default --msg-rate (30). Four characters every 20 ms (50 inputs a second)
    emptied its burst of 60 on the longest starter text (651 characters), whose last
    inputs were refused as rate_limited and whose race then never finished."""
    pause_ms = round(pause_s * 1000)
    for i in range(0, len(body), chunk):
        if server is not None and pause_ms:
            await step(server, pause_ms)     # each input lands at least pause_s after the last
        await client.send({"type": "input", "keys": body[i:i + chunk]})
        if server is None:
            await asyncio.sleep(pause_s)


async def practise(client, text_id: int | None = None, server=None,
                   **typing) -> tuple[dict, dict]:
    """A whole practice race: returns (countdown, results)."""
    request = {"type": "practice"}
    if text_id is not None:
        request["text_id"] = text_id
    await client.request(request)
    if server is not None:
        countdown = await until_start(server, client)
    else:
        countdown = await client.expect("countdown")
        await client.expect("room", where=lambda m: m["room"]["state"] == "racing")
    await type_passage(client, countdown["text"]["body"], server=server, **typing)
    results = await client.expect("results", timeout=30)
    return countdown, results
