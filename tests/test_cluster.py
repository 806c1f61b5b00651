"""Many processes, one set of races: servers sharing one Redis act as one."""

from __future__ import annotations

import asyncio

import pytest

from client_demo.client import ServerError
from tests.redis_fixture import redis_server  # noqa: F401


@pytest.fixture
async def cluster(make_server, redis_server):  # noqa: F811
    """cluster(n) -> n servers (each its own process in production) on one Redis."""
    async def start(n: int, **overrides):
        return [await make_server(redis_url=redis_server.url, **overrides) for _ in range(n)]
    return start


async def test_a_quick_race_spans_two_processes_and_a_spectator_watches_from_a_third(
        cluster, connect):
    a, b, c = await cluster(3)
    ann = await connect("Ann", "json", target=a)
    bob = await connect("Bob", "msgpack", target=b)
    eve = await connect("Eve", "msgpack", target=c)

    joined = await ann.request({"type": "quick_race"})
    room_id = joined["room"]["room_id"]
    bob_joined = await bob.request({"type": "quick_race"})
    assert bob_joined["room"]["room_id"] == room_id
    assert [p["name"] for p in bob_joined["room"]["players"]] == ["Ann", "Bob"]
    listed = await eve.request({"type": "list_races"})
    assert room_id in [r["room_id"] for r in listed["rooms"]]
    watching = await eve.request({"type": "watch", "code": room_id})
    assert watching["room"]["room_id"] == room_id

    countdown = await bob.expect("countdown")
    body = countdown["text"]["body"]
    await ann.expect("countdown")
    await bob.expect("room", where=lambda m: m["room"]["state"] == "racing")
    for i in range(0, len(body), 9):
        await bob.send({"type": "input", "keys": body[i:i + 9]})
    await ann.send({"type": "input", "keys": body[:4]})
    tick = await eve.expect("tick", where=lambda m: any(p[1] == 4 for p in m["p"]))
    assert {p[0] for p in tick["p"]} == {0, 1}
    finish = await eve.expect("finish")
    assert finish["slot"] == bob_joined["slot"]
    with pytest.raises(ServerError) as refused:
        await eve.request({"type": "input", "keys": "x"})
    assert refused.value.code == "not_a_player"
    await ann.send({"type": "input", "keys": body[4:]})
    for client in (ann, bob, eve):
        results = await client.expect("results", timeout=15)
        assert [r["name"] for r in results["ranking"]] == ["Bob", "Ann"]
