"""What a hostile client cannot do: forge an identity, guess a room code, act as the
host, or change a race it only watches. docs/security.md cites these tests."""

from __future__ import annotations

import pytest

from client_demo.client import ServerError
from server.net.codes import CODE_ALPHABET, CODE_LENGTH


async def refused(client, message: dict) -> str:
    with pytest.raises(ServerError) as error:
        await client.request(message)
    return error.value.code


async def test_a_forged_or_foreign_token_is_refused(make_server, connect):
    server = await make_server()
    elsewhere = await make_server()                 # another secret
    ann = await connect("Ann", target=server)
    token = ann.welcome["token"]
    foreign = (await connect("Ann", target=elsewhere)).welcome["token"]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    someone_else = token.replace(ann.player_id, "p" + "0" * 16)     # same signature, other id
    for bad in (flipped, foreign, someone_else, "x" * 40, token[:8]):
        mallory = await connect(None, target=server)
        with pytest.raises(ServerError) as error:
            await mallory.hello("Mallory", bad)
        assert error.value.code == "invalid_token"
    # The real token still works and restores the same player.
    again = await connect("Ann", target=server, token=token)
    assert again.player_id == ann.player_id


async def test_room_codes_are_long_random_and_guessing_them_is_limited(make_server, connect):
    server = await make_server(join_fail_burst=5, join_fail_ip_burst=3, join_fail_per_min=1)
    ann = await connect("Ann", target=server)
    room = (await ann.request({"type": "create_room"}))["room"]
    for code in (room["code"], room["watch_code"]):
        assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    assert room["code"] != room["watch_code"]

    mallory = await connect("Mallory", target=server)
    for guess in ("AAAAAA", "BBBBBB"):
        assert await refused(mallory, {"type": "join_room", "code": guess}) == "room_not_found"
    assert await refused(mallory, {"type": "watch", "code": "CCCCCC"}) == "room_not_found"
    # Out of tries: even the right code is not looked up, from any identity on the address.
    assert await refused(mallory, {"type": "join_room", "code": room["code"]}) == "rate_limited"
    other = await connect("Mallory2", target=server)
    assert await refused(other, {"type": "watch", "code": room["watch_code"]}) == "rate_limited"


async def test_only_the_host_starts_kicks_configures_or_rematches(make_server, connect):
    server = await make_server(countdown_s=0)
    ann = await connect("Ann", target=server)
    room = (await ann.request({"type": "create_room"}))["room"]
    bob = await connect("Bob", target=server)
    await bob.request({"type": "join_room", "code": room["code"]})
    for message in ({"type": "start"}, {"type": "kick", "slot": 0},
                    {"type": "configure", "settings": {"countdown_s": 3}}, {"type": "rematch"}):
        assert await refused(bob, message) == "not_host"
    outsider = await connect("Eve", target=server)
    assert await refused(outsider, {"type": "start"}) == "not_in_room"
    # The host's power is real: a kicked player cannot come back.
    await ann.send({"type": "kick", "slot": 1})
    await bob.expect("kicked")
    assert await refused(bob, {"type": "join_room", "code": room["code"]}) == "kicked"


async def test_a_spectator_sees_the_race_but_cannot_change_it_or_learn_the_join_code(
        make_server, connect):
    server = await make_server(countdown_s=0)
    ann = await connect("Ann", target=server)
    room = (await ann.request({"type": "create_room"}))["room"]
    eve = await connect("Eve", target=server)
    watching = await eve.request({"type": "watch", "code": room["watch_code"]})
    assert "code" not in watching["room"] and "watch_code" not in watching["room"]
    await ann.send({"type": "start"})
    await eve.expect("countdown")
    for message in ({"type": "input", "keys": "x"}, {"type": "start"},
                    {"type": "kick", "slot": 0}, {"type": "rematch"},
                    {"type": "configure", "settings": {}}):
        assert await refused(eve, message) == "not_a_player"
    update = await eve.expect("room")
    assert "code" not in update["room"]
