"""Inputs take a fast path through the server; it must behave exactly like the slow one."""

from __future__ import annotations

import msgpack
import pytest
from websockets.frames import Frame, Opcode

from client_demo.client import ServerError
from protocol.messages import KEYS_MAX


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
    assert not [m for m in guest.seen if m["type"] == "error"]


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
