"""Guessing codes is rate-limited, idle rooms close, and nothing is left behind."""

from __future__ import annotations

import pytest

from client_demo.client import ServerError
from tests.rooms import create, eventually, healthz, racing, short_texts
from tests.stepping import step, step_until, until_start


async def code_error(client, kind: str, code: str) -> str | None:
    try:
        await client.request({"type": kind, "code": code})
    except ServerError as exc:
        return exc.code
    await client.request({"type": "leave"})
    return None


async def test_unknown_codes_are_rate_limited_per_connection_and_per_ip(make_server, connect):
    server = await make_server(join_fail_burst=3, join_fail_ip_burst=5, join_fail_per_min=0.01)
    host = await connect("Host", target=server)
    room = (await create(host))["room"]
    guesser = await connect("Guesser", target=server)

    # Successful joins and watches cost nothing.
    for _ in range(4):
        assert await code_error(guesser, "watch", room["watch_code"]) is None
        assert await code_error(guesser, "join_room", room["code"]) is None

    # Three unknown codes use up this connection's allowance ...
    assert [await code_error(guesser, kind, "QQQQQQ") for kind in ("join_room", "watch",
                                                                   "join_room")] == \
        ["room_not_found"] * 3
    # ... after which even a good code is refused unlooked-at, so guessing learns nothing.
    assert await code_error(guesser, "join_room", room["code"]) == "rate_limited"
    assert await code_error(guesser, "watch", room["watch_code"]) == "rate_limited"
    assert (await guesser.request({"type": "ping"}))["type"] == "pong"   # still connected

    # A new connection from the same address only has what is left of the IP's five.
    second = await connect("Guesser", target=server)
    assert [await code_error(second, "watch", "QQQQQQ") for _ in range(2)] == \
        ["room_not_found"] * 2
    assert await code_error(second, "watch", room["watch_code"]) == "rate_limited"
    third = await connect("Guesser", target=server)
    assert await code_error(third, "join_room", room["code"]) == "rate_limited"
    # Other requests are not affected.
    assert (await third.request({"type": "quick_race"}))["type"] == "joined"


async def test_a_private_room_with_nobody_connected_closes_after_the_idle_time(
        make_stepped_server, connect):
    server = await make_stepped_server(reconnect_grace_s=600, idle_room_s=1)
    ann = await connect("Ann", target=server)
    kept = (await create(ann))["room"]
    bob = await connect("Bob", target=server)
    left = (await create(bob))["room"]
    bob.ws.transport.abort()

    await eventually(lambda: bob.player_id not in server.conns, what="Bob's connection lost")
    await step_until(server, lambda: len(server.lobby.all_rooms()) == 1, 1000 + 100,
                     what="the idle room closing")
    assert server.lobby.room(kept["room_id"]) is not None         # Ann is there: no idle close
    cid = await connect("Cid", target=server)
    assert (await cid.request({"type": "join_room", "code": kept["code"]}))["room"]["room_id"] \
        == kept["room_id"]
    with pytest.raises(ServerError) as gone:
        await cid.request({"type": "watch", "code": left["watch_code"]})
    assert gone.value.code == "room_not_found"
    # Bob's held seat went with the room: back with his token, he sits nowhere.
    again = await connect("Bob", target=server, token=bob.welcome["token"])
    with pytest.raises(ServerError) as nowhere:
        await again.request({"type": "leave"})
    assert nowhere.value.code == "not_in_room"


async def test_rooms_seats_and_spectators_are_all_released(make_stepped_server, connect,
                                                            tmp_path):
    server = await make_stepped_server(texts=short_texts(tmp_path), reconnect_grace_s=1,
                                       idle_room_s=1)
    clients = {name: await connect(name, "msgpack" if i % 2 else "json", target=server)
               for i, name in enumerate(["Ann", "Bob", "Cid", "Dan", "Eve", "Fay", "Gus"])}
    ann, bob, cid, dan, eve, fay, gus = clients.values()

    # A quick race run to its results; a spectator watching it.
    await ann.request({"type": "quick_race"})
    quick = (await bob.request({"type": "quick_race"}))["room"]
    await eve.request({"type": "watch", "code": quick["room_id"]})
    await step(server)
    body = (await until_start(server, ann))["text"]["body"]
    await racing(bob)
    await ann.send({"type": "input", "keys": body})
    await bob.send({"type": "input", "keys": body})
    await eve.expect("results")
    # A private room mid-race with a spectator; a practice race; a waiting private room.
    room = (await create(cid, countdown_s=1))["room"]
    await dan.request({"type": "join_room", "code": room["code"]})
    await fay.request({"type": "watch", "code": room["watch_code"]})
    await cid.send({"type": "start"})
    await until_start(server, dan)
    await gus.request({"type": "practice"})
    waiting = await connect("Hal", target=server)
    await create(waiting)

    health = await healthz(server.port)
    assert health["rooms"] == 4 and health["players"] == 6 and health["spectators"] == 2

    # Some leave politely, the rest simply disappear.
    await cid.request({"type": "leave"})
    await fay.request({"type": "leave"})
    for client in (ann, bob, dan, eve, gus, waiting):
        client.ws.transport.abort()
    await cid.close()
    await fay.close()

    async def all_released():
        health = await healthz(server.port)
        return (health["rooms"], health["players"], health["spectators"],
                health["connections"]) == (0, 0, 0, 0)
    await eventually(lambda: not server.conns, what="every connection gone")
    await step_until(server, all_released, 5000, what="every room released")
    lobby = server.lobby
    assert lobby.counts() == (0, 0, 0) and not server.conns
    assert not lobby.has_code(room["code"], watch=True) and lobby.problems() == []
