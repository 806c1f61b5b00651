"""Two strangers race each other over both codecs while a third person watches."""

from __future__ import annotations

import pytest

from client_demo.client import ServerError

from .stepping import step, step_past, synced
from .typist import type_passage


@pytest.fixture
async def server(make_stepped_server):
    return await make_stepped_server()


@pytest.mark.parametrize("codecs", [("json", "msgpack"), ("msgpack", None)])
async def test_two_strangers_race_while_a_spectator_watches(server, connect, codecs):
    ann = await connect("Ann", codecs[0])
    bob = await connect("Bob", codecs[1])
    eve = await connect("Eve", "msgpack")

    joined = await ann.request({"type": "quick_race"})
    assert joined["type"] == "joined" and joined["room"]["public"] is True
    room_id = joined["room"]["room_id"]
    listed = await eve.request({"type": "list_races"})
    assert room_id in [r["room_id"] for r in listed["rooms"]]
    watching = await eve.request({"type": "watch", "code": room_id})
    assert watching["room"]["room_id"] == room_id
    await bob.request({"type": "quick_race"})
    await step(server)                      # the next tick sees two seated

    countdown = await ann.expect("countdown")
    body = countdown["text"]["body"]
    assert countdown["text"]["chars"] == len(body)
    await bob.expect("countdown")
    await eve.expect("countdown")
    await step_past(server, countdown["start_server_ms"])
    await ann.expect("room", where=lambda m: m["room"]["state"] == "racing")

    # Ann types with one typo that she corrects; Bob types half and stops.
    await ann.send({"type": "input", "keys": body[:5] + "#\b"})
    await type_passage(ann, body[5:], chunk=7, server=server)
    await bob.send({"type": "input", "keys": body[: len(body) // 2]})
    await synced(bob)
    await step(server)
    tick = await eve.expect("tick", where=lambda m: any(p[1] > 0 for p in m["p"]))
    assert all(len(p) == 4 for p in tick["p"])
    finish = await eve.expect("finish")
    assert finish["slot"] == joined["slot"] and finish["place"] == 1
    with pytest.raises(ServerError) as refused:
        await eve.request({"type": "input", "keys": "x"})
    assert refused.value.code == "not_a_player"
    await bob.close()                       # Bob's connection drops: the race ends

    for client in (ann, eve):
        results = await client.expect("results", timeout=15)
        ranking = results["ranking"]
        assert [r["name"] for r in ranking] == ["Ann", "Bob"]
        assert ranking[0]["status"] == "finished" and ranking[1]["status"] == "left"
        assert ranking[0]["accuracy"] == pytest.approx(len(body) / (len(body) + 1), abs=1e-4)
