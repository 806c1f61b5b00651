"""Inputs take a fast path through the server; it must behave exactly like the slow one."""

from __future__ import annotations

import asyncio
import json

import msgpack
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from client_demo.client import ServerError
from protocol.messages import KEYS_MAX


async def _errors_after_a_round_trip(client) -> list[str]:
    """The codes of every error the client was sent so far: a ping's pong comes after
    the server's answers to everything the client sent before it, and reading up to
    the pong files all of them in `client.seen` (which fills only as it reads)."""
    assert (await client.request({"type": "ping"}))["type"] == "pong"
    return [m["code"] for m in client.seen if m["type"] == "error"]


async def _private_race(connect, codec="msgpack", target=None):
    host = await connect("Host", codec, target=target)
    guest = await connect("Guest", codec, target=target)
    created = await host.request({"type": "create_room", "settings": {"countdown_s": 0}})
    await guest.request({"type": "join_room", "code": created["room"]["code"]})
    return host, guest, created


async def test_a_burst_of_inputs_sent_right_after_start_is_applied_in_order(connect, make_server):
    roomy = await make_server(msg_rate=100000, msg_burst=100000)    # no rate limit in the way
    host, guest, _ = await _private_race(connect, target=roomy)
    await host.send({"type": "start"})
    countdown = await guest.expect("countdown")
    body = countdown["text"]["body"]
    # The guest fires its whole passage as one-character inputs without waiting,
    # with a typo fixed at once: any reordering would leave it short of the end.
    frames = [msgpack.packb({"type": "input", "keys": body[0] + "#"}),
              msgpack.packb({"type": "input", "keys": "\b"})]
    frames += [msgpack.packb({"type": "input", "keys": ch}) for ch in body[1:]]
    for frame in frames:
        await guest.send_raw(frame)
    finish = await host.expect("finish", timeout=20)
    assert finish["slot"] == 1 and finish["place"] == 1
    assert finish["accuracy"] == pytest.approx(len(body) / (len(body) + 1), abs=1e-4)
    assert await _errors_after_a_round_trip(guest) == []


async def test_inputs_sent_in_the_same_breath_as_start_are_not_refused(connect):
    host, guest, _ = await _private_race(connect)
    # Both frames in one TCP write, so the server reads them in one go.
    both = b"".join(Frame(Opcode.BINARY, msgpack.packb(m)).serialize(mask=True)
                    for m in ({"type": "start"}, {"type": "input", "keys": "x"}))
    host.ws.transport.write(both)
    await host.expect("countdown")
    assert (await host.request({"type": "ping"}))["type"] == "pong"   # any error came before
    assert not [m for m in host.seen if m["type"] == "error"]


@pytest.mark.parametrize("codec", ["msgpack", "json"])
async def test_bad_or_misplaced_inputs_still_get_their_errors(connect, codec):
    host, guest, created = await _private_race(connect, codec)
    with pytest.raises(ServerError) as waiting:
        await guest.request({"type": "input", "keys": "a"})
    assert waiting.value.code == "not_racing"
    await guest.send({"type": "input", "keys": 42})
    assert (await guest.expect("error"))["code"] == "bad_message"
    await guest.send({"type": "input", "keys": "k" * (KEYS_MAX + 1)})
    assert (await guest.expect("error"))["code"] == "bad_message"
    await guest.send({"type": "input", "keys": "a"})   # no id: the error comes all the same
    assert (await guest.expect("error"))["code"] == "not_racing"
    watcher = await connect("Eve", codec)
    await watcher.request({"type": "watch", "code": created["room"]["watch_code"]})
    await host.send({"type": "start"})
    await watcher.expect("countdown")
    await watcher.send({"type": "input", "keys": "a"})
    assert (await watcher.expect("error"))["code"] == "not_a_player"


async def test_inputs_read_without_decoding_match_the_full_decoder(connect):
    """A plain input's keys are read straight from its bytes (protocol/codec.py
    plain_input); frames that only look like one must fare as the decoder says."""
    host, guest, _ = await _private_race(connect)
    await host.send({"type": "start"})
    body = (await guest.expect("countdown"))["text"]["body"]
    plain = msgpack.packb({"type": "input", "keys": body[0]})
    near_misses = [
        plain[:-1],                                    # cut short: not MessagePack
        plain + b"\x01",                               # a value after the map
        plain[:-2] + b"\xa1\xff",                      # keys that are not UTF-8
    ]
    for frame in near_misses:
        await guest.send_raw(frame)
        assert (await guest.expect("error"))["code"] == "bad_message"
    # The same input in other encodings is applied like the plain one.
    await guest.send_raw(plain)
    await guest.send_raw(msgpack.packb({"keys": body[1], "type": "input"}))
    await guest.send_raw(b"\x82\xa4type\xa5input\xa4keys\xd9\x01" + body[2].encode())
    # Numbered, as clients that send refused keys again number them; a bad id is refused.
    await guest.send_raw(msgpack.packb({"type": "input", "keys": body[3], "id": 7}))
    await guest.send_raw(msgpack.packb({"type": "input", "keys": body[4], "id": "seven"}))
    tick = await host.expect("tick", where=lambda m: any(
        row[0] == 1 and row[1] >= 4 for row in m["p"]))
    assert [row[1] for row in tick["p"] if row[0] == 1] == [4]     # each applied once
    # Only the three near misses and the bad id were refused; the four inputs were not.
    assert await _errors_after_a_round_trip(guest) == ["bad_message"] * 4


def _masked(message: dict, codec: str = "msgpack") -> bytes:
    if codec == "json":          # as the web page sends it: text, numbered, UTF-8
        return Frame(Opcode.TEXT, json.dumps(message, ensure_ascii=False).encode()
                     ).serialize(mask=True)
    return Frame(Opcode.BINARY, msgpack.packb(message)).serialize(mask=True)


@pytest.mark.parametrize("codec", ["msgpack", "json"])
async def test_inputs_cut_anywhere_on_the_wire_are_all_applied_in_order(connect, make_server,
                                                                         codec):
    """The server splits the byte stream into frames itself (server/net/wsconn.py): frames
    cut mid-header, mid-mask and mid-payload, several in one write, pings between them,
    must come out whole and in order: binary frames, and text ones as the page sends."""
    roomy = await make_server(msg_rate=100000, msg_burst=100000)
    host, guest, _ = await _private_race(connect, codec, target=roomy)
    await host.send({"type": "start"})
    body = (await guest.expect("countdown"))["text"]["body"]
    await guest.expect("tick", where=lambda m: any(row[0] == 1 for row in m["p"]))
    chunks = [body[0] + "#", "\b"] + [body[i:i + 3] for i in range(1, len(body), 3)]
    # a big key list too: its 2-byte extended length header is cut as well
    numbered = codec == "json"       # (the page numbers every message; msgpack: plain)
    wire = b"".join(_masked({"type": "input", "keys": keys} | ({"id": n} if numbered else {}),
                            codec) for n, keys in enumerate(chunks))
    cuts = [1, 2, 3, 5, 7, 11, 13, 200, 1, 1, 1, 400]     # bytes per write, then repeat
    transport, at, n = guest.ws.transport, 0, 0
    while at < len(wire):
        size = cuts[n % len(cuts)]
        transport.write(wire[at:at + size])
        at, n = at + size, n + 1
        if n % 5 == 0:
            await asyncio.sleep(0.002)          # let the server read what is there so far
        if n % 40 == 0 and at < len(wire) and _is_boundary(wire, at):
            pong = await guest.ws.ping()         # a control frame between the inputs
            await asyncio.wait_for(pong, 10)
    finish = await host.expect("finish", timeout=20)
    assert finish["slot"] == 1 and finish["place"] == 1
    assert finish["accuracy"] == pytest.approx(len(body) / (len(body) + 1), abs=1e-4)
    assert await _errors_after_a_round_trip(guest) == []


def _is_boundary(wire: bytes, at: int) -> bool:
    """`at` falls between two frames of `wire` (masked, lengths < 65536)."""
    pos = 0
    while pos < at:
        size = wire[pos + 1] & 0x7F
        head = 2
        if size == 126:
            size, head = int.from_bytes(wire[pos + 2:pos + 4], "big"), 4
        pos += head + 4 + size
    return pos == at


async def test_a_frame_too_big_for_the_fast_path_is_answered_and_typing_goes_on(connect,
                                                                                make_server):
    roomy = await make_server(msg_rate=100000, msg_burst=100000)
    host, guest, _ = await _private_race(connect, target=roomy)
    # 20 KB of msgpack: more than the server splits off itself, less than max_frame
    assert (await guest.request({"type": "ping", "pad": "x" * 20_000}))["type"] == "pong"
    await host.send({"type": "start"})
    body = (await guest.expect("countdown"))["text"]["body"]
    await guest.expect("tick", where=lambda m: any(row[0] == 1 for row in m["p"]))
    for ch in body:
        await guest.send({"type": "input", "keys": ch})
    finish = await host.expect("finish", timeout=20)
    assert finish["slot"] == 1


async def test_an_unmasked_client_frame_closes_only_that_connection(connect):
    host, guest, _ = await _private_race(connect)
    await host.send({"type": "start"})
    await guest.expect("countdown")
    await guest.expect("tick", where=lambda m: any(row[0] == 1 for row in m["p"]))
    guest.ws.transport.write(Frame(Opcode.BINARY, msgpack.packb(
        {"type": "input", "keys": "a"})).serialize(mask=False))
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await guest.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1002
    assert (await host.request({"type": "ping"}))["type"] == "pong"


async def test_an_input_frame_over_max_frame_still_closes_with_1009(make_server, connect):
    """The server's own frame splitting must not take a frame that websockets would
    refuse for its size."""
    server = await make_server(max_frame=1024, msg_rate=100000, msg_burst=100000)
    host, guest, _ = await _private_race(connect, target=server)
    await host.send({"type": "start"})
    body = (await guest.expect("countdown"))["text"]["body"]
    await guest.expect("tick", where=lambda m: any(row[0] == 1 for row in m["p"]))
    await guest.send({"type": "input", "keys": body[0]})          # small: taken as usual
    await host.expect("tick", where=lambda m: any(row[0] == 1 and row[1] == 1 for row in m["p"]))
    await guest.send({"type": "input", "keys": "x" * 1500})       # a 1.5 KB frame
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await guest.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_a_binary_frame_inside_a_fragmented_message_is_a_protocol_error(connect):
    host, guest, _ = await _private_race(connect)
    await host.send({"type": "start"})
    await guest.expect("countdown")
    await guest.expect("tick", where=lambda m: any(row[0] == 1 for row in m["p"]))
    first = Frame(Opcode.BINARY, msgpack.packb({"type": "input", "keys": "a"}), fin=False)
    stray = Frame(Opcode.BINARY, msgpack.packb({"type": "input", "keys": "b"}))
    guest.ws.transport.write(first.serialize(mask=True))
    # A ping is allowed inside a fragmented message; its pong means the server has read
    # the first fragment and its task is waiting for the rest.
    await asyncio.wait_for(await guest.ws.ping(), 10)
    guest.ws.transport.write(stray.serialize(mask=True))
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await guest.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1002
    assert (await host.request({"type": "ping"}))["type"] == "pong"
