"""Keepalive for every connection from one task, on either transport.

A task per connection (what websockets and picows each offer) costs a task, its
coroutine and a sleeping timer: about 1 KiB per connection, for a ping every 20 s.
Here one task wakes a few times per interval and, for each open link: pings it once
`interval` seconds have passed since its last ping (or its opening) and no pong is
awaited; fails it (close 1011 "keepalive ping timeout", then the TCP connection is
dropped) when a pong is `timeout` seconds late.

A link taking part has `keepalive_at` (when it was last pinged) and `pong_due` (a
ping awaits its pong), `ping()` and `fail(code, reason)`: plain calls, never awaited.
"""

from __future__ import annotations

import asyncio

from protocol.codes import CloseCode
from server.net.transport import KEEPALIVE_TIMEOUT


class Keepalive:
    def __init__(self, interval: float, timeout: float):
        self.interval = interval
        self.timeout = timeout
        self.links: set = set()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="keepalive")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def add(self, link) -> None:
        link.keepalive_at = asyncio.get_running_loop().time()
        self.links.add(link)

    def discard(self, link) -> None:
        self.links.discard(link)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        step = max(0.01, min(self.interval, self.timeout) / 4)
        while True:
            await asyncio.sleep(step)
            now = loop.time()
            for link in list(self.links):
                if not link.open:
                    continue                  # closing: the close timeout governs
                if link.pong_due:
                    if now - link.keepalive_at >= self.timeout:
                        self.links.discard(link)
                        link.fail(CloseCode.INTERNAL, KEEPALIVE_TIMEOUT)
                    continue
                if now - link.keepalive_at >= self.interval:
                    link.keepalive_at = now
                    link.ping()
