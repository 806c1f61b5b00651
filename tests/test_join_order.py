"""`joined` comes before any frame of the new room, on one process and across processes,
while other players join the same rooms and rooms count down and tick around them."""

from __future__ import annotations

import asyncio
import random

from tests.redis_fixture import redis_server  # noqa: F401

ROOM_FRAMES = {"room", "countdown", "tick", "finish", "results"}
PLAYERS, ROUNDS = 24, 6


async def _join_and_leave(client, rng: random.Random) -> None:
    """Quick race, stay a moment (the room's updates, its countdown, ticks), leave."""
    for _ in range(ROUNDS):
        await client.request({"type": "quick_race"}, timeout=30)
        await asyncio.sleep(rng.uniform(0.0, 0.4))
        await client.request({"type": "leave"}, timeout=30)


def _frames_before_joined(seen: list[dict]) -> list[str]:
    """Room frames that came while the player was in no room (after `left`, before
    the next `joined`): each one is a frame of the new room ahead of `joined`."""
    in_room, wrong = False, []
    for message in seen:
        kind = message.get("type")
        if kind == "joined":
            in_room = True
        elif kind == "left":
            in_room = False
        elif kind in ROOM_FRAMES and not in_room:
            wrong.append(kind)
    return wrong


async def _crowd(connect, servers) -> list:
    clients = [await connect(f"P{i}", "json" if i % 2 else "msgpack",
                             target=servers[i % len(servers)]) for i in range(PLAYERS)]
    await asyncio.gather(*(_join_and_leave(c, random.Random(i))
                           for i, c in enumerate(clients)))
    return clients


async def test_joined_comes_first_on_one_process(make_server, connect):
    server = await make_server(tick_hz=60, countdown_s=1, lobby_wait_s=1)
    clients = await _crowd(connect, [server])
    assert {c.player_id: _frames_before_joined(c.seen) for c in clients} == {
        c.player_id: [] for c in clients}


async def test_joined_comes_first_across_processes(make_server, connect,
                                                   redis_server):  # noqa: F811
    servers = [await make_server(redis_url=redis_server.url, tick_hz=60, countdown_s=1,
                                 lobby_wait_s=1, secret="one secret for the whole cluster")
               for _ in range(2)]
    clients = await _crowd(connect, servers)
    # rooms did hold players of both processes (P0, P2, ... on one; P1, P3, ... on the other)
    assert any(len({int(p["name"][1:]) % 2 for p in m["room"]["players"]}) == 2
               for c in clients for m in c.seen if m.get("type") == "joined")
    assert {c.player_id: _frames_before_joined(c.seen) for c in clients} == {
        c.player_id: [] for c in clients}
