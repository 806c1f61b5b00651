"""The edge's side of the cluster: which of a local player's requests go where.

A request for a room on another process is forwarded to its owner; a quick race
claims a seat in the directory first (matchmaking across processes); codes are looked
up in the directory; a returning player is sent back to the process holding its seat.
Mixed into Cluster (server/cluster/node.py), whose port, node, remote (local player ->
owner of its room), _claims (local player -> the room its quick race claimed),
_awaiting (local player -> its forwarded request not answered yet), _keep (owners
whose pending items carry inputs), bus, registry, directory, send_soon and _send_to it
uses.
"""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

import msgpack

from protocol.codes import ErrorCode
from server.cluster.messages import Back, Dropped, Left, Request
from server.core.room import normalize_code
from server.store.redis_adapter import RedisError

log = logging.getLogger("typerace.cluster")

ROOM_OPS = frozenset({"input", "leave", "start", "kick", "configure", "rematch"})
# A request forwarded to a room's owner is answered within this long, or the player is
# told `unavailable` (the owner froze) or `room_lost` (it is declared gone first).
FORWARD_DEADLINE_S = 5.0


# A quick race takes a seat in a room of another process only once that room's players
# have waited this long (or it holds one player): a room is first offered to its own
# process's players, so that under load rooms fill where they were made and their
# inputs and ticks never cross Redis (a scattered room costs ~40 % of the cluster,
# docs/scaling.md). Shorter than the countdown (5 s), which starts with the second
# player: a player who makes its own room instead races about as soon. Measured with
# `python -m bench.matching` (docs/scaling.md): at 4 and 12 arrivals a second, 31 % and
# 17 % of races scattered against 100 % and 94 % with no wait, the time to a race
# unchanged (p50 4.6-5.0 s).
REMOTE_WAIT_MS = 2000


class Awaited(NamedTuple):
    owner: str
    request_id: int | None
    deadline: float             # time.monotonic()


class EdgeRouting:
    remote_wait_ms = REMOTE_WAIT_MS      # an attribute, so a bench can compare values

    async def intercept(self, conn, req, message: dict) -> bool:
        """Handle `req` here if it concerns the cluster; False: the app handles it."""
        kind = req.type
        if conn.edge is not None:               # we own the room; the edge decided
            return False
        pid = conn.player_id
        owner = self.remote.get(pid)
        if kind in ROOM_OPS:
            if owner is None:
                if kind != "input":      # typing changes nothing the directory shows
                    self.registry.mark_player(pid)
                return False
            self._forward(owner, conn, message)
            return True
        if kind == "quick_race":
            claim = await self._claim(conn)
            if claim is not None and claim[1] != self.node:
                self._forward(claim[1], conn, message, claim[0])
                return True
            self._drop_remote(pid)
            if claim is not None:               # the handler seats it there (matched)
                self._claims[pid] = claim[0]
            return False
        if kind in ("join_room", "watch"):
            found = await self._find(kind, req.args["code"])
            if found is not None:
                self._forward(found, conn, message)
                return True
            self._drop_remote(pid)
            return False
        if kind in ("create_room", "practice"):
            self._drop_remote(pid)
            return False
        return False

    async def admitted(self, conn, returning: bool) -> None:
        """A local player said hello or logged in: back to its room on another process."""
        if conn.edge is not None:
            return
        owner = self.remote.get(conn.player_id)
        if owner is None and returning:
            owner = await self._seat_elsewhere(conn.player_id)
        if owner is not None:
            self._send_to(owner, Back(self.node, conn.player_id, conn.name,
                                      conn.codec.subprotocol))

    async def _seat_elsewhere(self, pid: str) -> str | None:
        """The process holding a seat for `pid`, when it is another one."""
        if self.port.lobby.room_of(pid) is not None:
            return None
        try:
            found = await self.directory.lookup(["p:" + pid])
        except RedisError as exc:
            log.warning("cluster: cannot look up a returning player's seat: %s", exc)
            return None
        return found[0] if found is not None and found[0] != self.node else None

    def forwards(self, conn) -> bool:
        return conn.player_id in self.remote

    def forward(self, conn, message: dict) -> None:
        """A request of a local player, for the process that owns its room."""
        self._forward(self.remote[conn.player_id], conn, message)

    def _forward(self, owner: str, conn, message: dict, prefer: str | None = None) -> None:
        # Queued with the frames for `owner`: one bus message per loop turn carries them
        # all (inputs come 10 times a second per racer), in the order they were made.
        typing = message.get("type") == "input"
        if typing and self.bus.backlog(owner) >= self.bus.hold_bytes:
            # Redis has been away long: refused, visibly, rather than held without bound.
            self.port.delivery.send_error(conn, ErrorCode.UNAVAILABLE, "your keys could not "
                                         "reach the race's server; send them again",
                                         message.get("id"))
            return
        self.send_soon(owner, Request(conn.player_id, conn.name, conn.codec.subprotocol,
                                      message, prefer, conn.ip, conn.rating))
        if typing:
            self._keep.add(owner)               # held and sent again if Redis is away
        else:                                   # answered by a Member (node.py), or not
            self._awaiting[conn.player_id] = Awaited(
                owner, message.get("id"), time.monotonic() + FORWARD_DEADLINE_S)

    def _drop_remote(self, pid: str) -> None:
        """The player joins a room here: it leaves its room on another process."""
        owner = self.remote.pop(pid, None)
        if owner is not None:
            self._send_to(owner, Left(self.node, pid))

    async def _claim(self, conn) -> tuple[str, str] | None:
        try:
            return await self.directory.claim(self.port.clock.now_ms(), conn.player_id,
                                              conn.rating,
                                              self.port.lobby.config.match_widen_ms,
                                              self.remote_wait_ms)
        except RedisError as exc:   # Redis is down: race with the players of this process
            log.warning("cluster: matchmaking falls back to this process: %s", exc)
            return None

    async def _find(self, kind: str, code: str) -> str | None:
        """The owner of the room `code` names, when it is another live process."""
        watch = kind != "join_room"
        if self.port.lobby.has_code(code, watch):
            return None
        clean = normalize_code(code)
        fields = ["c:" + clean, "w:" + clean, "r:" + code] if watch else ["c:" + clean]
        try:
            found = await self.directory.lookup(fields)
        except RedisError as exc:
            log.warning("cluster: cannot look up a code: %s", exc)
            return None
        if found is None or found[0] == self.node:
            return None
        return found[0]

    def matched(self, conn) -> str | None:
        self.registry.mark_player(conn.player_id)    # the room it leaves, if any
        if conn.edge is not None:
            return conn.prefer            # the edge claimed it (a forwarded quick_race)
        return self._claims.pop(conn.player_id, None)

    async def quick_race_joined(self, conn, room, prefer: str | None) -> None:
        if prefer is not None:
            self.registry.claimed(prefer, conn.player_id, conn.rating)
        # Open the room to the other processes before anyone hears of it, so that a
        # player arriving elsewhere right after is matched into it.
        await self.registry.sync_now({room.room_id} | ({prefer} if prefer else set()))

    async def other_races(self) -> list[dict]:
        try:
            return [msgpack.unpackb(s, raw=False) for s in await self.directory.summaries()]
        except RedisError as exc:
            log.warning("cluster: listing this process's races only: %s", exc)
            return []

    def disconnected(self, conn) -> None:
        """A local connection closed (after the app unregistered it)."""
        if conn.edge is not None:
            return
        owner = self.remote.get(conn.player_id)
        if owner is not None:    # kept: the player may say hello again here
            self._send_to(owner, Dropped(self.node, conn.player_id))
