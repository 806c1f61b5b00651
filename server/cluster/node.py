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

from protocol.codec import codec_for
from protocol.messages import plain_input
from protocol.codes import ErrorCode
from server.cluster import AppPort, SingleProcess
from server.cluster.bus import Bus
from server.cluster.delays import RelayedDelays
from server.cluster.liveness import TTL_MS, Liveness
from server.cluster.messages import (Back, Batch, Close, Dropped, Frames, Left, Measure,
                                     Member, Rating, Request, Rtt, decode, encode)
from server.cluster.directory import Directory
from server.cluster.registry import Registry
from server.cluster.remote import RemoteConn
from server.cluster.routing import Awaited, EdgeRouting
from server.store.redis_adapter import Redis, RedisError

log = logging.getLogger("typerace.cluster")


class Cluster(EdgeRouting, RelayedDelays, SingleProcess):
    """The Redis implementation of the cluster interface (server/cluster/__init__.py):
    the owner's side (relaying frames, running remote players' requests) here, the
    edge's (which requests go where) in server/cluster/routing.py."""

    def __init__(self, port: AppPort, redis: Redis, bus: Bus, node: str | None = None):
        self.port = port
        self.redis = redis
        self.bus = bus
        self.node = node or secrets.token_hex(4)
        self.directory = Directory(redis, self.node, TTL_MS)
        self.remote: dict[str, str] = {}        # local player -> owner of its room
        self._claims: dict[str, str] = {}       # local player -> room its quick race claimed
        self._pending: dict[str, list] = {}     # edge -> items to send this loop turn
        self._flush_scheduled = False
        self._keep: set[str] = set()            # nodes whose pending items carry inputs
        self.registry = Registry(port.lobby, port.clock, self.directory)  # our rooms, written
        self._awaiting: dict[str, Awaited] = {}  # local player -> its forwarded request
        self.liveness = Liveness(self.directory, self.registry, self._peers, self._lost,
                                 self._expire_forwards, bus.listening)

    # ---- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        await self.bus.start(self.node, self._on_bus)
        try:
            await self.liveness.beat()
        except RedisError as exc:
            log.warning("cluster: first heartbeat failed (%s); retrying", exc)
        self.port.tasks.spawn_service(self.liveness.run(), "cluster-heartbeat")
        self.port.tasks.spawn_service(self.registry.run(), "cluster-sync")
        log.info("cluster node %s is up", self.node)

    async def stop(self) -> None:
        await self.port.tasks.cancel_services(timeout=5)
        self._flush()
        await asyncio.sleep(0)
        await self.bus.close()
        try:   # leave at once rather than wait for our key to expire
            await self.directory.gone(self.node)
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
        keep, self._keep = self._keep, set()
        for node, items in pending.items():   # a racer's keys survive a Redis outage
            self.bus.send(node, encode(Batch(self.node, items)), node in keep)

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
            conn = self.port.conns.get(message.pid)
            if conn is None or conn.edge != message.edge:
                return
            if kind is Left:
                self.registry.mark_player(message.pid)
                self.port.lobby.leave(message.pid, self.port.clock.now_ms())
            self._unregister_remote(conn)
            if kind is Dropped and not self.port.lobby.is_seated(message.pid):
                self.send_soon(message.edge, Member(message.pid, None))  # nothing to come back to
        elif kind is Back:
            self._reconnect_remote(self._remote_conn(message.edge, message.pid, message.name,
                                                     message.codec))

    def _on_items(self, sender: str, items: list) -> None:
        conns = self.port.conns
        for item in items:
            kind = type(item)
            if kind is Frames:
                targets = [c for c in map(conns.get, item.pids)
                           if c is not None and c.edge is None]
                if targets:
                    self.port.delivery.deliver(targets, _BINARY if item.binary else _TEXT,
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
            elif kind is Measure or kind is Rtt:
                self._on_delay(sender, item)

    def _on_request(self, edge: str, request: Request) -> None:
        """A request of a player connected to `edge`, whose room is here (or to be)."""
        conn = self._remote_conn(edge, request.pid, request.name, request.codec, request.ip)
        conn.rating = request.rating
        if not conn.busy:
            keys = plain_input(request.message)
            if keys is not None:          # typing: at once, like a local input
                self.port.typed(conn, request.message, keys)
                return
            conn.busy = True
            self.port.tasks.spawn(self._run_requests(conn))
        conn.queue.append((request.message, request.prefer))

    def _member(self, sender: str, pid: str, owner: str | None) -> None:
        """The owner says where `pid` is a member after the last forwarded request."""
        awaited = self._awaiting.get(pid)
        if awaited is not None and awaited.owner == sender:
            del self._awaiting[pid]             # answered
        if owner is None:
            if self.remote.get(pid) == sender:
                del self.remote[pid]
            return
        old = self.remote.get(pid)
        if old is not None and old != owner:
            self._send_to(old, Left(self.node, pid))
        self.remote[pid] = owner
        lobby = self.port.lobby
        if lobby.room_of(pid) is not None:   # one room at a time
            self.registry.mark_player(pid)
            lobby.leave(pid, self.port.clock.now_ms())
            self.port.flush()

    # ---- the owner runs remote players' requests ---------------------------------

    def _remote_conn(self, edge: str, pid: str, name: str, codec: str,
                     ip: str = "?") -> RemoteConn:
        conn = self.port.conns.get(pid)
        if conn is None or conn.edge != edge:
            conn = RemoteConn(self, edge, pid, name, codec_for(codec), ip)
            self.port.conns[pid] = conn
        conn.name = name
        return conn

    async def _run_requests(self, conn: RemoteConn) -> None:
        """A remote player's requests, one after the other, like a local connection's."""
        try:
            while conn.queue:
                request, conn.prefer = conn.queue.popleft()
                await self.port.dispatch(conn, request)
                conn.prefer = None
                if request.get("type") == "input":
                    continue                  # typing never changes where one is
                member = self.port.lobby.room_of(conn.player_id) is not None
                self.send_soon(conn.edge, Member(conn.player_id, self.node if member else None))
        finally:
            conn.busy = False

    def _unregister_remote(self, conn: RemoteConn) -> None:
        conn.queue.clear()
        self.registry.mark_player(conn.player_id)
        self.port.unregister(conn)

    def _reconnect_remote(self, conn: RemoteConn) -> None:
        back = self.port.resume_seat(conn, self.port.clock.now_ms())
        self.port.flush()
        self.send_soon(conn.edge, Member(conn.player_id, self.node if back else None))

    def rating_changed(self, conn) -> None:
        """A remote player's new rating (its result was saved here): to its edge, which
        matches its next quick race."""
        if conn.edge is not None:
            self.send_soon(conn.edge, Rating(conn.player_id, conn.rating))

    async def room_created(self, room) -> None:
        await self.registry.room_created(room)

    # ---- a lost peer (server/cluster/liveness.py finds it) ----------------------

    def _peers(self) -> set[str]:
        """The processes owning our players' rooms or asked for one (a forwarded request
        not answered yet), and the edges of remote players here."""
        peers = set(self.remote.values())
        peers.update(awaited.owner for awaited in self._awaiting.values())
        peers.update(c.edge for c in self.port.conns.values() if c.edge is not None)
        peers.discard(self.node)
        return peers

    def _lost(self, node: str) -> None:
        """A peer is gone: players whose room it owned get room_lost; its players here drop."""
        port = self.port
        self.bus.forget(node)
        for pid, awaited in list(self._awaiting.items()):
            if awaited.owner == node:           # asked of it, never answered: say so now
                del self._awaiting[pid]
                self._unanswered(pid, awaited, ErrorCode.ROOM_LOST, "the server running that "
                                 "room stopped; try another race")
        for pid, owner in list(self.remote.items()):
            if owner == node:
                del self.remote[pid]
                conn = port.conns.get(pid)
                if conn is not None and conn.edge is None:
                    port.delivery.send_error(conn, ErrorCode.ROOM_LOST, "the server running your "
                                            "room stopped; the race is lost, you can "
                                            "join another", None)
        for conn in [c for c in port.conns.values() if c.edge == node]:
            self._unregister_remote(conn)
        port.flush()


    def _expire_forwards(self) -> None:
        """Requests forwarded FORWARD_DEADLINE_S ago and not answered (the owner froze,
        or died and is not declared gone yet) get `unavailable`, so no request waits for
        ever; the player can ask again."""
        now = time.monotonic()
        for pid, awaited in list(self._awaiting.items()):
            if now >= awaited.deadline:
                del self._awaiting[pid]
                self._unanswered(pid, awaited, ErrorCode.UNAVAILABLE, "the server running "
                                 "that room did not answer; try again")

    def _unanswered(self, pid: str, awaited: "Awaited", code: ErrorCode, text: str) -> None:
        conn = self.port.conns.get(pid)
        if conn is not None and conn.edge is None:
            self.port.delivery.send_error(conn, code, text, awaited.request_id)
            self.port.flush()


class _Frames:
    """The codec of relayed frames, as delivery sees it: only whether they are binary."""

    def __init__(self, binary: bool):
        self.binary = binary


_BINARY, _TEXT = _Frames(True), _Frames(False)


async def start_cluster(port: AppPort, redis_url: str) -> Cluster:
    from server.cluster.redis_bus import RedisBus

    redis = await Redis.connect(redis_url)
    cluster = Cluster(port, redis, RedisBus(redis))
    await cluster.start()
    return cluster
