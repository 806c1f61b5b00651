"""Bad input never breaks anything: a clear `error`, the connection lives on, and
a race in another room finishes normally while a hostile client does all of this."""

from __future__ import annotations

import asyncio

import msgpack
import pytest
from websockets.exceptions import ConnectionClosed

from client_demo.client import Client, ServerError
from protocol.messages import KEYS_MAX

from .helpers import write_texts
from .stepping import step, until_start


@pytest.fixture
async def server(make_stepped_server, tmp_path):
    return await make_stepped_server(texts=write_texts(tmp_path))


async def error_for(client: Client, frame) -> dict:
    """Send a raw frame; return the `error` it caused."""
    await client.send_raw(frame)
    return await client.expect("error")


async def still_open(client: Client) -> None:
    """The connection still answers a well-formed request."""
    pong = await client.request({"type": "ping"})
    assert pong["type"] == "pong"


async def close_code(client: Client, timeout: float = 15.0) -> int:
    """Read until the server closes the connection; its close code."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            await asyncio.wait_for(client.ws.recv(), max(0.01, deadline - loop.time()))
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None


# Each check below is one hostile act; the tests run them alone, and all at once
# beside a race. `connect(name, codec)` opens a client (name None: no hello).

async def not_a_valid_frame(connect):
    jc = await connect("Jay", "json")
    for frame in ["not json{", "{'type': 'ping'}", "", "[" * 50_000, "NaN",
                  b"\x00\x01binary to a json connection"]:
        error = await error_for(jc, frame)
        assert error["code"] == "bad_message" and "id" not in error
        await still_open(jc)
    mc = await connect("Em", "msgpack")
    for frame in [b"\xc1", b"\x81\xa4type", b"", b"\x91" * 50_000, "text to msgpack",
                  msgpack.packb({1: "int key"})]:
        error = await error_for(mc, frame)
        assert error["code"] == "bad_message"
        await still_open(mc)


async def not_a_map(connect):
    jc = await connect("Jay", "json")
    for frame in ["[1, 2]", "42", '"ping"', "null", "true"]:
        assert (await error_for(jc, frame))["code"] == "bad_message"
        await still_open(jc)
    mc = await connect("Em", "msgpack")
    for value in [[1, 2], 42, "ping", None, b"bytes"]:
        assert (await error_for(mc, msgpack.packb(value)))["code"] == "bad_message"
        await still_open(mc)


async def missing_and_wrong_typed_fields(connect):
    for codec in ("json", "msgpack"):
        client = await connect("Kit", codec)
        for message in [
            {"id": 1},                                   # no type
            {"type": 5, "id": 2},
            {"type": None, "id": 3},
            {"type": "input", "id": 4},                  # keys missing
            {"type": "input", "keys": 5, "id": 5},
            {"type": "input", "keys": ["a"], "id": 6},
            {"type": "input", "keys": "x" * (KEYS_MAX + 1), "id": 7},   # over KEYS_MAX
            {"type": "watch", "code": "", "id": 8},
            {"type": "watch", "code": {"a": 1}, "id": 9},
            {"type": "kick", "slot": "0", "id": 10},
            {"type": "kick", "slot": True, "id": 11},
            {"type": "kick", "slot": 1.5, "id": 12},
            {"type": "ping", "id": "seven"},              # id must be an integer
            {"type": "ping", "id": 2**60},              # beyond exact JS numbers
            {"type": "create_room", "settings": [1], "id": 13},
            {"type": "create_room", "settings": {"max_players": 1000}, "id": 14},
            {"type": "create_room", "settings": {"colour": "red"}, "id": 15},
            {"type": "hello", "name": "Again", "id": 16},  # hello twice
        ]:
            await client.send(message)
            error = await client.expect("error")
            assert error["code"] == "bad_message", message
            if isinstance(message.get("id"), int) and message["id"] < 2**53:
                assert error["id"] == message["id"]      # a usable id is echoed
            else:
                assert "id" not in error
            await still_open(client)


async def lone_surrogates_in_json_strings(connect):
    client = await connect("Sue", "json")
    for raw in ['{"type":"input","keys":"\\ud800","id":1}',
                '{"type":"watch","code":"\\udfff","id":2}',
                '{"type":"player_stats","player_id":"p\\ud800","id":3}']:
        error = await error_for(client, raw)
        assert error["code"] == "bad_message" and error["id"] in (1, 2, 3)
        await still_open(client)
    error = await error_for(client, '{"type":"\\ud800","id":4}')
    assert error["code"] == "unknown_type" and error["id"] == 4
    await still_open(client)


async def unknown_type_echoes_the_id(connect):
    for codec in ("json", "msgpack"):
        client = await connect("Uno", codec)
        for kind in ["teleport", "", "x" * 5000, "HELLO"]:
            await client.send({"type": kind, "id": 99})
            error = await client.expect("error")
            assert error["code"] == "unknown_type" and error["id"] == 99
            assert len(error["message"]) < 200
        await still_open(client)


async def anything_before_hello(connect):
    for codec in ("json", "msgpack"):
        client = await connect(None, codec)
        for message in [{"type": "quick_race", "id": 1}, {"type": "list_races", "id": 2},
                        {"type": "input", "keys": "abc", "id": 3}, {"type": "ping", "id": 4},
                        {"type": "teleport", "id": 5}, {"id": 6}, {"type": "input", "id": 7}]:
            with pytest.raises(ServerError) as err:
                await client.request(message)
            assert err.value.code == "not_hello" and err.value.error["id"] is not None
        welcome = await client.hello("Late")
        assert welcome["type"] == "welcome"
        await still_open(client)


async def names_outside_the_rules(connect):
    client = await connect(None, "json")
    for name in ["", "   ", "x" * 25, "y" * 300, "Ann\x00", "A\nB", "tab\there", "\x1b[31mred",
                 "bell\x07", "\u200b", "zero\u200bwidth", "\u2028",
                 "\u0301" * 24, " \u0301\u0308 \u20dd "]:      # combining marks alone show nothing
        with pytest.raises(ServerError) as err:
            await client.hello(name)
        assert err.value.code == "invalid_name", repr(name)
    assert (await client.hello("x" * 24))["name"] == "x" * 24
    other = await connect(None, "msgpack")
    assert (await other.hello("  Zoë 🚀  "))["name"] == "Zoë 🚀"
    third = await connect(None, "json")
    assert (await third.hello("Ann\u0333"))["name"] == "Ann\u0333"     # a mark on a letter


async def frames_over_64_kib(connect):
    for codec, frame in [("json", '{"type":"ping","pad":"' + "a" * 70_000 + '"}'),
                         ("msgpack", msgpack.packb({"type": "ping", "pad": b"a" * 70_000}))]:
        client = await connect("Big", codec)
        near = {"type": "ping", "pad": "a" * 60_000, "id": 1}
        assert (await client.request(near))["type"] == "pong"     # under the limit: fine
        await client.send_raw(frame)
        assert await close_code(client) == 1009


async def flooding(connect):
    client = await connect("Flo", "msgpack")
    frame = client.codec.encode({"type": "ping"})
    try:
        for _ in range(400):
            await client.send_raw(frame)
    except ConnectionClosed:
        pass
    rate_limited = False
    while True:
        try:
            message = await client.recv(15)
        except ConnectionClosed as exc:
            assert exc.rcvd is not None and exc.rcvd.code == 1008
            break
        if message.get("type") == "error":
            assert message["code"] == "rate_limited"
            rate_limited = True
    assert rate_limited


HOSTILE_ACTS = [not_a_valid_frame, not_a_map, missing_and_wrong_typed_fields,
                lone_surrogates_in_json_strings, unknown_type_echoes_the_id,
                anything_before_hello, names_outside_the_rules, frames_over_64_kib, flooding]


@pytest.mark.parametrize("act", HOSTILE_ACTS, ids=lambda f: f.__name__)
async def test_bad_input_gets_a_clear_answer(connect, act):
    await act(connect)


async def test_a_flooder_that_slows_down_is_served_again(make_stepped_server, connect):
    target = await make_stepped_server(msg_rate=50, msg_burst=5)
    client = await connect("Flo", "json", target=target)
    for i in range(8):                       # over the burst, but not flooding for long
        await client.send({"type": "ping", "id": 100 + i})
    refused = await client.expect("error", where=lambda m: m["code"] == "rate_limited")
    assert 100 <= refused["id"] < 108        # the refused request learns it was refused
    for _ in range(3):                       # the bucket refills at 50/s
        await step(target, 200)              # the client's pace, on the server's clock
        await still_open(client)


async def test_a_race_finishes_normally_while_a_hostile_client_does_all_of_this(server, connect):
    ann = await connect("Ann", "json")
    bob = await connect("Bob", "msgpack")
    eve = await connect("Eve", "msgpack")
    joined = await ann.request({"type": "quick_race"})
    await eve.request({"type": "watch", "code": joined["room"]["room_id"]})
    await bob.request({"type": "quick_race"})
    await step(server)                       # the next tick sees both seated: the countdown

    async def race() -> dict:
        body = (await until_start(server, ann))["text"]["body"]
        await bob.expect("room", timeout=30, where=lambda m: m["room"]["state"] == "racing")
        # Ann types everything with one corrected typo, a few keys at a time.
        await ann.send({"type": "input", "keys": body[:3] + "#\b"})
        for i in range(3, len(body), 4):
            await ann.send({"type": "input", "keys": body[i:i + 4]})
        await ann.expect("finish", timeout=30)
        await bob.send({"type": "input", "keys": body})
        return await eve.expect("results", timeout=30), body

    async def hostile() -> None:
        for act in HOSTILE_ACTS:
            await act(connect)

    (results, body), _ = await asyncio.gather(race(), hostile())
    ranking = results["ranking"]
    assert [(r["name"], r["place"], r["status"], r["pos"]) for r in ranking] == [
        ("Ann", 1, "finished", len(body)), ("Bob", 2, "finished", len(body))]
    assert ranking[0]["accuracy"] == pytest.approx(len(body) / (len(body) + 1), abs=1e-4)
    assert ranking[1]["accuracy"] == 1.0
    assert (await ann.expect("results"))["race_id"] == results["race_id"]
    # ...and the server still takes newcomers.
    newcomer = await connect("New", "json")
    assert (await newcomer.request({"type": "list_races"}))["type"] == "races"


async def test_a_steady_flood_is_closed_too_not_only_a_burst(make_server, connect):
    # 20 messages/s allowed; the client sends several times that, spread out, so a few
    # messages are refused between every refilled token: still a flood.
    target = await make_server(msg_rate=20, msg_burst=10)
    client = await connect("Drip", "json", target=target)
    frame = client.codec.encode({"type": "ping"})
    reader = asyncio.create_task(close_code(client, timeout=30))   # keeps reading replies
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while not reader.done() and loop.time() < deadline:
        try:
            await client.send_raw(frame)
        except ConnectionClosed:
            break
        await asyncio.sleep(0.01)            # the client's pace (~100/s), not a wait
    assert await reader == 1008


async def test_no_field_value_of_any_message_makes_the_server_fail(make_server, connect):
    """Every message type with every field set to odd values: errors are the client's
    (`bad_message` and friends), never `internal`, and the connection lives on."""
    from protocol.messages import SCHEMAS

    target = await make_server(msg_rate=100_000, msg_burst=100_000)
    client = await connect("Fuzz", "msgpack", target=target)
    other = await connect("Peer", "json", target=target)
    await other.request({"type": "create_room"})
    values = [None, 0, -1, 1, 2**53, 2**53 + 1, "", "x", "A" * 40, "r0", [], {}, [1], True,
              1.5, -0.0, {"max_players": 3}, {"text_id": 1}, {"countdown_s": "3"},
              {"max_players": None}, {"text_id": None}, {"": 1}, "\b" * 10, "🚀" * 30]
    for kind, fields in SCHEMAS.items():
        if kind == "hello":
            continue
        for name in fields:
            for value in values:
                await client.send({"type": kind, name: value})
        await client.send({"type": kind})
        await client.request({"type": "ping"})
    failures = [m for m in client.seen if m.get("code") == "internal"]
    assert failures == []
    await client.request({"type": "quick_race"})
    assert (await client.request({"type": "leave"}))["type"] == "left"
