"""The bus over Redis pub/sub: node `n` listens on channel `typerace:bus:n`.

Messages are published by one sender task in the order they were queued, so what a
node sends to another arrives in order. While Redis is unreachable, messages are
dropped (pub/sub would lose them anyway) and the sender carries on.
"""

from __future__ import annotations

import asyncio
import logging

from server.cluster.bus import Bus, Handler
from server.store.redis_adapter import Redis, RedisError

log = logging.getLogger("typerace.bus")

PREFIX = "typerace:bus:"


class RedisBus(Bus):
    def __init__(self, redis: Redis, max_queue: int = 100_000):
        self.redis = redis
        self.max_queue = max_queue
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._sender: asyncio.Task | None = None
        self.node: str | None = None
        self.dropped = 0

    async def start(self, node: str, handler: Handler) -> None:
        self.node = node
        await self.redis.subscribe([PREFIX + node], lambda _channel, payload: handler(payload))
        self._sender = asyncio.create_task(self._send_loop(), name="bus-sender")

    def send(self, node: str, payload: bytes) -> None:
        if self._queue.qsize() >= self.max_queue:   # Redis is gone for long: don't grow forever
            self.dropped += 1
            return
        self._queue.put_nowait((node, payload))

    async def _send_loop(self) -> None:
        while True:
            node, payload = await self._queue.get()
            try:
                await self.redis.publish(PREFIX + node, payload)
            except RedisError as exc:
                self.dropped += 1
                log.warning("bus: message to %s lost: %s", node, exc)

    async def close(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
        if self.node is not None:
            await self.redis.unsubscribe([PREFIX + self.node])
