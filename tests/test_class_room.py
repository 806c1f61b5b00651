"""A class-sized private room: 50 racers and 100 spectators, plain protocol clients."""

from __future__ import annotations

import asyncio

from tests.rooms import create, eventually, healthz, short_texts
from tests.stepping import step_past, step_until, synced

RACERS, SPECTATORS = 50, 100


async def race_bot(client) -> dict:
    """Wait for the start, type the whole passage (one typo, corrected), return results."""
    body = (await client.expect("countdown", timeout=60))["text"]["body"]
    await client.expect("room", timeout=60, where=lambda m: m["room"]["state"] == "racing")
    half = len(body) // 2
    await client.send({"type": "input", "keys": body[:half] + "~\b"})
    await client.send({"type": "input", "keys": body[half:]})
    return await client.expect("results", timeout=60)


async def test_fifty_racers_and_a_hundred_spectators_share_one_room(make_stepped_server,
                                                                     connect, tmp_path):
    server = await make_stepped_server(texts=short_texts(tmp_path), reconnect_grace_s=1)
    codec = lambda i: "msgpack" if i % 2 else "json"                      # noqa: E731
    teacher = await connect("Teacher", target=server)
    room = (await create(teacher, max_players=RACERS, countdown_s=1))["room"]

    # Everyone who joins starts reading at once, so no socket backs up meanwhile.
    racers, spectators, bots, watchers = [teacher], [], [], []
    for i in range(1, RACERS):
        client = await connect(f"Pupil {i}", codec(i), target=server)
        joined = await client.request({"type": "join_room", "code": room["code"]})
        assert "code" in joined["room"]
        racers.append(client)
        bots.append(asyncio.create_task(race_bot(client)))
    for i in range(SPECTATORS):
        client = await connect(f"Parent {i}", codec(i), target=server)
        # Half come by the watch code, half by the join code: both only watch.
        code = room["watch_code"] if i % 2 else room["code"]
        watching = await client.request({"type": "watch", "code": code})
        assert "code" not in watching["room"] and "watch_code" not in watching["room"]
        spectators.append(client)
        watchers.append(asyncio.create_task(client.expect("results", timeout=60)))

    health = await healthz(server.port)
    assert (health["rooms"], health["players"], health["spectators"]) == (1, RACERS, SPECTATORS)
    update = await teacher.expect("room", timeout=30,
                                  where=lambda m: m["room"]["spectators"] == SPECTATORS)
    assert len(update["room"]["players"]) == RACERS
    assert len({p["slot"] for p in update["room"]["players"]}) == RACERS

    await teacher.send({"type": "start"})
    await synced(teacher)
    start_ms = server.lobby.room(room["room_id"]).race.start_ms
    bots.append(asyncio.create_task(race_bot(teacher)))
    await step_past(server, start_ms)                # racing, and the first tick goes out
    results = await asyncio.gather(*bots, *watchers)

    ranking = results[0]["ranking"]
    assert len(ranking) == RACERS and all(r["status"] == "finished" for r in ranking)
    assert sorted(r["place"] for r in ranking) == list(range(1, RACERS + 1))
    assert all(r == results[0] for r in results)            # everyone saw the same results
    # Spectators saw the race live, and never a code.
    for client in spectators:
        assert any(m.get("type") == "tick" for m in client.seen)
        rooms = [m["room"] for m in client.seen if m.get("type") in ("room", "watching")]
        assert all("code" not in r for r in rooms)

    await asyncio.gather(*(c.close() for c in racers + spectators))
    await eventually(lambda: not server.conns, timeout=20, what="every connection gone")
    await step_until(server, lambda: not server.lobby.all_rooms(), 5000, what="the room released")
