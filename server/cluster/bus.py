"""The bus port: send opaque byte messages to one node (process) of the cluster.

A node listens on its own address (its node id). Two adapters:
  * LocalBus: nodes in one process (direct calls on the next loop turn), used when
    everything runs in one process and by unit tests;
  * RedisBus (server.cluster.redis_bus): Redis pub/sub, one channel per node.
Delivery is in order per sender and at most once (a message to a dead node, or
sent while Redis is down, is lost): callers resynchronise by other means.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Callable

Handler = Callable[[bytes], None]


class Bus(ABC):
    @abstractmethod
    async def start(self, node: str, handler: Handler) -> None:
        """Deliver messages addressed to `node` to handler(payload), in order."""

    @abstractmethod
    def send(self, node: str, payload: bytes) -> None:
        """Queue `payload` for `node`; never blocks, never raises."""

    @abstractmethod
    async def close(self) -> None: ...


class LocalBus(Bus):
    """Nodes living in this process; `hub` is shared by the nodes that talk."""

    def __init__(self, hub: dict[str, Handler] | None = None):
        self.hub = {} if hub is None else hub
        self.node: str | None = None

    async def start(self, node: str, handler: Handler) -> None:
        self.node = node
        self.hub[node] = handler

    def send(self, node: str, payload: bytes) -> None:
        handler = self.hub.get(node)
        if handler is not None:   # call_soon keeps order and never re-enters the sender
            asyncio.get_running_loop().call_soon(handler, payload)

    async def close(self) -> None:
        if self.node is not None:
            self.hub.pop(self.node, None)
