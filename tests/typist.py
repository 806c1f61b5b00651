"""Typing like a person in integration tests: small batches at a steady cadence, so
that results are not flagged as pasted (server/core/integrity.py) unless a test wants it."""

from __future__ import annotations

import asyncio


async def type_passage(client, body: str, chunk: int = 4, pause_s: float = 0.02) -> None:
    """Send `body` in `chunk`-character inputs, `pause_s` apart (pacing, not waiting)."""
    for i in range(0, len(body), chunk):
        await client.send({"type": "input", "keys": body[i:i + chunk]})
        await asyncio.sleep(pause_s)


async def practise(client, text_id: int | None = None, **typing) -> tuple[dict, dict]:
    """A whole practice race: returns (countdown, results)."""
    request = {"type": "practice"}
    if text_id is not None:
        request["text_id"] = text_id
    await client.request(request)
    countdown = await client.expect("countdown")
    await client.expect("room", where=lambda m: m["room"]["state"] == "racing")
    await type_passage(client, countdown["text"]["body"], **typing)
    results = await client.expect("results", timeout=30)
    return countdown, results
