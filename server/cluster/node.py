"""Many processes, one set of races: forwarding, relaying, matchmaking, failure.

Every room lives in memory on exactly one process, its owner, which runs it with its
ordinary pure Lobby. The process a player is connected to is its "edge". When a local
player's room is owned elsewhere, the edge forwards the player's room requests over the
bus to the owner; the owner runs them through its normal handlers with a RemoteConn
(the same interface as Conn) whose frames are relayed back to the edge ALREADY ENCODED:
the owner encodes once per codec as usual, groups the remote recipients by edge and
sends one bus message per edge per loop turn; the edge writes the bytes to its sockets
as ready frames, without decoding or re-encoding anything.

With no --redis-url the app runs with server.cluster.SingleProcess instead, which
relays and forwards nothing, so a single process pays nothing.

Bus messages are the typed records of server/cluster/messages.py.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

import msgpack

from protocol.codec import codec_for
from protocol.messages import plain_input
from server.cluster import SingleProcess
from server.cluster.bus import Bus
from server.cluster.messages import (Back, Batch, Close, Dropped, Frames, Left, Member,
                                     Rating, Request, decode, encode)
from server.cluster.directory import HEARTBEAT_S, Directory
from server.cluster.registry import Registry
from server.cluster.remote import RemoteConn
from server.core.room import normalize_code
from server.net.handlers import accounts, identity
from server.net.handlers.identity import send_joined
from server.store.redis_adapter import Redis, RedisError

log = logging.getLogger("typerace.cluster")

TTL_MS = 3000              # a node whose heartbeat stopped for this long is dead...
LOST_AFTER_S = 2.0         # ...once peers saw it missing this long (covers a Redis restart)

ROOM_OPS = frozenset({"input", "leave", "start", "kick", "configure", "rematch"})


class Cluster(SingleProcess):
    """The Redis implementation of the cluster interface (server/cluster/__init__.py)."""

    def __init__(self, app, redis: Redis, bus: Bus, node: str | None = None):
        self.app = app
        self.redis = redis
        self.bus = bus
        self.node = node or secrets.token_hex(4)
        self.directory = Directory(redis, self.node, TTL_MS)
        self.remote: dict[str, str] = {}        # local player -> owner of its room
        self._pending: dict[str, list] = {}     # edge -> items to send this loop turn
        self._flush_scheduled = False
        self.registry = Registry(app, self.directory)   # what we wrote of our rooms
        self._missing_since: dict[str, float] = {}
        self._tasks: list[asyncio.Task] = []

    # ---- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        await self.bus.start(self.node, self._on_bus)
        try:
            await self._beat()
        except RedisError as exc:
            log.warning("cluster: first heartbeat failed (%s); retrying", exc)
        self._tasks = [asyncio.create_task(self._heartbeat_loop(), name="cluster-heartbeat"),
                       asyncio.create_task(self.registry.run(), name="cluster-sync")]
        log.info("cluster node %s is up", self.node)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._flush()
        await asyncio.sleep(0)
        await self.bus.close()
        try:   # leave at once rather than wait for our key to expire
            await self.redis.execute("DEL", "typerace:node:" + self.node)
            await self.directory.reap()
        except RedisError:
            pass
        await self.redis.close()

    # ---- relaying frames (owner side) ------------------------------------------

    def relay(self, conns: list, codec, frame) -> list:
        """Queue the frame for the remote members; return the local ones."""
        local = []
        by_edge: dict[str, list[str]] = {}
        for conn in conns:
            if conn.edge is None:
                local.append(conn)
            else:
                by_edge.setdefault(conn.edge, []).append(conn.player_id)
        for edge, pids in by_edge.items():
            self.send_soon(edge, Frames(codec.binary, frame, pids))
        return local

    def send_soon(self, node: str, item) -> None:
        self._pending.setdefault(node, []).append(item)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """One bus message per edge per loop turn, whatever the number of frames."""
        self._flush_scheduled = False
        pending, self._pending = self._pending, {}
        for node, items in pending.items():
            self.bus.send(node, encode(Batch(self.node, items)))

    def _send_to(self, node: str, message) -> None:
        self._flush()   # whatever was queued for `node` goes first
        self.bus.send(node, encode(message))

    # ---- receiving from the bus -------------------------------------------------

    def _on_bus(self, payload: bytes) -> None:
        message = decode(payload)
        kind = type(message)
        if kind is Batch:
            self._on_items(message.sender, message.items)
        elif kind is Dropped or kind is Left:
            conn = self.app.conns.get(message.pid)
            if conn is None or conn.edge != message.edge:
                return
            if kind is Left:
                self.registry.mark_player(message.pid)
                self.app.lobby.leave(message.pid, self.app.clock.now_ms())
            self._unregister_remote(conn)
            if kind is Dropped and message.pid not in self.app.lobby.seated:
                self.send_soon(message.edge, Member(message.pid, None))  # nothing to come back to
        elif kind is Back:
            self._reconnect_remote(self._remote_conn(message.edge, message.pid, message.name,
                                                     message.codec))

    def _on_items(self, sender: str, items: list) -> None:
        conns = self.app.conns
        for item in items:
            kind = type(item)
            if kind is Frames:
                targets = [c for c in map(conns.get, item.pids)
                           if c is not None and c.edge is None]
                if targets:
                    self.app.delivery.deliver(targets, _BINARY if item.binary else _TEXT,
                                              item.frame)
            elif kind is Member:
                self._member(sender, item.pid, item.owner)
            elif kind is Close:
                conn = conns.get(item.pid)
                if conn is not None and conn.edge is None:
                    conn.link.close(item.code, item.reason)
            elif kind is Request:
                self._on_request(sender, item)
            elif kind is Rating:
                conn = conns.get(item.pid)
                if conn is not None and conn.edge is None:
                    conn.rating = item.rating

    def _on_request(self, edge: str, request: Request) -> None:
        """A request of a player connected to `edge`, whose room is here (or to be)."""
        conn = self._remote_conn(edge, request.pid, request.name, request.codec, request.ip)
        conn.rating = request.rating
        if not conn.busy:
            keys = plain_input(request.message)
            if keys is not None:          # typing: at once, like a local input
                self.app.sessions.typed(conn, request.message, keys)
                return
            conn.busy = True
            self.app.tasks.spawn(self._run_requests(conn))
        conn.queue.append((request.message, request.prefer))

    def _member(self, sender: str, pid: str, owner: str | None) -> None:
        """The owner says where `pid` is a member after the last forwarded request."""
        if owner is None:
            if self.remote.get(pid) == sender:
                del self.remote[pid]
            return
        old = self.remote.get(pid)
        if old is not None and old != owner:
            self._send_to(old, Left(self.node, pid))
        self.remote[pid] = owner
        lobby = self.app.lobby
        if pid in lobby.seated or pid in lobby.watching:   # one room at a time
            self.registry.mark_player(pid)
            lobby.leave(pid, self.app.clock.now_ms())
            self.app.flush()

    # ---- the owner runs remote players' requests ---------------------------------

    def _remote_conn(self, edge: str, pid: str, name: str, codec: str,
                     ip: str = "?") -> RemoteConn:
        conn = self.app.conns.get(pid)
        if conn is None or conn.edge != edge:
            conn = RemoteConn(self, edge, pid, name, codec_for(codec), ip)
            self.app.conns[pid] = conn
        conn.name = name
        return conn

    async def _run_requests(self, conn: RemoteConn) -> None:
        """A remote player's requests, one after the other, like a local connection's."""
        try:
            while conn.queue:
                request, conn.prefer = conn.queue.popleft()
                await self.app.dispatcher.dispatch(conn, request)
                conn.prefer = None
                if request.get("type") == "input":
                    continue                  # typing never changes where one is
                lobby = self.app.lobby
                member = conn.player_id in lobby.seated or conn.player_id in lobby.watching
                self.send_soon(conn.edge, Member(conn.player_id, self.node if member else None))
        finally:
            conn.busy = False

    def _unregister_remote(self, conn: RemoteConn) -> None:
        conn.queue.clear()
        self.registry.mark_player(conn.player_id)
        self.app.sessions.unregister(conn)

    def _reconnect_remote(self, conn: RemoteConn) -> None:
        app = self.app
        seated = app.lobby.reconnect(conn.player_id, app.clock.now_ms())
        if seated is None:
            self.send_soon(conn.edge, Member(conn.player_id, None))
            return
        room, seat = seated
        app.flush()
        send_joined(app, conn, None, room, seat.slot)
        resume = app.lobby.racer_state(room, seat.slot)
        if resume is not None:
            app.delivery.send(conn, resume)
        self.send_soon(conn.edge, Member(conn.player_id, self.node))

    # ---- the edge: which requests go where ----------------------------------------

    async def intercept(self, conn, req, message: dict) -> bool:
        """Handle `req` here if it concerns the cluster; False: the app handles it."""
        kind = req.type
        if conn.edge is not None:               # we own the room; the edge decided
            if kind == "quick_race":
                await self._quick_race_here(conn, req, conn.prefer)
                return True
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
            await self._quick_race_here(conn, req, claim[0] if claim else None)
            return True
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
        if kind == "list_races":
            await self._list_races(conn, req)
            return True
        if kind in ("hello", "login"):
            await (identity.hello if kind == "hello" else accounts.login)(self.app, conn, req)
            owner = self.remote.get(conn.player_id)
            if owner is None and (kind == "login" or req.args.get("token")):
                owner = await self._seat_elsewhere(conn.player_id)
            if owner is not None:
                self._send_to(owner, Back(self.node, conn.player_id, conn.name,
                                          conn.codec.subprotocol))
            return True
        return False

    async def _seat_elsewhere(self, pid: str) -> str | None:
        """The process holding a seat for `pid`, when it is another one."""
        lobby = self.app.lobby
        if pid in lobby.seated or pid in lobby.watching:
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
        self.send_soon(owner, Request(conn.player_id, conn.name, conn.codec.subprotocol,
                                      message, prefer, conn.ip, conn.rating))

    def rating_changed(self, conn) -> None:
        """A remote player's new rating (its result was saved here): to its edge, which
        matches its next quick race."""
        if conn.edge is not None:
            self.send_soon(conn.edge, Rating(conn.player_id, conn.rating))

    def _drop_remote(self, pid: str) -> None:
        """The player joins a room here: it leaves its room on another process."""
        owner = self.remote.pop(pid, None)
        if owner is not None:
            self._send_to(owner, Left(self.node, pid))

    async def _claim(self, conn) -> tuple[str, str] | None:
        try:
            return await self.directory.claim(self.app.clock.now_ms(), conn.player_id,
                                              conn.rating,
                                              self.app.lobby.config.match_widen_ms)
        except RedisError as exc:   # Redis is down: race with the players of this process
            log.warning("cluster: matchmaking falls back to this process: %s", exc)
            return None

    async def _find(self, kind: str, code: str) -> str | None:
        """The owner of the room `code` names, when it is another live process."""
        lobby, clean = self.app.lobby, normalize_code(code)
        if kind == "join_room":
            if clean in lobby.codes:
                return None
            fields = ["c:" + clean]
        else:
            if clean in lobby.codes or clean in lobby.watch_codes or code in lobby.rooms:
                return None
            fields = ["c:" + clean, "w:" + clean, "r:" + code]
        try:
            found = await self.directory.lookup(fields)
        except RedisError as exc:
            log.warning("cluster: cannot look up a code: %s", exc)
            return None
        if found is None or found[0] == self.node:
            return None
        return found[0]

    async def _quick_race_here(self, conn, req, prefer: str | None) -> None:
        app = self.app
        self.registry.mark_player(conn.player_id)
        text = await app.library.random_text()
        room, seat = app.lobby.quick_race(conn.player_id, conn.name, text,
                                          app.clock.now_ms(), prefer, conn.rating)
        if prefer is not None:
            self.registry.claimed(prefer, conn.player_id, conn.rating)
        # Open the room to the other processes before anyone hears of it, so that a
        # player arriving elsewhere right after is matched into it.
        await self.registry.sync_now({room.room_id} | ({prefer} if prefer else set()))
        send_joined(app, conn, req, room, seat.slot)

    async def _list_races(self, conn, req) -> None:
        rooms = [r.view(False) for r in self.app.lobby.rooms.values()
                 if r.public and r.state != "finished"]
        try:
            rooms += [msgpack.unpackb(s, raw=False) for s in await self.directory.summaries()]
        except RedisError as exc:
            log.warning("cluster: listing this process's races only: %s", exc)
        self.app.delivery.reply(conn, req, {"type": "races", "rooms": rooms})

    def disconnected(self, conn) -> None:
        """A local connection closed (after the app unregistered it)."""
        if conn.edge is not None:
            return
        owner = self.remote.get(conn.player_id)
        if owner is not None:    # kept: the player may say hello again here
            self._send_to(owner, Dropped(self.node, conn.player_id))

    async def room_created(self, room) -> None:
        await self.registry.room_created(room)

    # ---- liveness -----------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await self._beat()
            except RedisError as exc:
                log.warning("cluster: heartbeat failed: %s", exc)
            except Exception:
                log.exception("cluster: heartbeat failed")

    async def _beat(self) -> None:
        if await self.directory.heartbeat():
            # Redis did not know us (first beat, or it restarted empty): register all.
            self.registry.forget_all()
        self.registry.mark_all()
        await self.directory.reap()
        await self._check_peers()

    async def _check_peers(self) -> None:
        """Players whose room's owner died get room_lost; dead edges' players drop."""
        peers = set(self.remote.values())
        peers.update(c.edge for c in self.app.conns.values() if c.edge is not None)
        peers.discard(self.node)
        alive = await self.directory.alive(sorted(peers))
        now = time.monotonic()
        for node in peers:
            if node in alive:
                self._missing_since.pop(node, None)
            elif now - self._missing_since.setdefault(node, now) >= LOST_AFTER_S:
                self._lost(node)
        for node in list(self._missing_since):
            if node not in peers:
                del self._missing_since[node]

    def _lost(self, node: str) -> None:
        log.warning("cluster: node %s is gone", node)
        self._missing_since.pop(node, None)
        app = self.app
        for pid, owner in list(self.remote.items()):
            if owner == node:
                del self.remote[pid]
                conn = app.conns.get(pid)
                if conn is not None and conn.edge is None:
                    app.delivery.send(conn, {"type": "error", "code": "room_lost",
                                    "message": "the server running your room stopped; "
                                               "the race is lost, you can join another"})
        for conn in [c for c in app.conns.values() if c.edge == node]:
            self._unregister_remote(conn)
        app.flush()


class _Frames:
    """The codec of relayed frames, as delivery sees it: only whether they are binary."""

    def __init__(self, binary: bool):
        self.binary = binary


_BINARY, _TEXT = _Frames(True), _Frames(False)


async def start_cluster(app, redis_url: str) -> Cluster:
    from server.cluster.redis_bus import RedisBus

    redis = await Redis.connect(redis_url)
    cluster = Cluster(app, redis, RedisBus(redis))
    await cluster.start()
    return cluster
