"""The floor: the least a WebSocket server can do for the standard workload.

It groups connections in arrival order into rooms of 5, greets each with a
`countdown` (so the load generator starts typing), reads every input frame without
looking at it, and 10 times a second encodes one tick per room (the same map shape
and size as a real 5-racer tick: race_ms and five [slot, pos, wpm, place] rows) and
hands it to the room's 5 connections with the library's own broadcast (websockets) or
send (picows). Same library, same connection settings, same loop choice as the server:
whatever our server spends above this is game logic, validation and bookkeeping.

    python -m bench.floor --port 0 [--transport websockets|picows] [--loop asyncio|uvloop]

Keepalive is each library's own, a ping every 20 s: websockets' task per connection,
picows' auto-ping (a task per connection too).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import msgpack
from websockets.asyncio.server import ServerConnection, broadcast, serve

from bench.loadgen import GROUP, KEY_MS
from server.net.transport.wsconn import READ_SIZE

SUBPROTOCOL = "typerace.v1.msgpack"


class Connection(ServerConnection):
    """The one connection setting our server adds: socket reads of READ_SIZE, not
    asyncio's 256 KiB (see server.net.transport.wsconn.Connection.connection_made); without it the
    floor pays three memory syscalls per read on some runs and not on others."""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if hasattr(transport, "max_size"):
            transport.max_size = READ_SIZE


class Floor:
    def __init__(self, tick_hz: int = 10):
        self.interval = 1.0 / tick_hz
        self.start_ms = int(time.time() * 1000)
        self.rooms: list[list] = []       # the last room may not be full yet

    def join(self, ws) -> tuple[list, int]:
        if not self.rooms or len(self.rooms[-1]) >= GROUP:
            self.rooms.append([])
        room = self.rooms[-1]
        room.append(ws)
        return room, len(room) - 1

    async def handler(self, ws) -> None:
        room, slot = self.join(ws)
        await ws.send(self.greeting(slot))
        try:
            async for _ in ws:
                pass
        finally:
            room.remove(ws)

    def greeting(self, slot: int) -> bytes:
        return msgpack.packb({"type": "countdown", "start_server_ms": self.start_ms,
                              "seconds": 0, "slot": slot, "text": {"body": ""}})

    async def tick_loop(self, send_to_room=broadcast) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        packer = msgpack.Packer()
        while True:
            deadline += self.interval
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            race_ms = int(time.time() * 1000) - self.start_ms
            pos = int(race_ms / KEY_MS)
            for room in self.rooms:
                if room:
                    frame = packer.pack({"type": "tick", "race_ms": race_ms,
                                         "p": [[s, pos, 80, 0] for s in range(GROUP)]})
                    send_to_room(room, frame)


async def main(port: int, ready=print, transport: str = "websockets") -> None:
    floor = Floor()
    if transport == "picows":
        from bench.floor_picows import start
        server, send_to_room = await start(floor, port)
    else:
        server = await serve(floor.handler, "127.0.0.1", port, subprotocols=[SUBPROTOCOL],
                             ping_interval=20, ping_timeout=20, compression=None,
                             max_size=65536, create_connection=Connection)
        send_to_room = broadcast
    ticker = asyncio.create_task(floor.tick_loop(send_to_room))
    ready(f"floor listening on http://127.0.0.1:{server.sockets[0].getsockname()[1]}/")
    try:
        await asyncio.Future()
    finally:
        ticker.cancel()


def run() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--transport", choices=("websockets", "picows"), default="websockets")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args()
    coro = main(args.port, lambda line: print(line, flush=True), args.transport)
    try:
        if args.loop == "uvloop":
            import uvloop
            uvloop.run(coro)
        else:
            asyncio.run(coro)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    run()
