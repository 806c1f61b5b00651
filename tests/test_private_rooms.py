"""Private rooms over real sockets: codes, joining, watching, and the host's controls."""

from __future__ import annotations

import pytest

from client_demo.client import ServerError
from tests.rooms import CODE_ALPHABET, create, healthz, player, racing, short_texts
from tests.stepping import step_past, until_start


@pytest.fixture
async def server(make_stepped_server, tmp_path):
    return await make_stepped_server(texts=short_texts(tmp_path))


async def refused(client, message: dict) -> ServerError:
    with pytest.raises(ServerError) as caught:
        await client.request(message)
    return caught.value


async def test_a_private_room_has_a_join_code_and_a_different_watch_code(connect, server):
    ann, bob, eve = await connect("Ann"), await connect("Bob", "msgpack"), await connect("Eve")
    joined = await create(ann, max_players=4, countdown_s=1)
    room = joined["room"]
    code, watch_code = room["code"], room["watch_code"]
    assert room["public"] is False and room["host"] == joined["slot"]
    assert room["settings"]["max_players"] == 4
    assert code != watch_code
    for c in (code, watch_code):
        assert len(c) == 6 and set(c) <= CODE_ALPHABET

    # Codes are typed by hand: case and separators don't matter.
    typed = f"{code[:3].lower()}-{code[3:]}"
    bob_joined = await bob.request({"type": "join_room", "code": typed})
    assert bob_joined["room"]["room_id"] == room["room_id"]
    assert bob_joined["room"]["code"] == code          # members see the codes
    update = await ann.expect("room", where=lambda m: len(m["room"]["players"]) == 2)
    assert update["room"]["code"] == code

    # A watch code never seats anybody.
    assert (await refused(eve, {"type": "join_room", "code": watch_code})).code == "room_not_found"
    watching = await eve.request({"type": "watch", "code": watch_code})
    assert watching["room"]["room_id"] == room["room_id"]
    assert "code" not in watching["room"] and "watch_code" not in watching["room"]
    update = await bob.expect("room", where=lambda m: m["room"]["spectators"] == 1)
    assert update["room"]["code"] == code

    # Private rooms are never listed.
    listed = await eve.request({"type": "list_races"})
    assert room["room_id"] not in [r["room_id"] for r in listed["rooms"]]

    # A spectator who came by the join code is still only a spectator, and never sees codes.
    await eve.request({"type": "leave"})
    watching = await eve.request({"type": "watch", "code": code})
    assert watching["room"]["spectators"] == 1 and "code" not in watching["room"]
    await ann.send({"type": "start"})
    await until_start(server, eve)
    assert (await refused(eve, {"type": "input", "keys": "t"})).code == "not_a_player"
    room_views = [m["room"] for m in eve.seen if m.get("type") in ("room", "watching")]
    assert room_views and all("code" not in r and "watch_code" not in r for r in room_views)

    # An unknown code and a private room's id are not watchable.
    assert (await refused(eve, {"type": "watch", "code": "ZZZZZZ"})).code == "room_not_found"
    assert (await refused(eve, {"type": "watch", "code": room["room_id"]})).code == "room_not_found"


async def test_a_full_room_and_a_running_race_refuse_new_players_who_may_watch(connect, server):
    ann, bob, cid = await connect("Ann"), await connect("Bob"), await connect("Cid")
    code = (await create(ann, max_players=2, countdown_s=1))["room"]["code"]
    await bob.request({"type": "join_room", "code": code})
    full = await refused(cid, {"type": "join_room", "code": code})
    assert full.code == "room_full" and "watch" in full.error["message"]

    await bob.request({"type": "leave"})
    await ann.send({"type": "start"})
    await until_start(server, ann)
    running = await refused(cid, {"type": "join_room", "code": code})
    assert running.code == "race_in_progress" and "watch" in running.error["message"]
    watching = await cid.request({"type": "watch", "code": code})
    assert watching["room"]["state"] == "racing"
    # The spectator gets the text and everyone's positions at once.
    assert (await cid.expect("countdown"))["text"]["body"]
    assert [p[0] for p in (await cid.expect("tick"))["p"]] == [0]


async def test_only_the_host_controls_the_room(connect, server):
    ann, bob, eve = await connect("Ann"), await connect("Bob"), await connect("Eve")
    joined = await create(ann, countdown_s=1)
    code = joined["room"]["code"]
    await bob.request({"type": "join_room", "code": code})
    await eve.request({"type": "watch", "code": joined["room"]["watch_code"]})

    for message in ({"type": "start"}, {"type": "kick", "slot": joined["slot"]},
                    {"type": "configure", "settings": {"countdown_s": 3}}, {"type": "rematch"}):
        assert (await refused(bob, message)).code == "not_host"
        assert (await refused(eve, message)).code == "not_a_player"

    # configure: everyone sees the new settings; bad settings are refused with a reason.
    await ann.send({"type": "configure", "settings": {"max_players": 8, "countdown_s": 2}})
    for client in (ann, bob, eve):
        update = await client.expect("room", where=lambda m: m["room"]["settings"]["max_players"] == 8)
        assert update["room"]["settings"]["countdown_s"] == 2
    assert (await refused(ann, {"type": "configure", "settings": {"max_players": 1}})).code == \
        "bad_message"
    assert (await refused(ann, {"type": "configure", "settings": {"colour": "red"}})).code == \
        "bad_message"
    assert (await refused(ann, {"type": "configure", "settings": {"text_id": 99999}})).code == \
        "text_not_found"
    texts = (await ann.request({"type": "list_texts"}))["texts"]
    chosen = texts[-1]["text_id"]
    await ann.send({"type": "configure", "settings": {"text_id": chosen, "countdown_s": 1}})
    await bob.expect("room", where=lambda m: m["room"]["settings"].get("text_id") == chosen)

    await ann.send({"type": "start"})
    countdown = await bob.expect("countdown")
    assert countdown["text"]["text_id"] == chosen
    await until_start(server, ann)
    assert (await refused(ann, {"type": "configure", "settings": {"countdown_s": 3}})).code == \
        "race_in_progress"
    assert (await refused(ann, {"type": "start"})).code == "race_in_progress"
    assert (await refused(ann, {"type": "rematch"})).code == "race_in_progress"


async def test_a_kicked_player_is_told_leaves_and_cannot_come_back(connect):
    ann, bob, cid = await connect("Ann"), await connect("Bob"), await connect("Cid")
    code = (await create(ann))["room"]["code"]
    bob_slot = (await bob.request({"type": "join_room", "code": code}))["slot"]
    await cid.request({"type": "join_room", "code": code})
    await ann.expect("room", where=lambda m: len(m["room"]["players"]) == 3)

    await ann.send({"type": "kick", "slot": bob_slot})
    kicked = await bob.expect("kicked")
    assert kicked["type"] == "kicked"
    for client in (ann, cid):
        update = await client.expect("room", where=lambda m: len(m["room"]["players"]) == 2
                                     and player(m["room"], "Bob") is None)
        assert [p["name"] for p in update["room"]["players"]] == ["Ann", "Cid"]
    # Bob is out of the room: he can't type, leave or come back by the code.
    assert (await refused(bob, {"type": "leave"})).code == "not_in_room"
    assert (await refused(bob, {"type": "join_room", "code": code})).code == "kicked"
    assert (await refused(ann, {"type": "kick", "slot": 42})).code == "bad_message"


async def test_a_kicked_player_cannot_watch_the_room_by_either_code(server, connect):
    ann, bob = await connect("Ann"), await connect("Bob")
    room = (await create(ann))["room"]
    bob_slot = (await bob.request({"type": "join_room", "code": room["code"]}))["slot"]
    await ann.send({"type": "kick", "slot": bob_slot})
    await bob.expect("kicked")
    for code in (room["code"], room["watch_code"]):
        assert (await refused(bob, {"type": "watch", "code": code})).code == "kicked"
    assert (await healthz(server.port))["spectators"] == 0


async def test_a_player_cannot_watch_its_own_room_which_lives_on(server, connect):
    ann, bob, cid = await connect("Ann"), await connect("Bob"), await connect("Cid")
    room = (await create(ann))["room"]
    for code in (room["watch_code"], room["code"]):
        error = await refused(ann, {"type": "watch", "code": code})
        assert error.code == "already_in_room" and "leave it first" in error.error["message"]
    quick = (await bob.request({"type": "quick_race"}))["room"]
    assert (await refused(bob, {"type": "watch", "code": quick["room_id"]})).code == \
        "already_in_room"
    health = await healthz(server.port)
    assert (health["rooms"], health["players"], health["spectators"]) == (2, 2, 0)
    # Ann's room and its codes still work for everyone else.
    assert (await cid.request({"type": "watch", "code": room["watch_code"]}))["type"] == \
        "watching"


async def test_configure_text_id_null_draws_a_random_text_that_is_raced(connect):
    ann, bob = await connect("Ann"), await connect("Bob")
    texts = (await ann.request({"type": "list_texts"}))["texts"]
    chosen = texts[0]["text_id"]
    room = (await create(ann, text_id=chosen, countdown_s=1))["room"]
    assert room["text"]["text_id"] == chosen
    await bob.request({"type": "join_room", "code": room["code"]})

    await ann.send({"type": "configure", "settings": {"text_id": None}})
    update = (await bob.expect("room", where=lambda m: m["room"]["settings"]["text_id"] is None))
    drawn = update["room"]["text"]["text_id"]
    assert drawn != chosen                       # the room shows the text it will race
    await ann.send({"type": "start"})
    assert (await bob.expect("countdown"))["text"]["text_id"] == drawn


async def test_when_the_host_leaves_the_longest_seated_player_becomes_host(connect):
    ann, bob, cid = await connect("Ann"), await connect("Bob"), await connect("Cid")
    code = (await create(ann, countdown_s=1))["room"]["code"]
    bob_slot = (await bob.request({"type": "join_room", "code": code}))["slot"]
    await cid.request({"type": "join_room", "code": code})
    await bob.expect("room", where=lambda m: len(m["room"]["players"]) == 3)

    await ann.request({"type": "leave"})
    for client in (bob, cid):
        update = await client.expect("room", where=lambda m: player(m["room"], "Ann") is None)
        assert update["room"]["host"] == bob_slot
    # The new host's controls work, the old host's don't.
    assert (await refused(cid, {"type": "start"})).code == "not_host"
    await bob.send({"type": "start"})
    assert (await cid.expect("countdown"))["text"]["body"]


async def test_rematch_races_the_same_seats_again_on_a_new_text(connect, server):
    ann, bob, eve = await connect("Ann"), await connect("Bob"), await connect("Eve")
    joined = await create(ann, countdown_s=1)
    room = joined["room"]
    bob_slot = (await bob.request({"type": "join_room", "code": room["code"]}))["slot"]
    await eve.request({"type": "watch", "code": room["watch_code"]})
    await ann.send({"type": "start"})
    first = await until_start(server, ann)
    await racing(bob)
    body = first["text"]["body"]
    await ann.send({"type": "input", "keys": body})
    await bob.send({"type": "input", "keys": body})
    results = await eve.expect("results")
    assert {r["name"] for r in results["ranking"]} == {"Ann", "Bob"}
    await ann.expect("room", where=lambda m: m["room"]["state"] == "finished")

    assert (await refused(bob, {"type": "rematch"})).code == "not_host"
    await ann.send({"type": "rematch"})
    for client in (ann, bob, eve):
        update = await client.expect("room", where=lambda m: m["room"]["state"] == "countdown")
        slots = {p["name"]: p["slot"] for p in update["room"]["players"]}
        assert slots == {"Ann": joined["slot"], "Bob": bob_slot}
        second = await client.expect("countdown", where=lambda m: m["race_id"] != first["race_id"])
        assert second["text"]["text_id"] != first["text"]["text_id"]
    body = second["text"]["body"]
    await step_past(server, second["start_server_ms"])
    await ann.expect("room", where=lambda m: m["room"]["state"] == "racing")
    await ann.send({"type": "input", "keys": body})
    await bob.send({"type": "input", "keys": body[:4]})
    await bob.close()
    results = await eve.expect("results", where=lambda m: m["race_id"] == second["race_id"])
    assert [(r["name"], r["status"]) for r in results["ranking"]] == [("Ann", "finished"),
                                                                      ("Bob", "left")]
