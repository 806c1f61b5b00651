"""Tokens and coming back after a dropped connection, over real sockets."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed

from client_demo.client import Client, ServerError
from tests.rooms import create, player, racing, short_texts
from tests.stepping import step, step_past, synced, until_start


@pytest.fixture
async def server(make_stepped_server, tmp_path):
    return await make_stepped_server(texts=short_texts(tmp_path))


def connected(message: dict, name: str) -> bool | None:
    """Is this player shown connected in a `room` update (None: not seated)?"""
    seat = player(message["room"], name)
    return None if seat is None else seat["connected"]


def drop(client) -> None:
    """The network goes away: no close frame, the server only sees the socket die."""
    client.ws.transport.abort()


async def test_a_token_restores_the_player_after_a_server_restart(make_server, tmp_path):
    db = str(tmp_path / "kept.db")
    first = await make_server(db=db)
    ann = await Client.connect(f"ws://127.0.0.1:{first.port}/ws")
    welcome = await ann.hello("Ann")
    await ann.close()
    await first.stop()

    second = await make_server(db=db)             # no --secret: the one kept in the db
    again = await Client.connect(f"ws://127.0.0.1:{second.port}/ws")
    back = await again.hello("Ann again", welcome["token"])
    assert back["player_id"] == welcome["player_id"] and back["name"] == "Ann again"
    await again.close()


async def test_a_forged_or_altered_token_is_refused(connect, make_server):
    ann = await connect("Ann")
    token = ann.welcome["token"]
    prefix, player_id, generation, signature = token.split(".")
    other_id = "p" + "0" * 16
    forged = [
        f"{prefix}.{other_id}.{generation}.{signature}",           # someone else's id
        f"{prefix}.{player_id}.{generation}.{signature[:-2]}"
        f"{'AB' if signature[-2:] != 'AB' else 'CD'}",
        f"{prefix}.{player_id}.7.{signature}",                     # another generation
        f"{prefix}.{player_id}.{generation}",
        "not a token",
    ]
    mallory = await connect(None)
    for bad in forged:
        with pytest.raises(ServerError) as refused:
            await mallory.hello("Mallory", bad)
        assert refused.value.code == "invalid_token"
    # The connection lives on and can still say hello without a token.
    welcome = await mallory.hello("Mallory")
    assert welcome["player_id"] != player_id

    # A token signed with another server's secret is refused; the same --secret is shared.
    other = await make_server(secret="another secret")
    stranger = await connect(None, target=other)
    with pytest.raises(ServerError) as refused:
        await stranger.hello("Ann", token)
    assert refused.value.code == "invalid_token"
    twin = await make_server(secret="another secret")
    issued = (await (await connect(None, target=other)).hello("Bob"))
    on_twin = await (await connect(None, target=twin)).hello("Bob", issued["token"])
    assert on_twin["player_id"] == issued["player_id"]


async def test_a_racer_who_drops_mid_race_comes_back_and_finishes(connect, server):
    ann, bob = await connect("Ann"), await connect("Bob", "msgpack")
    joined = await create(ann, countdown_s=1)
    bob_joined = await bob.request({"type": "join_room", "code": joined["room"]["code"]})
    bob_slot = bob_joined["slot"]
    await ann.send({"type": "start"})
    body = (await until_start(server, bob))["text"]["body"]
    await racing(ann)

    # Bob types ten characters and a wrong one that stays standing, then loses the network.
    assert body[10] != "#"
    await bob.send({"type": "input", "keys": body[:10] + "#"})
    await synced(bob)
    await step(server)
    await ann.expect("tick", where=lambda m: [bob_slot, 10] in [p[:2] for p in m["p"]])
    drop(bob)
    update = await ann.expect("room", where=lambda m: connected(m, "Bob") is False)
    assert update["room"]["state"] == "racing"

    # Back within the grace period with the token: seat, text, positions, own typing.
    again = await connect("Bob", "msgpack", token=bob.welcome["token"])
    assert again.player_id == bob.player_id
    rejoined = await again.expect("joined")
    assert rejoined["slot"] == bob_slot and rejoined["room"]["state"] == "racing"
    assert player(rejoined["room"], "Bob")["connected"] is True
    assert (await again.expect("countdown"))["text"]["body"] == body
    tick = await again.expect("tick")
    assert [bob_slot, 10] in [p[:2] for p in tick["p"]]
    resume = await again.expect("resume")
    assert resume["slot"] == bob_slot and resume["pos"] == 10 and resume["wrong"] == "#"
    await ann.expect("room", where=lambda m: connected(m, "Bob") is True)

    # He deletes the typo and finishes the race he started.
    await again.send({"type": "input", "keys": "\b" + body[10:]})
    finish = await ann.expect("finish", where=lambda m: m["slot"] == bob_slot)
    assert finish["place"] == 1
    await ann.send({"type": "input", "keys": body})
    results = await again.expect("results")
    assert [(r["name"], r["status"]) for r in results["ranking"]] == [("Bob", "finished"),
                                                                      ("Ann", "finished")]
    assert results["ranking"][0]["accuracy"] < 1


async def test_a_solo_racer_who_drops_keeps_the_race(connect, server):
    ann = await connect("Ann")
    await ann.request({"type": "practice"})
    body = (await until_start(server, ann))["text"]["body"]
    await ann.send({"type": "input", "keys": body[:5]})
    await synced(ann)
    await step(server)
    await ann.expect("tick", where=lambda m: m["p"][0][1] == 5)
    drop(ann)
    again = await connect("Ann", token=ann.welcome["token"])
    assert (await again.expect("resume"))["pos"] == 5
    await again.send({"type": "input", "keys": body[5:]})
    results = await again.expect("results")
    assert results["ranking"][0]["status"] == "finished"


async def test_a_second_connection_with_the_same_token_replaces_the_first(connect, server):
    ann, bob = await connect("Ann"), await connect("Bob")
    code = (await create(ann))["room"]["code"]
    await bob.request({"type": "join_room", "code": code})
    eve = await connect("Eve")
    await eve.request({"type": "watch", "code": code})

    ann2 = await connect("Ann", token=ann.welcome["token"])
    with pytest.raises(ConnectionClosed):
        while True:
            await ann.recv()
    assert ann.ws.close_code == 4000
    assert "replaced" in ann.ws.close_reason
    rejoined = await ann2.expect("joined")
    assert rejoined["room"]["code"] == code and rejoined["room"]["host"] == rejoined["slot"]
    # The seat never went away: nobody saw Ann disconnected, and the new connection is host.
    room_views = [m["room"] for m in bob.seen if m.get("type") == "room"]
    assert all(player(r, "Ann")["connected"] for r in room_views)
    await ann2.send({"type": "start"})
    countdown = await bob.expect("countdown")

    # A spectator's newer connection keeps watching.
    eve2 = await connect("Eve", token=eve.welcome["token"])
    watching = await eve2.expect("watching")
    assert watching["room"]["spectators"] == 1
    assert "code" not in watching["room"]
    await step_past(server, countdown["start_server_ms"])
    await eve2.expect("room", where=lambda m: m["room"]["state"] == "racing")


async def test_after_the_grace_period_a_dropped_racer_has_left(make_stepped_server, connect,
                                                               tmp_path):
    server = await make_stepped_server(texts=short_texts(tmp_path), reconnect_grace_s=1)
    ann = await connect("Ann", target=server)
    bob = await connect("Bob", target=server)
    joined = await create(ann, countdown_s=1)
    await bob.request({"type": "join_room", "code": joined["room"]["code"]})
    await ann.send({"type": "start"})
    body = (await until_start(server, ann))["text"]["body"]
    await bob.send({"type": "input", "keys": body[:3]})
    drop(bob)
    await ann.expect("room", where=lambda m: connected(m, "Bob") is False)
    await step_past(server, server.clock.now_ms() + 1000)          # the grace period
    gone = await ann.expect("room", where=lambda m: m["room"]["state"] == "racing"
                            and connected(m, "Bob") is None)
    assert [p["name"] for p in gone["room"]["players"]] == ["Ann"]
    await ann.send({"type": "input", "keys": body})
    results = await ann.expect("results")
    assert [(r["name"], r["status"]) for r in results["ranking"]] == [("Ann", "finished"),
                                                                      ("Bob", "left")]
    # Bob comes back too late: he is himself again, but no longer in the room.
    again = await connect("Bob", target=server, token=bob.welcome["token"])
    assert again.player_id == bob.player_id
    with pytest.raises(ServerError) as refused:
        await again.request({"type": "leave"})
    assert refused.value.code == "not_in_room"
    assert not any(m.get("type") == "joined" for m in again.seen)


async def test_a_racer_back_after_the_race_ended_gets_the_results(connect, server):
    ann, bob = await connect("Ann"), await connect("Bob")
    joined = await create(ann, countdown_s=1)
    await bob.request({"type": "join_room", "code": joined["room"]["code"]})
    await ann.send({"type": "start"})
    body = (await until_start(server, ann))["text"]["body"]
    await bob.send({"type": "input", "keys": body[:4]})
    drop(bob)
    await ann.expect("room", where=lambda m: connected(m, "Bob") is False)
    await ann.send({"type": "input", "keys": body})
    results = await ann.expect("results")

    again = await connect("Bob", token=bob.welcome["token"])
    rejoined = await again.expect("joined")
    assert rejoined["room"]["state"] == "finished"
    assert (await again.expect("results")) == results
    assert not any(m.get("type") == "resume" for m in again.seen)


async def test_back_during_the_countdown_resume_says_the_race_has_not_started(connect, server):
    ann = await connect("Ann")
    await ann.request({"type": "practice"})
    countdown = await ann.expect("countdown")
    drop(ann)
    again = await connect("Ann", token=ann.welcome["token"])
    resume = await again.expect("resume")
    assert resume["status"] == "countdown" and resume["pos"] == 0   # not "racing" yet
    await step_past(server, countdown["start_server_ms"])
    await again.expect("room", where=lambda m: m["room"]["state"] == "racing")
    await again.send({"type": "input", "keys": countdown["text"]["body"]})
    assert (await again.expect("results"))["ranking"][0]["status"] == "finished"
