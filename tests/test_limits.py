"""Limits a hostile or broken client runs into, each set by a flag: keepalive, frame
size, message rate, rooms, connections per address and in all, web origins, and the
time allowed before `hello`."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Opcode

from client_demo.client import Client, ServerError
from server.core.ratelimit import Quota
from server.net.limits import ConnectionLimits


def suppress_pongs(client: Client) -> None:
    """The client keeps reading and sending, but never answers a ping."""
    protocol = client.ws.protocol
    send_frame = protocol.send_frame
    protocol.send_frame = lambda frame: None if frame.opcode is Opcode.PONG else send_frame(frame)


def go_silent(client: Client) -> None:
    """The peer vanished without a FIN (half-open): it neither reads nor answers."""
    client.ws.transport.pause_reading()
    suppress_pongs(client)


async def eventually(condition, timeout: float = 10) -> None:
    """Wait until the server's state shows `condition()` (polled, not a fixed sleep)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def wait_closed(client: Client, timeout: float = 10) -> ConnectionClosed:
    """Read until the server closes the connection; return how it closed."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await client.ws.recv()
    except ConnectionClosed as closed:
        return closed


@pytest.mark.parametrize("peer", [suppress_pongs, go_silent])
async def test_a_dead_peer_is_detected_by_keepalive_and_its_seat_is_held(
        make_server, connect, peer):
    server = await make_server(ping_interval_s=0.1, ping_timeout_s=0.3, reconnect_grace_s=60)
    ann = await connect("Ann", target=server)
    joined = await ann.request({"type": "create_room"})
    bob = await connect("Bob", target=server)
    bob_slot = (await bob.request({"type": "join_room", "code": joined["room"]["code"]}))["slot"]

    peer(bob)
    update = await ann.expect("room", where=lambda m: any(
        p["name"] == "Bob" and not p["connected"] for p in m["room"]["players"]))
    assert [p["slot"] for p in update["room"]["players"] if p["name"] == "Bob"] == [bob_slot]
    assert bob.player_id not in server.conns

    # Within the grace period Bob's token brings him back to the same seat.
    again = await connect("Bob", target=server, token=bob.welcome["token"])
    back = await again.expect("joined")
    assert back["room"]["room_id"] == joined["room"]["room_id"] and back["slot"] == bob_slot
    await ann.expect("room", where=lambda m: all(p["connected"] for p in m["room"]["players"]))
    bob.ws.transport.abort()


async def test_a_live_client_that_answers_pings_stays_connected(make_server, connect):
    server = await make_server(ping_interval_s=0.05, ping_timeout_s=0.3, practice_countdown_s=1)
    ann = await connect("Ann", target=server)
    await ann.request({"type": "practice"})
    # A practice countdown of 1 s: twenty pings, three ping timeouts, go by before it races.
    await ann.expect("room", where=lambda m: m["room"]["state"] == "racing")
    assert ann.player_id in server.conns
    assert (await ann.request({"type": "ping"}))["type"] == "pong"


async def test_a_connection_that_never_says_hello_is_closed(make_server):
    server = await make_server(hello_timeout_s=0.3)
    client = await Client.connect(f"ws://127.0.0.1:{server.port}/ws", "json")
    closed = await wait_closed(client)
    assert closed.rcvd.code == 1008 and closed.rcvd.reason == "no hello in time"
    await eventually(lambda: server.limits.total == 0)
    assert server.metrics.dropped_no_hello._value.get() == 1


async def test_an_oversized_frame_closes_the_connection_with_1009(make_server, connect):
    server = await make_server(max_frame=1024)
    ann = await connect("Ann", target=server)
    await ann.send({"type": "submit_text", "title": "t", "body": "x" * 2000})
    closed = await wait_closed(ann)
    assert closed.rcvd.code == 1009


async def test_a_flood_is_refused_then_closed_with_1008(make_server, connect):
    server = await make_server(msg_rate=1, msg_burst=5)
    ann = await connect("Ann", target=server)        # hello took one token
    for _ in range(4):
        await ann.send({"type": "list_races"})
    await ann.send({"type": "list_races"})
    refused = await ann.expect("error")
    assert refused["code"] == "rate_limited"
    for _ in range(10):
        try:
            await ann.send({"type": "list_races"})
        except ConnectionClosed:
            break
    closed = await wait_closed(ann)
    assert closed.rcvd.code == 1008 and closed.rcvd.reason == "message flood"
    assert server.metrics.dropped_flood._value.get() == 1


async def test_a_player_sits_in_one_room_at_a_time(make_server, connect):
    server = await make_server()
    ann = await connect("Ann", target=server)
    first = await ann.request({"type": "create_room"})
    second = await ann.request({"type": "create_room"})
    assert first["room"]["room_id"] != second["room"]["room_id"]
    assert server.lobby.room_ids() == [second["room"]["room_id"]]   # the first closed
    with pytest.raises(ServerError) as gone:
        await ann.request({"type": "join_room", "code": first["room"]["code"]})
    assert gone.value.code == "room_not_found"


async def test_rooms_opened_per_address_are_limited(make_server, connect):
    server = await make_server(room_rate=2)
    ann = await connect("Ann", target=server)
    await ann.request({"type": "create_room"})
    await ann.request({"type": "practice"})
    with pytest.raises(ServerError) as refused:
        await ann.request({"type": "create_room"})
    assert refused.value.code == "too_many_rooms"
    # A fresh identity from the same address does not get a fresh quota.
    eve = await connect("Eve", target=server)
    with pytest.raises(ServerError) as again:
        await eve.request({"type": "practice"})
    assert again.value.code == "too_many_rooms"
    await eve.request({"type": "quick_race"})           # joining is not opening


async def test_connections_per_address_are_limited_before_the_handshake(make_server, connect):
    server = await make_server(max_conns_per_ip=2)
    ann = await connect("Ann", target=server)
    await connect("Bob", target=server)
    with pytest.raises(InvalidStatus) as refused:
        await Client.connect(f"ws://127.0.0.1:{server.port}/ws", "json")
    assert refused.value.response.status_code == 429
    assert server.metrics.refused_per_ip._value.get() == 1
    await ann.close()
    await eventually(lambda: server.limits.total < 2)    # the server saw Ann go
    await connect("Cat", target=server)


async def test_total_connections_are_limited(make_server, connect):
    server = await make_server(max_conns=1, max_conns_per_ip=0)
    await connect("Ann", target=server)
    with pytest.raises(InvalidStatus) as refused:
        await Client.connect(f"ws://127.0.0.1:{server.port}/ws", "json")
    assert refused.value.response.status_code == 503


async def test_concurrent_handshakes_past_the_limit_are_closed_with_1008(make_server):
    """The pre-check can be raced by handshakes in flight; the handler enforces it."""
    server = await make_server(max_conns_per_ip=3)
    url = f"ws://127.0.0.1:{server.port}/ws"
    results = await asyncio.gather(*(ws_connect(url) for _ in range(8)),
                                   return_exceptions=True)
    opened = [r for r in results if not isinstance(r, Exception)]
    kept = 0
    for ws in opened:
        try:
            await asyncio.wait_for(ws.recv(), 0.5)
        except TimeoutError:
            kept += 1                      # still open, waiting for our hello
        except ConnectionClosed as closed:
            assert closed.rcvd.code == 1008
        await ws.close()
    assert kept == 3
    assert all(isinstance(r, InvalidStatus) for r in results if isinstance(r, Exception))


async def test_only_allowed_web_origins_may_connect(make_server):
    server = await make_server(allowed_origin="https://typerace.example,https://b.example")
    url = f"ws://127.0.0.1:{server.port}/ws"
    with pytest.raises(InvalidStatus) as refused:
        await ws_connect(url, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    for origin in ("https://typerace.example", "https://b.example", None):
        ws = await ws_connect(url, origin=origin)     # None: a bot sends no Origin
        await ws.close()


def test_connection_counts_are_per_address_and_forget_closed_addresses():
    limits = ConnectionLimits(max_total=3, max_per_ip=2)
    assert limits.open("10.0.0.1") is None and limits.open("10.0.0.1") is None
    assert limits.open("10.0.0.1") == ConnectionLimits.PER_IP
    assert limits.open("10.0.0.2") is None
    assert limits.open("10.0.0.3") == ConnectionLimits.FULL
    for _ in range(2):
        limits.close("10.0.0.1")
    assert limits.by_ip == {"10.0.0.2": 1} and limits.total == 1


def test_an_address_quota_refills_with_time():
    quota = Quota(per_min=2)
    assert quota.take("a", 0.0) and quota.take("a", 0.0)
    assert not quota.take("a", 1.0)
    assert quota.take("b", 1.0)                       # another address has its own
    assert quota.take("a", 31.0)                      # one regained in 30 s
    assert not quota.take("a", 31.0)
