"""A client that stops reading never slows anyone else down, and never makes the
server hold its backlog: past --max-send-buffer it is dropped and its seat is held
like any lost connection's."""

from __future__ import annotations

import asyncio
import logging
import socket
import statistics

from websockets.asyncio.client import connect

from client_demo.client import Client
from protocol.codec import JSON
from server.net.logs import EVENT

BOUND = 16384


async def frozen_capable_client(port: int) -> Client:
    """A JSON client on a socket with a tiny receive buffer, so that when it stops
    reading, the server's writes pile up on the server's side quickly."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    ws = await connect(f"ws://127.0.0.1:{port}/ws", sock=sock,
                       subprotocols=[JSON.subprotocol], max_size=None)
    return Client(ws, JSON)


async def type_on_ticks(client: Client, body: str, slot: int, step: int) -> list[int]:
    """Type `step` characters each time a tick arrives; return the ticks' race_ms."""
    stamps: list[int] = []
    typed = 0
    seen = []
    while True:
        message = await client.recv(timeout=15)
        seen.append(message)
        if message["type"] == "tick":
            stamps.append(message["race_ms"])
            if typed < len(body):
                await client.send({"type": "input", "keys": body[typed:typed + step]})
                typed += step
        elif message["type"] == "finish" and message["slot"] == slot:
            client._unread = seen + client._unread     # still there for later expect()s
            return stamps
        elif message["type"] == "room" and message["room"]["state"] == "racing" and typed == 0:
            await client.send({"type": "input", "keys": body[:step]})
            typed = step


async def test_a_frozen_client_is_dropped_and_four_others_race_on_undisturbed(
        make_server, connect, caplog):
    caplog.set_level(logging.WARNING, logger="typerace")
    server = await make_server(max_send_buffer=BOUND, msg_rate=5000, msg_burst=5000,
                               countdown_s=1, reconnect_grace_s=60)
    ann = await connect("Ann", target=server)
    joined = await ann.request({"type": "create_room", "settings": {"max_players": 5}})
    room, slots, others = joined["room"], [joined["slot"]], [ann]
    for name in ("Bob", "Cat", "Dan"):
        other = await connect(name, target=server)
        slots.append((await other.request({"type": "join_room", "code": room["code"]}))["slot"])
        others.append(other)
    zed = await frozen_capable_client(server.port)
    await zed.hello("Zed")
    zed_slot = (await zed.request({"type": "join_room", "code": room["code"]}))["slot"]
    zed_id = zed.player_id

    await ann.send({"type": "start"})
    countdowns = [await c.expect("countdown") for c in others]
    body = countdowns[0]["text"]["body"]
    await zed.expect("countdown")
    reply = await zed.request({"type": "list_texts", "limit": 100})
    largest_frame = len(JSON.encode(reply).encode())

    # Zed stops reading but keeps asking for the text list (a big reply).
    zed.ws.transport.pause_reading()

    async def flood():
        try:
            for _ in range(3000):
                await zed.send({"type": "list_texts", "limit": 100})
                if zed_id not in server.conns:
                    return
        except Exception:
            pass                 # the server cut the connection: expected

    flooding = asyncio.create_task(flood())
    step = max(5, len(body) // 25)
    stamps = await asyncio.gather(*(type_on_ticks(c, body, s, step)
                                    for c, s in zip(others, slots)))
    await asyncio.wait_for(flooding, 30)

    # Zed was cut off, with its backlog bounded on the server's side ...
    dropped = [r for r in caplog.records
               if getattr(r, EVENT, ("",))[0] == "slow_consumer_dropped"]
    assert len(dropped) == 1
    fields = getattr(dropped[0], EVENT)[1]
    assert fields["player"] == zed_id
    # Checked before each write: at most one frame (plus a tick) past the bound.
    assert BOUND < fields["buffered"] <= BOUND + largest_frame + 1024
    assert server.metrics.dropped_slow._value.get() == 1
    # ... while its seat is held for a reconnection, as for any lost connection.
    update = await ann.expect("room", where=lambda m: any(
        p["player_id"] == zed_id and not p["connected"] for p in m["room"]["players"]))
    assert zed_slot in [p["slot"] for p in update["room"]["players"]]
    assert zed_id not in server.conns and server.limits.total == 4

    # The four others saw ticks at the tick rate all along (server-side race_ms stamps).
    for race_ms in stamps:
        gaps = [b - a for a, b in zip(race_ms, race_ms[1:])]
        assert len(gaps) >= 10
        assert 60 <= statistics.median(gaps) <= 160, gaps
        assert max(gaps) <= 1000, gaps
    for client in others:
        results = await client.expect("results", timeout=15)
        statuses = {r["name"]: r["status"] for r in results["ranking"]}
        assert statuses == {"Ann": "finished", "Bob": "finished", "Cat": "finished",
                            "Dan": "finished", "Zed": "left"}
    zed.ws.transport.abort()
