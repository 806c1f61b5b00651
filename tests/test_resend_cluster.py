"""A bot typing on one process of a cluster, in a room that runs on the other, while
Redis is away long enough that its keys are refused with `unavailable`: it sends the
refused keys again, in order, and finishes the race with every key counted once
(client_demo/resend.py through client_demo/client.py, over real sockets)."""

from __future__ import annotations

import asyncio

from client_demo.bot import Bot
from tests.helpers import write_texts
from tests.redis_fixture import redis_server  # noqa: F401

SECRET = "one secret for the whole cluster"


async def _until(check, what: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.02)        # polling a condition, not a timed wait


async def test_a_bot_sends_its_refused_keys_again_and_finishes_with_every_key_counted(
        make_server, redis_server, connect, tmp_path):  # noqa: F811
    texts = write_texts(tmp_path)
    owner = await make_server(redis_url=redis_server.url, secret=SECRET, countdown_s=2,
                              texts=texts)
    edge = await make_server(redis_url=redis_server.url, secret=SECRET, countdown_s=2,
                             texts=texts)
    ann = await connect("Ann", "json", target=owner)
    room_id = (await ann.request({"type": "quick_race"}))["room"]["room_id"]
    bus = edge.live.cluster.bus
    bus.hold_bytes = 1                  # the first batch held fills it: the rest is refused
    lines: list[str] = []
    bob = Bot(f"ws://127.0.0.1:{edge.port}/ws", "Bob", wpm=400, accuracy=1.0,
              codec="msgpack", out=lines.append)
    racing = asyncio.create_task(bob.run())
    try:
        await _until(lambda: bob.client is not None and any(
            m.get("type") == "countdown" for m in bob.client.seen), "Bob never saw the countdown")
        assert owner.lobby.room(room_id) is not None and edge.live.cluster.forwards(
            edge.sessions.conns[bob.client.player_id])          # Bob's keys go over Redis
        body = next(m for m in bob.client.seen if m.get("type") == "countdown")["text"]["body"]
        redis_server.stop()
        await _until(lambda: bob.client.keys.refusals >= 2, "no key was refused")
        assert bob.client.keys.holding
        redis_server.start()
        finish = await ann.expect("finish", timeout=30)
        await ann.send({"type": "input", "keys": body})
        results = await asyncio.wait_for(racing, 30)
    finally:
        racing.cancel()
    mine = next(r for r in results[0]["ranking"] if r["name"] == "Bob")
    assert finish["slot"] == mine["slot"]
    # Every key taken once and in order: any lost, doubled or reordered key would leave
    # Bob short of the end or cost accuracy.
    assert mine["status"] == "finished" and mine["accuracy"] == 1.0
    assert bob.client.keys.lost == 0 and not any("dropped" in line for line in lines)
