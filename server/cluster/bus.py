"""The bus port: send opaque byte messages to one node (process) of the cluster.

A node listens on its own address (its node id). Two adapters:
  * LocalBus: nodes in one process (direct calls on the next loop turn), used when
    everything runs in one process and by unit tests;
  * RedisBus (server.cluster.redis_bus): Redis pub/sub, one channel per node.
Delivery is in order per sender and at most once (a message to a dead node, or
sent while Redis is down, is lost): callers resynchronise by other means. A message
sent with `keep` (relayed inputs: a racer's keys) is the exception: one that could not
be delivered is held, with every later kept one for that node, and sent again in order
until it arrives or the node is forgotten (declared gone); `backlog` says how much is
held, so the sender can refuse more visibly instead of holding without bound. While
kept messages wait for a node, the other messages for it wait behind them (nothing
overtakes), up to HOLD_BYTES; beyond it only kept ones are held.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Callable

Handler = Callable[[bytes], None]

# What may wait for one node while Redis is away: about 30 s of typing of 100 racers
# relayed to it (an input is ~60 bytes in its batch, 10 a second). Past it, an edge
# refuses its racers' inputs for that node with `unavailable` (they send them again).
HOLD_BYTES = 2 * 1024 * 1024


class Bus(ABC):
    hold_bytes = HOLD_BYTES

    @abstractmethod
    async def start(self, node: str, handler: Handler) -> None:
        """Deliver messages addressed to `node` to handler(payload), in order."""

    @abstractmethod
    def send(self, node: str, payload: bytes, keep: bool = False) -> None:
        """Queue `payload` for `node`; never blocks, never raises."""

    def backlog(self, node: str) -> int:
        """Bytes of kept messages for `node` waiting to be sent again."""
        return 0

    def forget(self, node: str) -> None:
        """`node` is gone: what is held for it will never arrive."""

    async def listening(self, node: str) -> bool:
        """Whether `node` listens to the bus now (a process that died stops at once)."""
        return True

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

    def send(self, node: str, payload: bytes, keep: bool = False) -> None:
        handler = self.hub.get(node)
        if handler is not None:   # call_soon keeps order and never re-enters the sender
            asyncio.get_running_loop().call_soon(handler, payload)

    async def close(self) -> None:
        if self.node is not None:
            self.hub.pop(self.node, None)
