"""Keepalive for every connection from one task.

websockets runs a keepalive task per connection (a task, its coroutine and a sleeping
timer: about 1 KiB each, for a ping every 20 s). Here one task wakes a few times per
interval and, for each open connection: pings it once `interval` seconds have passed
since its last ping (or its opening) and no pong is awaited; fails it, as websockets
would (close 1011 "keepalive ping timeout"), when a pong is `timeout` seconds late.
Pings and closes run in short-lived tasks: websockets' ping() waits while a connection's
send buffer is full, and that must not hold up the others.
"""

from __future__ import annotations

import asyncio

from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.protocol import State


class Keepalive:
    def __init__(self, interval: float, timeout: float):
        self.interval = interval
        self.timeout = timeout
        self.conns: set = set()        # open connections (server.net.wsconn.Connection)
        self._tasks: set[asyncio.Task] = set()
        self._loop_task: asyncio.Task | None = None

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name="keepalive")

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._loop_task] if self._loop_task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def add(self, ws) -> None:
        ws.keepalive_at = asyncio.get_running_loop().time()
        self.conns.add(ws)

    def discard(self, ws) -> None:
        self.conns.discard(ws)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        step = max(0.01, min(self.interval, self.timeout) / 4)
        while True:
            await asyncio.sleep(step)
            now = loop.time()
            for ws in list(self.conns):
                if ws.protocol.state is not State.OPEN:
                    continue                  # closing: websockets' close timeout governs
                pong = ws.keepalive_pong
                if pong is not None:
                    if pong.done():
                        ws.keepalive_pong = None
                    elif now - ws.keepalive_at >= self.timeout:
                        self.conns.discard(ws)
                        self._spawn(self._fail(ws))
                    continue
                if now - ws.keepalive_at >= self.interval:
                    ws.keepalive_at = now
                    self._spawn(self._ping(ws))

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _ping(ws) -> None:
        try:
            ws.keepalive_pong = await ws.ping()
        except ConnectionClosed:
            pass

    @staticmethod
    async def _fail(ws) -> None:
        try:
            async with ws.send_context():
                ws.protocol.fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
        except ConnectionClosed:
            pass
