"""Liveness: this process's heartbeat in the directory, and its peers' checked.

A peer (the owner of a local player's room, or the edge of a remote player here)
whose heartbeat is missing long enough is lost; what that means for the players is
the cluster's to decide (Cluster._lost).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from server.cluster.directory import HEARTBEAT_S, Directory
from server.cluster.registry import Registry
from server.store.redis_adapter import RedisError

log = logging.getLogger("typerace.cluster")

TTL_MS = 3000              # a node whose heartbeat stopped for this long is dead...
LOST_AFTER_S = 2.0         # ...once peers saw it missing this long (covers a Redis restart)
# Missing: no heartbeat key, or no subscription to the bus (see _check_peers).


class Liveness:
    def __init__(self, directory: Directory, registry: Registry,
                 peers: Callable[[], set[str]], lost: Callable[[str], None],
                 each_beat: Callable[[], None] = lambda: None,
                 listening: Callable[[str], Awaitable[bool]] | None = None):
        self.directory = directory
        self._listening = listening  # whether a peer still listens to the bus
        self.registry = registry
        self._peers = peers          # the other processes this one depends on, now
        self._lost = lost            # called with a peer gone for LOST_AFTER_S
        self._each_beat = each_beat  # called every HEARTBEAT_S, Redis up or not
        self._missing_since: dict[str, float] = {}

    async def run(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            self._each_beat()
            try:
                await self.beat()
            except RedisError as exc:
                log.warning("cluster: heartbeat failed: %s", exc)
            except Exception:
                log.exception("cluster: heartbeat failed")

    async def beat(self) -> None:
        if await self.directory.heartbeat():
            # Redis did not know us (first beat, or it restarted empty): register all.
            self.registry.forget_all()
        self.registry.mark_all()
        await self.directory.reap()
        await self._check_peers()

    async def _check_peers(self) -> None:
        """A peer missing for LOST_AFTER_S is lost: the cluster drops what depended on it."""
        peers = self._peers()
        alive = await self.directory.alive(sorted(peers))
        if self._listening is not None:
            # A killed process's key lives on for up to TTL_MS, but Redis drops its
            # subscription at once: missing from then on, 2-3 s sooner. (A frozen one
            # keeps its subscription, and is found by its key.)
            alive = {node for node in alive if await self._listening(node)}
        now = time.monotonic()
        for node in peers:
            if node in alive:
                self._missing_since.pop(node, None)
            elif now - self._missing_since.setdefault(node, now) >= LOST_AFTER_S:
                log.warning("cluster: node %s is gone", node)
                self._missing_since.pop(node, None)
                try:    # its key may live on (a dead process's subscription went first)
                    await self.directory.gone(node)
                except RedisError as exc:
                    log.warning("cluster: cannot drop node %s from the directory: %s",
                                node, exc)
                self._lost(node)
        for node in list(self._missing_since):
            if node not in peers:
                del self._missing_since[node]
