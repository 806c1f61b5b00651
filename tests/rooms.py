"""Helpers shared by the private-room, reconnection and abuse tests."""

from __future__ import annotations

import asyncio
import json

from server.core.results import RaceEnded
from tests.helpers import holds

SHORT_TEXTS = """# Cat
the cat sat on the warm mat

# Dog
a dog ran fast in the park

# Sun
sun and rain make a rainbow
"""

CODE_ALPHABET = set("23456789ABCDEFGHJKLMNPQRSTUVWXYZ")


def short_texts(tmp_path) -> str:
    path = tmp_path / "short.txt"
    path.write_text(SHORT_TEXTS, encoding="utf-8")
    return str(path)


async def create(client, **settings) -> dict:
    """The host's `joined` for a new private room."""
    return await client.request({"type": "create_room", "settings": settings})


async def racing(client) -> dict:
    """Wait for the countdown and the start; return the countdown (it has the text)."""
    countdown = await client.expect("countdown")
    await client.expect("room", where=lambda m: m["room"]["state"] == "racing")
    return countdown


def player(room: dict, name: str) -> dict | None:
    return next((p for p in room["players"] if p["name"] == name), None)


async def healthz(port: int) -> dict:
    """GET /healthz over a plain socket, as an operator's probe would."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return json.loads(body)


async def eventually(check, timeout: float = 10.0, what: str = "condition"):
    """Poll an async or plain check until it returns a truthy value (the server's
    timers run on its tick loop, so there is no event to wait on)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if value := await holds(check):
            return value
        if loop.time() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.05)


def ended(lobby) -> list:
    """The races the lobby handed out to be saved (RaceEnded events), by room id."""
    return [e.race.room_id for e in lobby.outbox.saves if isinstance(e, RaceEnded)]


def ended_event(lobby, room):
    """The room's RaceEnded event, as the shell gets it to save and publish."""
    return next(e for e in lobby.outbox.saves if isinstance(e, RaceEnded)
                and e.race.room_id == room.room_id)
