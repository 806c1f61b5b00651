"""The bus over Redis pub/sub: node `n` listens on channel `typerace:bus:n`.

Messages are published by one sender task in the order they were queued, so what a
node sends to another arrives in order. While Redis is unreachable, messages are
dropped (pub/sub would lose them anyway) and the sender carries on; except kept ones
(relayed inputs, see server/cluster/bus.py): a kept message that Redis refused, or that
no subscriber received (the node is resubscribing after a Redis restart), is held with
every later message for that node (up to hold_bytes) and published again, in order,
every RETRY_S.
"""

from __future__ import annotations

import asyncio
import collections
import logging

from server.cluster.bus import Bus, Handler
from server.store.redis_adapter import Redis, RedisError

log = logging.getLogger("typerace.bus")

PREFIX = "typerace:bus:"
# Held messages are tried again this often: a Redis restart's reconnection takes about
# as long, so a racer's held keys land a tenth of a second after Redis is back.
RETRY_S = 0.1


class RedisBus(Bus):
    def __init__(self, redis: Redis, max_queue: int = 100_000):
        self.redis = redis
        self.max_queue = max_queue
        self._queue: asyncio.Queue[tuple[str, bytes, bool]] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self._held: dict[str, collections.deque[bytes]] = {}   # node -> kept, unsent
        self._held_bytes: dict[str, int] = {}
        self.node: str | None = None
        self.dropped = 0

    async def start(self, node: str, handler: Handler) -> None:
        self.node = node
        await self.redis.subscribe([PREFIX + node], lambda _channel, payload: (
            payload and handler(payload)))      # (an empty one is a listening probe)
        self._tasks = [asyncio.create_task(self._send_loop(), name="bus-sender"),
                       asyncio.create_task(self._retry_loop(), name="bus-retry")]

    def send(self, node: str, payload: bytes, keep: bool = False) -> None:
        if self._queue.qsize() >= self.max_queue:   # Redis is gone for long: don't grow forever
            self.dropped += 1
            return
        self._queue.put_nowait((node, payload, keep))

    def backlog(self, node: str) -> int:
        return self._held_bytes.get(node, 0)

    def forget(self, node: str) -> None:
        if self._held.pop(node, None) is not None:
            self.dropped += 1
            del self._held_bytes[node]

    async def listening(self, node: str) -> bool:
        """Redis drops a process's subscription as soon as its connection closes (the
        process died), seconds before its heartbeat key expires."""
        return await self.redis.publish(PREFIX + node, b"") > 0

    def _hold(self, node: str, payload: bytes) -> None:
        self._held.setdefault(node, collections.deque()).append(payload)
        self._held_bytes[node] = self._held_bytes.get(node, 0) + len(payload)

    async def _send_loop(self) -> None:
        while True:
            node, payload, keep = await self._queue.get()
            if node in self._held:      # behind what waits for that node, or lost
                if keep or self._held_bytes[node] < self.hold_bytes:
                    self._hold(node, payload)
                else:
                    self.dropped += 1
            elif not await self._publish(node, payload, keep) and keep:
                self._hold(node, payload)

    async def _retry_loop(self) -> None:
        while True:
            await asyncio.sleep(RETRY_S)
            for node in list(self._held):
                held = self._held.get(node)
                while held and await self._publish(node, held[0], True):
                    if self._held.get(node) is not held:
                        break                       # forgotten meanwhile
                    self._held_bytes[node] -= len(held.popleft())
                if held is not None and not held and self._held.get(node) is held:
                    del self._held[node], self._held_bytes[node]

    async def _publish(self, node: str, payload: bytes, keep: bool) -> bool:
        """Whether `node` received it (a kept message counts only if someone listened)."""
        try:
            received = await self.redis.publish(PREFIX + node, payload)
        except RedisError as exc:
            if not keep:
                self.dropped += 1
                log.warning("bus: message to %s lost: %s", node, exc)
            return False
        return received > 0 or not keep

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.node is not None:
            await self.redis.unsubscribe([PREFIX + self.node])
