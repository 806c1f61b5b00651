"""The transport, identity, spectating and the race over real sockets."""

from __future__ import annotations

import pytest

from client_demo.client import Client, ServerError
from protocol.codec import JSON, MSGPACK

from .helpers import http_get, json_body, write_texts
from .stepping import step, synced, until_start
from .typist import type_passage


@pytest.fixture
async def server(make_stepped_server, tmp_path):
    """A server whose races use short passages, so races end quickly."""
    return await make_stepped_server(texts=write_texts(tmp_path))


async def start_race(server, connect, *names, codecs=None):
    """Seat the named players in one quick race and step until it is racing."""
    clients = []
    for i, name in enumerate(names):
        client = await connect(name, (codecs or ["json"] * len(names))[i], target=server)
        clients.append(client)
        joined = await client.request({"type": "quick_race"})
        client.slot = joined["slot"]
        client.room_id = joined["room"]["room_id"]
    assert len({c.room_id for c in clients}) == 1
    await step(server)                      # the next tick sees them seated: the countdown
    countdown = await until_start(server, clients[0])
    for client in clients[1:]:
        await client.expect("room", where=lambda m: m["room"]["state"] == "racing")
    return clients, countdown["text"]["body"]


# ---- transport ------------------------------------------------------------------

async def test_a_client_offering_no_subprotocol_gets_json_text_frames(server):
    client = await Client.connect(f"ws://127.0.0.1:{server.port}/ws", None)
    try:
        assert client.ws.subprotocol is None
        await client.send_raw(JSON.encode({"type": "hello", "name": "Plain", "id": 1}))
        frame = await client.ws.recv()
        assert isinstance(frame, str)
        assert JSON.decode(frame)["type"] == "welcome"
    finally:
        await client.close()


@pytest.mark.parametrize("codec, frame_type", [("json", str), ("msgpack", bytes)])
async def test_each_codec_is_chosen_by_subprotocol(server, codec, frame_type):
    client = await Client.connect(f"ws://127.0.0.1:{server.port}/ws", codec)
    try:
        chosen = {"json": JSON, "msgpack": MSGPACK}[codec]
        assert client.ws.subprotocol == chosen.subprotocol
        await client.send_raw(chosen.encode({"type": "hello", "name": "Ann", "id": 5}))
        frame = await client.ws.recv()
        assert isinstance(frame, frame_type)
        assert chosen.decode(frame)["id"] == 5
    finally:
        await client.close()


@pytest.mark.parametrize("codec", ["json", "msgpack"])
async def test_replies_and_errors_echo_the_request_id(connect, codec):
    ann = await connect("Ann", codec)
    await ann.send({"type": "ping", "id": 77})
    pong = await ann.expect("pong")
    assert pong["id"] == 77 and isinstance(pong["server_ms"], int)
    await ann.send({"type": "leave", "id": 78})
    error = await ann.expect("error")
    assert error["id"] == 78 and error["code"] == "not_in_room"
    await ann.send({"type": "ping"})
    assert "id" not in await ann.expect("pong")


# ---- identity ---------------------------------------------------------------------

async def test_welcome_carries_a_signed_token_that_restores_the_player(connect):
    first = await connect("Ann")
    welcome = first.welcome
    assert welcome["name"] == "Ann" and welcome["protocol"] == 1
    assert isinstance(welcome["server_ms"], int) and welcome["token"]
    again = await connect("Ann Again", token=welcome["token"])
    assert again.welcome["player_id"] == welcome["player_id"]
    assert again.welcome["name"] == "Ann Again"


async def test_a_tampered_token_is_refused_and_the_connection_lives_on(connect):
    ann = await connect("Ann")
    token = ann.welcome["token"]
    version, player_id, generation, signature = token.split(".")
    forged = [
        f"{version}.pdeadbeefdeadbeef.{generation}.{signature}",    # someone else's id
        f"{version}.{player_id}.{generation}.{signature[:-2]}AA",   # a changed signature
        f"{version}.{player_id}.{generation}",                      # no signature
        f"{version}.{player_id}.{generation}.{signature[:-1]}é",    # not even ASCII
        "garbage", ".", "v1..", "v1.x.y.z", "v2...", "v2.x.y.z.w",
    ]
    mallory = await connect(None)
    for bad in forged:
        with pytest.raises(ServerError) as err:
            await mallory.hello("Mallory", bad)
        assert err.value.code == "invalid_token"
    welcome = await mallory.hello("Mallory")
    assert welcome["player_id"] != ann.welcome["player_id"]


async def test_names_are_trimmed(connect):
    ann = await connect("  Ann  ")
    assert ann.welcome["name"] == "Ann"


# ---- lists and spectators -----------------------------------------------------------

async def test_list_races_shows_waiting_and_racing_public_rooms(make_stepped_server, tmp_path,
                                                                connect):
    # A long lobby wait keeps the lone player's room waiting while we look.
    target = await make_stepped_server(texts=write_texts(tmp_path), lobby_wait_s=600)
    ann = await connect("Ann", target=target)
    waiting = (await ann.request({"type": "quick_race"}))["room"]["room_id"]
    eve = await connect("Eve", target=target)
    private = (await eve.request({"type": "create_room"}))["room"]["room_id"]
    rooms = {r["room_id"]: r for r in (await eve.request({"type": "list_races"}))["rooms"]}
    assert private not in rooms                         # private rooms are never listed
    assert rooms[waiting]["state"] == "waiting" and rooms[waiting]["public"] is True
    assert [p["name"] for p in rooms[waiting]["players"]] == ["Ann"]
    assert "code" not in rooms[waiting]

    bob = await connect("Bob", target=target)
    await bob.request({"type": "quick_race"})          # two seated: the race starts
    await step(target)
    await until_start(target, ann)
    rooms = {r["room_id"]: r for r in (await eve.request({"type": "list_races"}))["rooms"]}
    assert rooms[waiting]["state"] == "racing"
    assert len(rooms[waiting]["players"]) == 2


async def test_a_finished_room_is_no_longer_listed(server, connect):
    (ann, bob), body = await start_race(server, connect, "Ann", "Bob")
    await ann.send({"type": "input", "keys": body})
    await bob.send({"type": "input", "keys": body})
    await ann.expect("results")
    eve = await connect("Eve")
    listed = await eve.request({"type": "list_races"})
    assert ann.room_id not in [r["room_id"] for r in listed["rooms"]]


async def test_a_spectator_gets_the_room_at_once_then_every_room_message(server, connect):
    ann = await connect("Ann", "msgpack")
    joined = await ann.request({"type": "quick_race"})
    room_id = joined["room"]["room_id"]
    eve = await connect("Eve", "json")
    watching = await eve.request({"type": "watch", "code": room_id})
    assert watching["type"] == "watching"
    assert watching["room"]["room_id"] == room_id and watching["room"]["state"] == "waiting"
    assert [p["name"] for p in watching["room"]["players"]] == ["Ann"]

    bob = await connect("Bob", "json")
    await bob.request({"type": "quick_race"})
    update = await eve.expect("room", where=lambda m: len(m["room"]["players"]) == 2)
    assert update["room"]["spectators"] == 1
    await step(server)
    countdown = await until_start(server, eve)
    body = countdown["text"]["body"]
    await ann.expect("room", where=lambda m: m["room"]["state"] == "racing")
    await ann.send({"type": "input", "keys": body})
    await synced(ann)
    await step(server)
    tick = await eve.expect("tick", where=lambda m: any(p[1] == len(body) for p in m["p"]))
    assert sorted(p[0] for p in tick["p"]) == [0, 1]
    finish = await eve.expect("finish")
    assert finish["slot"] == joined["slot"] and finish["place"] == 1
    await bob.send({"type": "input", "keys": body})
    results = await eve.expect("results")
    assert [r["name"] for r in results["ranking"]] == ["Ann", "Bob"]
    await eve.expect("room", where=lambda m: m["room"]["state"] == "finished")


async def test_a_spectator_who_arrives_mid_race_sees_the_text_and_positions(server, connect):
    (ann, bob), body = await start_race(server, connect, "Ann", "Bob")
    await ann.send({"type": "input", "keys": body[:4]})
    await synced(ann)
    await step(server)
    await ann.expect("tick", where=lambda m: any(p[1] == 4 for p in m["p"]))
    eve = await connect("Eve", "msgpack")
    watching = await eve.request({"type": "watch", "code": ann.room_id})
    assert watching["room"]["state"] == "racing"
    countdown = await eve.expect("countdown")
    assert countdown["text"]["body"] == body
    tick = await eve.expect("tick")
    assert [0, 4] in [p[:2] for p in tick["p"]]


async def test_a_spectator_cannot_type(server, connect):
    (ann, bob), body = await start_race(server, connect, "Ann", "Bob")
    eve = await connect("Eve")
    await eve.request({"type": "watch", "code": ann.room_id})
    with pytest.raises(ServerError) as err:
        await eve.request({"type": "input", "keys": body[:3]})
    assert err.value.code == "not_a_player"


async def test_watching_an_unknown_room_is_room_not_found(connect):
    eve = await connect("Eve")
    with pytest.raises(ServerError) as err:
        await eve.request({"type": "watch", "code": "r0000000000"})
    assert err.value.code == "room_not_found"


# ---- the race -----------------------------------------------------------------------

async def test_input_outside_racing_is_not_racing(make_stepped_server, tmp_path, connect):
    target = await make_stepped_server(texts=write_texts(tmp_path), countdown_s=30,
                                       lobby_wait_s=600)
    ann = await connect("Ann", target=target)
    with pytest.raises(ServerError) as err:
        await ann.request({"type": "input", "keys": "a"})
    assert err.value.code == "not_in_room"
    await ann.request({"type": "quick_race"})
    with pytest.raises(ServerError) as err:                 # waiting
        await ann.request({"type": "input", "keys": "a"})
    assert err.value.code == "not_racing"
    bob = await connect("Bob", target=target)
    await bob.request({"type": "quick_race"})
    await step(target)
    await ann.expect("countdown")
    with pytest.raises(ServerError) as err:                 # in the countdown
        await ann.request({"type": "input", "keys": "a"})
    assert err.value.code == "not_racing"


async def test_results_come_as_soon_as_every_connected_racer_finished(make_stepped_server,
                                                                     tmp_path, connect):
    target = await make_stepped_server(texts=write_texts(tmp_path), countdown_s=4)
    (ann, bob, cy), body = await start_race(target, connect, "Ann", "Bob", "Cy",
                                            codecs=["json", "msgpack", "json"])
    await type_passage(bob, body, chunk=8, pause_s=0)
    await bob.expect("finish", where=lambda m: m["slot"] == bob.slot)
    await type_passage(ann, body, chunk=8, pause_s=0)
    await ann.expect("finish", where=lambda m: m["slot"] == ann.slot)
    with pytest.raises(ServerError) as err:                 # finished: no more typing
        await ann.request({"type": "input", "keys": "x"})
    assert err.value.code == "not_racing"
    await cy.send({"type": "input", "keys": body[:5]})
    await synced(cy)
    await step(target)
    await cy.expect("tick", where=lambda m: [cy.slot, 5] in [p[:2] for p in m["p"]])
    await cy.close()                                        # the last one drops out
    results = await ann.expect("results", timeout=15)
    ranking = results["ranking"]
    assert [(r["name"], r["place"], r["status"]) for r in ranking] == [
        ("Bob", 1, "finished"), ("Ann", 2, "finished"), ("Cy", 3, "left")]
    assert ranking[0]["race_ms"] <= ranking[1]["race_ms"]
    assert all(r["accuracy"] == 1.0 for r in ranking[:2])
    assert results["race_id"] and ranking[0]["player_id"] == bob.player_id
    bob_results = await bob.expect("results")
    assert bob_results == results


async def test_a_racer_who_leaves_is_left_and_the_race_goes_on(server, connect):
    (ann, bob), body = await start_race(server, connect, "Ann", "Bob")
    await bob.send({"type": "input", "keys": body[:3]})
    left = await bob.request({"type": "leave"})
    assert left["type"] == "left"
    update = await ann.expect("room", where=lambda m: m["room"]["state"] == "racing"
                              and len(m["room"]["players"]) == 1)
    assert update["room"]["players"][0]["name"] == "Ann"
    await ann.send({"type": "input", "keys": body})
    results = await ann.expect("results")
    assert [(r["name"], r["status"], r["pos"]) for r in results["ranking"]] == [
        ("Ann", "finished", len(body)), ("Bob", "left", 3)]


# ---- operator-facing: --texts and /healthz ----------------------------------------

async def test_races_draw_only_from_the_texts_file(connect, server):
    bodies = set()
    for i in range(4):
        client = await connect(f"P{i}")
        await client.request({"type": "practice"})
        countdown = await client.expect("countdown")
        bodies.add(countdown["text"]["body"])
        assert countdown["text"]["source"].startswith("passages.txt #")
    (ann, _), body = await start_race(server, connect, "Ann", "Bob")
    bodies.add(body)
    assert bodies <= {"Short and sweet wins races.", "Tiny words win the day."}


async def test_healthz_answers_200_with_json(server, connect):
    status, headers, body = await http_get(server.port, "/healthz")
    assert status == 200 and headers["content-type"] == "application/json"
    health = json_body(body)
    assert health["status"] == "ok" and health["connections"] == 0
    ann = await connect("Ann")
    await ann.request({"type": "quick_race"})
    health = json_body((await http_get(server.port, "/healthz"))[2])
    assert health["connections"] == 1 and health["rooms"] == 1 and health["players"] == 1
    assert (await http_get(server.port, "/nope"))[0] == 404


async def test_a_room_message_is_encoded_once_per_codec_for_everyone(server, connect,
                                                                      monkeypatch):
    clients = [await connect(f"P{i}", codec) for i, codec in
               enumerate(["json", "msgpack", "json", "msgpack", None])]
    joined = await clients[0].request({"type": "quick_race"})
    for client in clients[1:3]:
        await client.request({"type": "quick_race"})
    for client in clients[3:]:
        await client.request({"type": "watch", "code": joined["room"]["room_id"]})
    room = server.lobby.room(joined["room"]["room_id"])
    encoded = []
    for codec in (JSON, MSGPACK):
        original = codec.encode
        monkeypatch.setattr(codec, "encode", lambda m, c=codec, o=original:
                            encoded.append(c.name) or o(m))
    server.delivery.publish(room, "all", {"type": "tick", "race_ms": 1, "p": [[0, 1, 2, 0]]})
    assert sorted(encoded) == ["json", "msgpack"]
    for client in clients:
        tick = await client.expect("tick", where=lambda m: m["race_ms"] == 1)
        assert tick["p"] == [[0, 1, 2, 0]]
